#Requires -Version 5.1
# Read-only facts for the vms-deploy prechecks, in one WinRM round trip: free space on the recording
# drive, listening TCP/UDP ports with their process, which of the product's services exist, and which
# Windows features are installed. The decisions are taken on the controller
# (vms_deploy.render.windows_install: port_conflicts, disk_problem, feature_problems).
[CmdletBinding(SupportsShouldProcess)]  # read-only: must also run in check mode
param (
    [string] $Drive = 'C:',
    [string[]] $Services = @(),
    [string[]] $Features = @()
)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$disk = Get-CimInstance -ClassName Win32_LogicalDisk -Filter ("DeviceID='{0}'" -f $Drive.TrimEnd('\'))
$names = @{}
foreach ($p in Get-Process) { $names[[int] $p.Id] = $p.ProcessName }
$listeners = @(
    Get-NetTCPConnection -State Listen -ErrorAction SilentlyContinue | ForEach-Object {
        @{ protocol = 'tcp'; port = [int] $_.LocalPort; pid = [int] $_.OwningProcess; process = $names[[int] $_.OwningProcess] }
    }
    Get-NetUDPEndpoint -ErrorAction SilentlyContinue | ForEach-Object {
        @{ protocol = 'udp'; port = [int] $_.LocalPort; pid = [int] $_.OwningProcess; process = $names[[int] $_.OwningProcess] }
    }
)
$present = @($Services | Where-Object { Get-Service -Name $_ -ErrorAction SilentlyContinue })
$featureState = @{}
if ($Features -and (Get-Command -Name Get-WindowsFeature -ErrorAction SilentlyContinue)) {
    foreach ($f in Get-WindowsFeature -Name $Features) { $featureState[$f.Name] = [bool] $f.Installed }
}
$Ansible.Result = @{
    free_bytes = if ($disk) { [int64] $disk.FreeSpace } else { $null }
    listeners  = @($listeners | Sort-Object { $_.protocol }, { $_.port } -Unique)
    services   = $present
    features   = $featureState
}
