#Requires -Version 5.1
# Create a folder that only SYSTEM and the local Administrators can open (issue 14, item 1).
#
# The XProtect arguments file holds the service account's password, and win_copy only creates missing
# parent folders when dest is itself a folder (win_copy.ps1: "Destination directory ... does not exist").
# So the folder is made here first, with inheritance off and exactly two full-control entries, named by
# SID so a localized Windows ("Administratoren") works too.
#
# Input  : -Path. Output: $Ansible.Result = {created, acl_changed}; $Ansible.Changed when either is true.
# Check mode (-WhatIf) reports what it would do and changes nothing.
[CmdletBinding(SupportsShouldProcess)]
param ([Parameter(Mandatory)] [string] $Path)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$allowed = @('S-1-5-18', 'S-1-5-32-544')  # LocalSystem, BUILTIN\Administrators

function Test-VmsPrivateAcl([System.Security.AccessControl.DirectorySecurity] $Acl) {
    # True when inheritance is off and the only entries are full control for the allowed SIDs.
    if (-not $Acl.AreAccessRulesProtected) { return $false }
    $rules = @($Acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier]))
    $sids = @($rules | Where-Object {
            $_.AccessControlType -eq 'Allow' -and $_.FileSystemRights -eq 'FullControl' } | ForEach-Object { $_.IdentityReference.Value })
    return ($rules.Count -eq $allowed.Count) -and -not (Compare-Object -ReferenceObject $allowed -DifferenceObject $sids)
}

function New-VmsPrivateAcl {
    $acl = [System.Security.AccessControl.DirectorySecurity]::new()
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in $allowed) {
        $rule = [System.Security.AccessControl.FileSystemAccessRule]::new(
            [System.Security.Principal.SecurityIdentifier]::new($sid), 'FullControl',
            'ContainerInherit, ObjectInherit', 'None', 'Allow')
        $acl.AddAccessRule($rule)
    }
    return $acl
}

$exists = Test-Path -LiteralPath $Path -PathType Container
if (-not $exists -and (Test-Path -LiteralPath $Path)) { throw "$Path exists and is a file, not a folder: remove it or set vms_win_xprotect_args_file elsewhere" }
$aclOk = $exists -and (Test-VmsPrivateAcl (Get-Acl -LiteralPath $Path))
$Ansible.Changed = (-not $exists) -or (-not $aclOk)
$Ansible.Result = @{ created = -not $exists; acl_changed = -not $aclOk }
if (-not $Ansible.Changed -or $WhatIfPreference) { return }

if (-not $exists) { $null = New-Item -ItemType Directory -Path $Path }
Set-Acl -LiteralPath $Path -AclObject (New-VmsPrivateAcl)
