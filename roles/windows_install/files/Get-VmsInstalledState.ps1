#Requires -Version 5.1
# Read-only, one round trip: which of the given services exist, which product ids are installed
# (uninstall keys, 64- and 32-bit), and the last boot time (to check a restart an installer started
# itself, exit code 1641). The decision is vms_deploy.render.windows_install.packages_to_install.
[CmdletBinding(SupportsShouldProcess)]  # read-only: must also run in check mode
param (
    [string[]] $Services = @(),
    [string[]] $ProductIds = @()
)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$uninstall = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
)
$present = @($Services | Where-Object { Get-Service -Name $_ -ErrorAction SilentlyContinue })
$products = @(foreach ($id in $ProductIds) {
        if (@($uninstall | Where-Object { Test-Path -LiteralPath (Join-Path -Path $_ -ChildPath $id) })) { $id }
    })
$Ansible.Result = @{
    services  = $present
    products  = $products
    boot_time = (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')
}
