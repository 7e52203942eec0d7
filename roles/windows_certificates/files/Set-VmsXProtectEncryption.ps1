#Requires -Version 5.1
# Switch XProtect encryption on with the site certificate, per certificate group, through Server
# Configurator's command line (2020 R3 and later; issue 14, item 9), and give the service account read
# access to the certificate's private key.
#
# Must run as a Windows user with Milestone administrator rights (become: runas with that user's
# password, so the logon is local: no double hop); SYSTEM has no Milestone role.
#
# Server Configurator: /listcertificategroups prints each group with its GUID;
#   /quiet /enableencryption /thumbprint=<sha1> /certificategroup=<guid>
# exit codes 0 ok, -1 unknown error, -2 invalid arguments, -3 invalid argument value, -4 another
# instance is running (retried).
# Server Configurator has no documented "show" command, so what this script applied is recorded under
# HKLM:\SOFTWARE\vms-deploy\XProtectEncryption (group GUID -> thumbprint); a group already recorded with
# the thumbprint is not applied again. The role then verifies by the certificate the ports serve.
#
# Input  : -Configurator (path of ServerConfigurator.exe), -Thumbprint, -Groups (names as listed by
#          /listcertificategroups), -ServiceAccount (a SID such as 'S-1-5-20',
#          NETWORK SERVICE, or an account name).
# Output : $Ansible.Result = {groups: {name: guid}, enabled: [names], key_acl_changed}; check mode
#          (-WhatIf) predicts only.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory)] [string] $Configurator,
    [Parameter(Mandatory)] [string] $Thumbprint,
    [string[]] $Groups = @(),
    [Parameter(Mandatory)] [string] $ServiceAccount,
    [int] $BusyRetries = 6
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$marker = 'HKLM:\SOFTWARE\vms-deploy\XProtectEncryption'
$exitText = @{ 0 = 'ok'; -1 = 'unknown error'; -2 = 'invalid arguments'; -3 = 'invalid argument value'; -4 = 'another instance is running' }

