#Requires -Version 5.1
# Put the site certificate on an IIS site's https binding, swapping the IIS binding and the http.sys
# certificate entry together, in one run (issue 14, item 2).
#
# Why not microsoft.iis.website: removing an https binding leaves http.sys' 0.0.0.0:<port> certificate
# entry behind; adding the new binding then fails with 0x800700B7 after the old binding is gone, on every
# rerun; and in check mode its edit path calls AddSslCertificate for real.
#
# Input  : -SiteName, -Port, -Thumbprint (LocalMachine\My), -IPAddress ('*'), -HostName ('').
# Output : $Ansible.Result = {action, removed_bindings, deleted_sslcert, before, after}; $Ansible.Changed
#          only when something changed. Check mode (-WhatIf) predicts and changes nothing.
# The decision is binding_swap_plan() in src/vms_deploy/render/windows_certificates.py (PS: Get-VmsBindingSwap).
# On an error every step done is undone in reverse order; the message says "rolled back" only when
# every undo step succeeded.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory)] [string] $SiteName,
    [Parameter(Mandatory)] [int] $Port,
    [Parameter(Mandatory)] [string] $Thumbprint,
    [string] $IPAddress = '*',
    [string] $HostName = ''
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module -Name WebAdministration

function Get-VmsHttpSysKey([string] $Ip, [int] $P) {
    # Python: http_sys_key.
    if ($Ip -in @('*', '', '0.0.0.0')) { $Ip = '0.0.0.0' }
    return '{0}:{1}' -f $Ip, $P
}

function Get-VmsSslCertHash([string] $IpPort) {
    # http.sys' certificate for an ipport, or '' (netsh prints nothing usable when there is none).
    $out = & netsh.exe http show sslcert "ipport=$IpPort" 2>$null
    foreach ($line in @($out)) {
        if ("$line" -match 'Certificate Hash\s*:\s*([0-9a-fA-F]{40})') { return $Matches[1].ToUpperInvariant() }
    }
    return ''
}

function Remove-VmsSslCert([string] $IpPort) {
    $out = & netsh.exe http delete sslcert "ipport=$IpPort" 2>&1
    if ($LASTEXITCODE -ne 0) { throw "netsh http delete sslcert ipport=$IpPort failed: $out" }
}

function Add-VmsSslCert([string] $IpPort, [string] $Hash) {
    # The application id is IIS' own ({4dc3e181-...}), as IIS Manager writes it.
    $out = & netsh.exe http add sslcert "ipport=$IpPort" "certhash=$Hash" 'appid={4dc3e181-e14b-4a21-b022-59fc669b0914}' 'certstorename=MY' 2>&1
    if ($LASTEXITCODE -ne 0) { throw "netsh http add sslcert ipport=$IpPort failed: $out" }
}

function Get-VmsBinding {
    # The site's bindings in the shape microsoft.iis.website_info returns (ip, port, hostname, protocol).
    foreach ($b in @(Get-WebBinding -Name $SiteName)) {
        $parts = "$($b.bindingInformation)" -split ':', 3
        [pscustomobject] @{ ip = $parts[0]; port = [int] $parts[1]; hostname = $parts[2]; protocol = "$($b.protocol)" }
    }
}

function Get-VmsBindingSwap($Bindings, [string] $Current) {
    # Python: binding_swap_plan (+ valerus_binding_plan for the bindings to remove).
    $want = $Thumbprint.Replace(' ', '').ToUpperInvariant()
    $targetIp = if ($IPAddress -in @('', '0.0.0.0')) { '*' } else { $IPAddress }
    $onPort = @($Bindings | Where-Object { $_.port -eq $Port })
    $target = @($onPort | Where-Object { $_.ip -eq $targetIp -and $_.hostname -eq $HostName })
    $targetHttps = @($target | Where-Object { $_.protocol -eq 'https' })
    $remove = @($onPort | Where-Object { ($_.protocol -eq 'https' -and -not ($_.ip -eq $targetIp -and $_.hostname -eq $HostName)) -or
            ($_.protocol -ne 'https' -and $_.ip -eq $targetIp -and $_.hostname -eq $HostName) })
    if ($targetHttps -and -not $remove -and $Current -eq $want) {
        return @{ action = 'none'; remove = @(); delete = @(); add = $false }
    }
    @{
        action = if ($remove -or $Current) { 'replace' } else { 'add' }
        remove = $remove
        delete = if ($Current) { @(Get-VmsHttpSysKey $targetIp $Port) } else { @() }
        add    = -not $targetHttps
    }
}

