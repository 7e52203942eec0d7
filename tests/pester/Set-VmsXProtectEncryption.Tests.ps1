# Pester tests of roles/windows_certificates/files/Set-VmsXProtectEncryption.ps1, fed the golden input
# (tests/golden/windows/xprotect_distributed_dmz.json, host xrec1: certificate groups), with a stand-in
# ServerConfigurator (a .cmd that prints the groups and exits with the codes issue 14 lists). Needs an
# elevated runner (LocalMachine\My, HKLM); GitHub's hosted Windows runners are.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Script = Get-RoleScript 'windows_certificates' 'Set-VmsXProtectEncryption.ps1'
    $Golden = (Get-GoldenHost 'xprotect_distributed_dmz').xrec1.certificates.encryption
    $Fake = Join-Path $TestDrive 'ServerConfigurator.cmd'
    $Log = Join-Path $TestDrive 'configurator.log'
    Set-Content -LiteralPath $Fake -Encoding ascii -Value @"
@echo off
echo %* >> "$Log"
if "%1"=="/listcertificategroups" (
  echo Server certificate: 11111111-1111-4111-8111-111111111111
  echo Streaming media certificate: 22222222-2222-4222-8222-222222222222
  echo Mobile streaming media certificate: 33333333-3333-4333-8333-333333333333
  exit /b 0
)
if exist "$TestDrive\stderr" ( echo Another instance of Server Configurator is running 1>&2 )
if exist "$TestDrive\exitcode" ( set /p CODE=<"$TestDrive\exitcode" ) else ( set CODE=0 )
exit /b %CODE%
"@
    $cert = New-SelfSignedCertificate -DnsName xrec1.test -CertStoreLocation Cert:\LocalMachine\My
}

AfterAll {
    Remove-Item -LiteralPath "Cert:\LocalMachine\My\$($cert.Thumbprint)" -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath 'HKLM:\SOFTWARE\vms-deploy\XProtectEncryption' -Recurse -ErrorAction SilentlyContinue
}

Describe 'Set-VmsXProtectEncryption.ps1 (golden groups of xrec1)' {
    BeforeEach {
        Remove-Item -LiteralPath $Log, "$TestDrive\exitcode", "$TestDrive\stderr" -ErrorAction SilentlyContinue
        Remove-Item -LiteralPath 'HKLM:\SOFTWARE\vms-deploy\XProtectEncryption' -Recurse -ErrorAction SilentlyContinue
        $global:Ansible = New-AnsibleStub
    }

    It 'enables each group of the host by its GUID, once' {
        & $Script -Configurator $Fake -Thumbprint $cert.Thumbprint -Groups $Golden.Groups -ServiceAccount $Golden.ServiceAccount
        $calls = Get-Content -LiteralPath $Log
        $calls | Should -Contain "/quiet /enableencryption /thumbprint=$($cert.Thumbprint) /certificategroup=11111111-1111-4111-8111-111111111111 "
        $calls | Should -Contain "/quiet /enableencryption /thumbprint=$($cert.Thumbprint) /certificategroup=22222222-2222-4222-8222-222222222222 "
        @($calls | Where-Object { $_ -like '*33333333*' }).Count | Should -Be 0  # the mobile group is not this host's
        $global:Ansible = New-AnsibleStub
        & $Script -Configurator $Fake -Thumbprint $cert.Thumbprint -Groups $Golden.Groups -ServiceAccount $Golden.ServiceAccount
        $Ansible.Changed | Should -BeFalse
    }

    It 'names the meaning of an exit code' {
        Set-Content -LiteralPath "$TestDrive\exitcode" -Value '-2'
        { & $Script -Configurator $Fake -Thumbprint $cert.Thumbprint -Groups $Golden.Groups -ServiceAccount $Golden.ServiceAccount } |
            Should -Throw '*exited -2 (invalid arguments)*'
    }

    It 'refuses a group name that is not listed' {
        { & $Script -Configurator $Fake -Thumbprint $cert.Thumbprint -Groups @('Event server certificate') -ServiceAccount $Golden.ServiceAccount } |
            Should -Throw "*certificate group 'Event server certificate' is not one of*"
    }

    It 'runs nothing but the list in check mode' {
        & $Script -Configurator $Fake -Thumbprint $cert.Thumbprint -Groups $Golden.Groups -ServiceAccount $Golden.ServiceAccount -WhatIf
        $Ansible.Changed | Should -BeTrue
        @(Get-Content -LiteralPath $Log | Where-Object { $_ -like '*/enableencryption*' }).Count | Should -Be 0
    }

    It 'reruns after a run that stopped between two groups (marker key without this group, StrictMode)' {
        $null = New-Item -Path 'HKLM:\SOFTWARE\vms-deploy\XProtectEncryption' -Force
        Set-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\vms-deploy\XProtectEncryption' -Name '11111111-1111-4111-8111-111111111111' -Value $cert.Thumbprint
        { & $Script -Configurator $Fake -Thumbprint $cert.Thumbprint -Groups $Golden.Groups -ServiceAccount 'S-1-5-20' } | Should -Not -Throw
        $Ansible.Result.enabled | Should -Be @('Streaming media certificate')
    }

    It 'reads the exit code of a configurator that writes to stderr (Windows PowerShell 5.1, Stop preference)' {
        Set-Content -LiteralPath "$TestDrive\stderr" -Value 'x'
        Set-Content -LiteralPath "$TestDrive\exitcode" -Value '-3'
        { & $Script -Configurator $Fake -Thumbprint $cert.Thumbprint -Groups $Golden.Groups -ServiceAccount 'S-1-5-20' } |
            Should -Throw '*exited -3 (invalid argument value)*'
    }
}