function ConvertFrom-VmsGroupList([string[]] $Lines) {
    # "<name> <guid>" in any order on one line -> @{ name = guid }. Python twin: parse_certificate_groups.
    $map = [ordered] @{}
    foreach ($line in $Lines) {
        if ("$line" -match '(?<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})') {
            $guid = $Matches.guid.ToLowerInvariant()
            $name = ("$line" -replace [regex]::Escape($Matches.guid), '' -replace '[{}():=|\t]', ' ' -replace '\s+', ' ').Trim()
            if ($name) { $map[$name] = $guid }
        }
    }
    return $map
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

function Invoke-VmsConfigurator([string[]] $Arguments) {
    # Runs Server Configurator; retries while another instance runs (-4); throws with the code's meaning.
    for ($try = 0; $try -le $BusyRetries; $try++) {
        $run = Invoke-VmsNative $Configurator $Arguments
        $code = $run.ExitCode
        $out = $run.Output
        if ($code -ne -4) { break }
        Start-Sleep -Seconds 10
    }
    if ($code -ne 0) {
        $meaning = if ($exitText.ContainsKey($code)) { $exitText[$code] } else { 'undocumented exit code' }
        throw "Server Configurator $($Arguments -join ' ') exited $code ($meaning): $($out -join ' ')"
    }
    return $out
}

function Get-VmsRecordedThumbprint($Recorded, [string] $Guid) {
    # StrictMode-safe read of the marker (issue 22, item 2): the key can exist without a value for this
    # group (a run that failed between groups, a component added later); under Set-StrictMode 3.0
    # ".Value" of the missing property ($null) throws.
    if ($null -eq $Recorded) { return '' }
    $property = $Recorded.PSObject.Properties[$Guid]
    if ($null -eq $property) { return '' }
    return "$($property.Value)"
}

function Get-VmsKeyFile($Cert) {
    # The private key file of a machine key: CNG keys under Crypto\Keys, CSP keys under RSA\MachineKeys.
    $unique = $null
    $rsa = [Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Cert)
    $ecdsa = if (-not $rsa) { [Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($Cert) } else { $null }
    $key = if ($rsa) { $rsa } else { $ecdsa }
    if ($key -is [Security.Cryptography.RSACng] -or $key -is [Security.Cryptography.ECDsaCng]) { $unique = $key.Key.UniqueName }
    elseif ($key -is [Security.Cryptography.RSACryptoServiceProvider]) { $unique = $key.CspKeyContainerInfo.UniqueKeyContainerName }
    if (-not $unique) { throw "certificate $Thumbprint has no private key this script can locate (CNG or CSP machine key)" }
    foreach ($dir in @("$env:ProgramData\Microsoft\Crypto\Keys", "$env:ProgramData\Microsoft\Crypto\RSA\MachineKeys")) {
        $path = Join-Path -Path $dir -ChildPath $unique
        if (Test-Path -LiteralPath $path) { return $path }
    }
    throw "private key file $unique of certificate $Thumbprint not found"
}

$Thumbprint = $Thumbprint.Replace(' ', '').ToUpperInvariant()
if (-not (Test-Path -LiteralPath $Configurator -PathType Leaf)) {
    if ($WhatIfPreference) {
        # check mode before the install stage ran for real: nothing to ask yet, every group would be enabled
        $Ansible.Changed = $Groups.Count -gt 0
        $Ansible.Result = @{ groups = @{}; enabled = $Groups; key_acl_changed = $true; note = 'Server Configurator is not installed yet' }
        return
    }
    throw "Server Configurator not found at '$Configurator' (XProtect 2020 R3 or later has one): install the component first or set vms_win_xprotect_server_configurator"
}
$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
if ($identity.User.Value -eq 'S-1-5-18') { throw 'running as SYSTEM, which has no Milestone role: set vms_win_xprotect_admin_user' }
$cert = Get-Item -LiteralPath "Cert:\LocalMachine\My\$Thumbprint" -ErrorAction SilentlyContinue
if (-not $cert -and -not $WhatIfPreference) { throw "certificate $Thumbprint is not in LocalMachine\My: the import step must run first" }

# Private key: the service account needs Read.
$aclChanged = $false
if ($cert) {
    $keyFile = Get-VmsKeyFile $cert
    $acl = Get-Acl -LiteralPath $keyFile
    # A SID (S-1-5-20, NETWORK SERVICE) is the same on every display language; an account name is
    # localised ("NT-AUTORITÄT\NETZWERKDIENST" on German Windows) and only translated when given.
    if ($ServiceAccount -match '^S-1-[0-9-]+$') { $sid = [Security.Principal.SecurityIdentifier]::new($ServiceAccount) }
    else { $sid = ([Security.Principal.NTAccount] $ServiceAccount).Translate([Security.Principal.SecurityIdentifier]) }
    $has = @($acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier]) | Where-Object {
            $_.IdentityReference -eq $sid -and $_.AccessControlType -eq 'Allow' -and ($_.FileSystemRights -band [Security.AccessControl.FileSystemRights]::Read) -eq [Security.AccessControl.FileSystemRights]::Read })
    if (-not $has) {
        $aclChanged = $true
        if (-not $WhatIfPreference) {
            $acl.AddAccessRule([Security.AccessControl.FileSystemAccessRule]::new($sid, 'Read', 'Allow'))
            Set-Acl -LiteralPath $keyFile -AclObject $acl
        }
    }
}

function Find-VmsCertificateGroup($Listed, [string] $Name) {
    # Python: match_certificate_group. The exact name (any case), else the one listed name containing it.
    $exact = @($Listed.Keys | Where-Object { $_ -eq $Name })
    if ($exact) { return $exact[0] }
    $hits = @($Listed.Keys | Where-Object { $_.IndexOf($Name, [StringComparison]::OrdinalIgnoreCase) -ge 0 })
    if ($hits.Count -eq 1) { return $hits[0] }
    return $null
}

$listed = ConvertFrom-VmsGroupList (Invoke-VmsConfigurator @('/listcertificategroups'))
$ids = [ordered] @{}
foreach ($name in $Groups) {
    $hit = Find-VmsCertificateGroup $listed $name
    if (-not $hit) {
        throw "certificate group '$name' is not one of the groups Server Configurator lists ($(@($listed.Keys) -join '; ')): set vms_win_xprotect_certificate_groups to the exact names"
    }
    $ids[$name] = $listed[$hit]
}
$recorded = Get-ItemProperty -LiteralPath $marker -ErrorAction SilentlyContinue
$todo = @($ids.Keys | Where-Object { (Get-VmsRecordedThumbprint $recorded $ids[$_]) -ne $Thumbprint })
$Ansible.Changed = $aclChanged -or $todo.Count -gt 0
$Ansible.Result = @{ groups = $ids; enabled = $todo; key_acl_changed = $aclChanged }
if ($WhatIfPreference -or $todo.Count -eq 0) { return }

if (-not (Test-Path -LiteralPath $marker)) { $null = New-Item -Path $marker -Force }
foreach ($name in $todo) {
    $null = Invoke-VmsConfigurator @('/quiet', '/enableencryption', "/thumbprint=$Thumbprint", "/certificategroup=$($ids[$name])")
    Set-ItemProperty -LiteralPath $marker -Name $ids[$name] -Value $Thumbprint
}
