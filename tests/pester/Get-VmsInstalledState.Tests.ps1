# Pester tests of roles/windows_install/files/Get-VmsInstalledState.ps1 on the runner itself (no mocks).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Script = Get-RoleScript 'windows_install' 'Get-VmsInstalledState.ps1'
}

Describe 'Get-VmsInstalledState.ps1' {
    It 'finds existing services, not made-up ones, and reads the boot time' {
        $global:Ansible = New-AnsibleStub
        & $Script -Services @('EventLog', 'vms-deploy-no-such-service') -ProductIds @('{00000000-0000-0000-0000-000000000000}')
        $Ansible.Changed | Should -BeFalse
        @($Ansible.Result.services) | Should -Be @('EventLog')
        @($Ansible.Result.products).Count | Should -Be 0
        $limit = (Get-Date).ToUniversalTime().AddMinutes(1)
        [datetime]::Parse($Ansible.Result.boot_time).ToUniversalTime() | Should -BeLessThan $limit
    }
}
