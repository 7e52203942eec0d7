#Requires -Version 5.1
# Copy an installer from a UNC share to a local folder, in the WinRM session itself (issue 22, item 3).
#
# Why: installers run as SYSTEM (or the install account) through become. On the network SYSTEM is the
# computer account (DOMAIN\HOST$; anonymous in a workgroup), so a share that does not admit it fails the
# install, and Kerberos delegation or CredSSP do not help a become'd process. The copy runs in the WinRM
# session: with -ShareUser/-SharePassword it maps the share with those credentials (explicit
# credentials, not delegation: this works over NTLM and Kerberos alike), else with the session's own
# identity (which reaches a share only with CredSSP or Kerberos delegation). win_package then installs
# the local copy.
#
# Input  : -Source (\\server\share\...\file), -Destination (local file path; its folder must exist),
#          -ShareUser, -SharePassword (optional), -TestOnly (read-only: can the source be read?).
# Output : $Ansible.Result = {source, destination, copied, reachable, sha256}; $Ansible.Changed only when
#          the local copy was (or in check mode would be) written. An identical local copy (size and
#          SHA-256) is kept.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory)] [string] $Source,
    [string] $Destination = '',
    [string] $ShareUser = '',
    [string] $SharePassword = '',
    [switch] $TestOnly
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Ansible.Changed = $false

if ($Source -notmatch '^\\\\[^\\]+\\[^\\]+\\') { throw "installer source '$Source' is not a UNC path (\\server\share\file)" }
if (-not $TestOnly -and -not $Destination) { throw '-Destination is required to copy' }
$share = ($Source -split '\\')[0..3] -join '\'
$drive = $null
$readPath = $Source
try {
    if ($ShareUser) {
        $secure = ConvertTo-SecureString -String $SharePassword -AsPlainText -Force
        $credential = [Management.Automation.PSCredential]::new($ShareUser, $secure)
        $name = 'VmsInstallerShare' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $drive = New-PSDrive -Name $name -PSProvider FileSystem -Root $share -Credential $credential -Scope Script
        $readPath = '{0}:{1}' -f $name, $Source.Substring($share.Length)  # read through the mapped drive
    }
    $item = Get-Item -LiteralPath $readPath -ErrorAction SilentlyContinue
    if (-not $item) {
        $who = if ($ShareUser) { "as $ShareUser" } else { "as the WinRM session's user $([Security.Principal.WindowsIdentity]::GetCurrent().Name)" }
        throw "installer '$Source' cannot be read $who on $env:COMPUTERNAME. Fix: grant that account read access to $share, or set vms_win_installer_share_user and vms_win_installer_share_password (vaulted), or use an https:// source"
    }
    $result = @{ source = $Source; destination = $Destination; reachable = $true; copied = $false; sha256 = '' }
    if ($TestOnly) { $Ansible.Result = $result; return }
    $want = (Get-FileHash -LiteralPath $readPath -Algorithm SHA256).Hash
    $result.sha256 = $want
    $have = if (Test-Path -LiteralPath $Destination -PathType Leaf) { (Get-FileHash -LiteralPath $Destination -Algorithm SHA256).Hash } else { '' }
    if ($have -ne $want) {
        $Ansible.Changed = $true
        $result.copied = $true
        if (-not $WhatIfPreference) {
            $partial = "$Destination.partial"
            Copy-Item -LiteralPath $readPath -Destination $partial -Force
            Move-Item -LiteralPath $partial -Destination $Destination -Force
        }
    }
    $Ansible.Result = $result
}
finally {
    if ($drive) { Remove-PSDrive -Name $drive.Name -Force -ErrorAction SilentlyContinue }
}