$Thumbprint = $Thumbprint.Replace(' ', '').ToUpperInvariant()
if (-not (Get-Website -Name $SiteName)) {
    throw "IIS site '$SiteName' not found: run the install stage (Valerus creates it) or set vms_win_valerus_site"
}
if (-not (Test-Path -LiteralPath "Cert:\LocalMachine\My\$Thumbprint") -and -not $WhatIfPreference) {
    throw "certificate $Thumbprint is not in LocalMachine\My: the import step must run first"
}
$ipPort = Get-VmsHttpSysKey $IPAddress $Port
$current = Get-VmsSslCertHash $ipPort
$bindings = @(Get-VmsBinding)
$swap = Get-VmsBindingSwap $bindings $current
$describe = { param($bs, $hash) (@($bs | ForEach-Object { '{0} {1}:{2}:{3}' -f $_.protocol, $_.ip, $_.port, $_.hostname }) -join "`n") + "`nhttp.sys ${ipPort}: $hash`n" }
$Ansible.Changed = $swap.action -ne 'none'
$Ansible.Result = @{
    action           = $swap.action
    removed_bindings = @($swap.remove | ForEach-Object { '{0}:{1}:{2}' -f $_.ip, $_.port, $_.hostname })
    deleted_sslcert  = @($swap.delete)
}
if ($swap.action -eq 'none') { return }
$Ansible.Diff = @{ before = & $describe $bindings $current; after = "https ${IPAddress}:${Port}:${HostName}`nhttp.sys ${ipPort}: $Thumbprint`n" }
if ($WhatIfPreference) { return }  # check mode: predicted above, nothing touched

$done = [Collections.Generic.List[object]]::new()
try {
    foreach ($b in $swap.remove) {
        Remove-WebBinding -Name $SiteName -IPAddress $b.ip -Port $b.port -HostHeader $b.hostname -Protocol $b.protocol
        $done.Add(@{ kind = 'binding'; binding = $b })
    }
    foreach ($key in $swap.delete) {
        Remove-VmsSslCert $key
        $done.Add(@{ kind = 'sslcert'; ipport = $key; hash = $current })
    }
    if ($swap.add) {
        New-WebBinding -Name $SiteName -IPAddress $IPAddress -Port $Port -HostHeader $HostName -Protocol https
        $done.Add(@{ kind = 'new-binding' })
    }
    Add-VmsSslCert $ipPort $Thumbprint
    $done.Add(@{ kind = 'new-sslcert' })
}
catch {
    $failure = $_
    $rollbackErrors = [Collections.Generic.List[string]]::new()
    for ($i = $done.Count - 1; $i -ge 0; $i--) {
        $step = $done[$i]
        try {
            switch ($step.kind) {
                'new-sslcert' { Remove-VmsSslCert $ipPort }
                'new-binding' { Remove-WebBinding -Name $SiteName -IPAddress $IPAddress -Port $Port -HostHeader $HostName -Protocol https }
                'sslcert' { Add-VmsSslCert $step.ipport $step.hash }
                'binding' { New-WebBinding -Name $SiteName -IPAddress $step.binding.ip -Port $step.binding.port -HostHeader $step.binding.hostname -Protocol $step.binding.protocol }
            }
        }
        catch { $rollbackErrors.Add("$($step.kind): $_") }
    }
    if ($rollbackErrors.Count -eq 0) { throw "binding change on '$SiteName' port $Port failed and was rolled back: $failure" }
    throw "binding change on '$SiteName' port $Port failed: $failure; the rollback ALSO failed ($($rollbackErrors -join '; ')): fix the site's bindings and 'netsh http show sslcert ipport=$ipPort' by hand"
}
