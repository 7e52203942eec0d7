# Pester tests of roles/windows_install/files/Set-VmsPrivateFolder.ps1 against the real file system and
# ACL API of the Windows runner (TestDrive), no mocks.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Script = Get-RoleScript 'windows_install' 'Set-VmsPrivateFolder.ps1'
}

Describe 'Set-VmsPrivateFolder.ps1' {
    BeforeEach { $global:Ansible = New-AnsibleStub; $path = Join-Path $TestDrive ('vms-deploy-' + [guid]::NewGuid()) }

    It 'creates the folder with inheritance off and only SYSTEM and Administrators' {
        & $Script -Path $path
        $Ansible.Changed | Should -BeTrue
        $acl = Get-Acl -LiteralPath $path
        $acl.AreAccessRulesProtected | Should -BeTrue
        $sids = @($acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier]) | ForEach-Object { $_.IdentityReference.Value } | Sort-Object)
        $sids | Should -Be @('S-1-5-18', 'S-1-5-32-544')
    }

    It 'changes nothing the second time' {
        & $Script -Path $path
        $global:Ansible = New-AnsibleStub
        & $Script -Path $path
        $Ansible.Changed | Should -BeFalse
    }

    It 'tightens an existing folder with inherited rights' {
        New-Item -ItemType Directory -Path $path | Out-Null
        & $Script -Path $path
        $Ansible.Result.acl_changed | Should -BeTrue
        (Get-Acl -LiteralPath $path).AreAccessRulesProtected | Should -BeTrue
    }

    It 'creates nothing in check mode' {
        & $Script -Path $path -WhatIf
        $Ansible.Changed | Should -BeTrue
        Test-Path -LiteralPath $path | Should -BeFalse
    }
}
