# Pester tests of roles/windows_prechecks/files/Get-VmsHostFacts.ps1 on the runner itself (no mocks).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Script = Get-RoleScript 'windows_prechecks' 'Get-VmsHostFacts.ps1'
}

Describe 'Get-VmsHostFacts.ps1' {
    It 'reads free space, listeners with their process, services and features in one run' {
        $global:Ansible = New-AnsibleStub
        & $Script -Drive 'C:' -Services @('EventLog', 'vms-deploy-no-such-service') -Features @('Web-Server')
        $Ansible.Result.free_bytes | Should -BeGreaterThan 0
        @($Ansible.Result.listeners | Where-Object { $_.protocol -eq 'tcp' }).Count | Should -BeGreaterThan 0
        @($Ansible.Result.services) | Should -Be @('EventLog')
    }

    It 'reports a drive that does not exist as null' {
        $global:Ansible = New-AnsibleStub
        & $Script -Drive 'Q:'
        $Ansible.Result.free_bytes | Should -BeNullOrEmpty
    }
}
