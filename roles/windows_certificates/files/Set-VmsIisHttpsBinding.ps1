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

function Get-VmsHttpSysKey([string] $Ip, [int] $P) {
    # Python: http_sys_key.
    if ($Ip -in @('*', '', '0.0.0.0')) { $Ip = '0.0.0.0' }
    return '{0}:{1}' -f $Ip, $P
}

function Invoke-VmsNative([string] $FilePath, [string[]] $ArgumentList = @()) {
    # vms-deploy: Invoke-VmsNative (the same text in every script that runs a native command).
    # Windows PowerShell 5.1 under $ErrorActionPreference = 'Stop' turns a native command's first stderr
    # line, redirected with 2>&1 (or 2>$null), into a terminating NativeCommandError before
    # $LASTEXITCODE can be read. Here the preference is 'Continue' for this call only, each stderr record
    # becomes its text, and the exit code is read at once.
    $ErrorActionPreference = 'Continue'
    $lines = @(& $FilePath @ArgumentList 2>&1 | ForEach-Object {
            if ($_ -is [Management.Automation.ErrorRecord]) { "$($_.Exception.Message)" } else { "$_" } })
    $code = $LASTEXITCODE
    if ($null -eq $code) { $code = -1 }
    [pscustomobject] @{ ExitCode = [int] $code; Output = $lines }
}

function Get-VmsSslCertHash([string] $IpPort) {
    # http.sys' certificate for an ipport, or ''. Read from where http.sys keeps its SSL bindings (one
    # key per ip:port, the certificate hash in the REG_BINARY value SslCertHash), not from the labels of
    # "netsh http show sslcert", which are localised ("Zertifikathash" on German Windows; issue 22, item 4).
    $key = "HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo\$IpPort"
    $entry = Get-ItemProperty -LiteralPath $key -Name SslCertHash -ErrorAction SilentlyContinue
    if ($null -eq $entry) { return '' }
    return (@($entry.SslCertHash | ForEach-Object { ([byte] $_).ToString('X2') }) -join '')
}

function Remove-VmsSslCert([string] $IpPort) {
    $run = Invoke-VmsNative 'netsh.exe' @('http', 'delete', 'sslcert', "ipport=$IpPort")
    if ($run.ExitCode -ne 0) { throw "netsh http delete sslcert ipport=$IpPort exited $($run.ExitCode): $($run.Output -join ' ')" }
}

function Add-VmsSslCert([string] $IpPort, [string] $Hash) {
    # The application id is IIS' own ({4dc3e181-...}), as IIS Manager writes it.
    $run = Invoke-VmsNative 'netsh.exe' @('http', 'add', 'sslcert', "ipport=$IpPort", "certhash=$Hash", 'appid={4dc3e181-e14b-4a21-b022-59fc669b0914}', 'certstorename=MY')
    if ($run.ExitCode -ne 0) { throw "netsh http add sslcert ipport=$IpPort exited $($run.ExitCode): $($run.Output -join ' ')" }
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

function Exit-VmsNotInstalledYet([string] $What) {
    # Check mode on a host never deployed: IIS (the install stage adds it) or the site (the Valerus
    # installer creates it) is not there yet. Predict the binding the real run adds (issue 20, item 1).
    $Ansible.Changed = $true
    $Ansible.Result = @{ action = 'add'; removed_bindings = @(); deleted_sslcert = @(); note = "$What is not installed yet" }
    $Ansible.Diff = @{ before = ''; after = "https ${IPAddress}:${Port}:${HostName}`nhttp.sys $(Get-VmsHttpSysKey $IPAddress $Port): $Thumbprint`n" }
}

$Thumbprint = $Thumbprint.Replace(' ', '').ToUpperInvariant()
if (-not (Get-Module -ListAvailable -Name WebAdministration)) {
    if ($WhatIfPreference) { Exit-VmsNotInstalledYet 'IIS (WebAdministration)'; return }
    throw "IIS is not installed (no WebAdministration module): run the install stage (it adds the IIS features Valerus needs)"
}
Import-Module -Name WebAdministration
# Get-Website -Name does not filter on every IIS version: compare the names here.
if (-not @(Get-Website | Where-Object { $_.Name -eq $SiteName })) {
    if ($WhatIfPreference) { Exit-VmsNotInstalledYet "IIS site '$SiteName'"; return }
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
