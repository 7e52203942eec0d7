# Pester tests of roles/windows_certificates/files/Set-VmsIisHttpsBinding.ps1, fed the golden input
# (tests/golden/windows/valerus_separate_app_server.json, host vgw: binding_script, current bindings).
# IIS (WebAdministration), netsh and http.sys' SslBindingInfo registry key are mocked: the mocks keep a
# binding list and an http.sys table the way IIS does, in particular http.sys' 0.0.0.0:3001 entry
# survives Remove-WebBinding. The script reads the current entry from the registry (SslCertHash,
# REG_BINARY), never from netsh's localised labels.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Script = Get-RoleScript 'windows_certificates' 'Set-VmsIisHttpsBinding.ps1'
    $Golden = (Get-GoldenHost 'valerus_separate_app_server').vgw.certificates
    $SelfSigned = '1' * 40
    function global:netsh.exe {
        # http show|add|delete sslcert ipport=...; a function wins over netsh.exe in command lookup
        $verb = $args[1]; $ipport = ($args[3] -replace '^ipport=', '')
        $global:LASTEXITCODE = 0
        switch ($verb) {
            'show' { if ($script:SslCert[$ipport]) { "    Zertifikathash               : $($script:SslCert[$ipport].ToLower())" } }  # German labels
            'delete' { if ($script:SslCert.Contains($ipport)) { $script:SslCert.Remove($ipport) } else { $global:LASTEXITCODE = 1 } }
            'add' {
                if ($script:SslCert.Contains($ipport)) { $global:LASTEXITCODE = 183; 'SSL Certificate add failed, Error: 183' }
                elseif ($script:FailAdd) { $global:LASTEXITCODE = 1; 'injected failure' }
                else { $script:SslCert[$ipport] = ($args[4] -replace '^certhash=', '') }
            }
        }
    }
}

AfterAll { Remove-Item -Path function:global:netsh.exe -ErrorAction SilentlyContinue }

Describe 'Set-VmsIisHttpsBinding.ps1 (golden input of vgw)' {
    BeforeEach {
        $script:FailAdd = $false
        $script:SslCert = [ordered] @{ '0.0.0.0:3001' = $SelfSigned }
        $script:Bindings = [Collections.Generic.List[object]]::new()
        $script:Bindings.Add([pscustomobject] @{ bindingInformation = '*:3001:'; protocol = 'https' })
        $script:Bindings.Add([pscustomobject] @{ bindingInformation = '*:3000:'; protocol = 'http' })
        $script:SiteName = $Golden.binding_script.SiteName
        $script:IisInstalled = $true
        Mock Get-Module { if ($script:IisInstalled) { [pscustomobject] @{ Name = 'WebAdministration' } } } -ParameterFilter { $ListAvailable }
        Mock Import-Module { $null }
        Mock Get-Website { [pscustomobject] @{ Name = $script:SiteName } }
        Mock Get-ItemProperty {
            $key = Split-Path -Path $LiteralPath -Leaf
            if ($script:SslCert[$key]) {
                [pscustomobject] @{ SslCertHash = [byte[]] @($script:SslCert[$key] -split '(..)' -ne '' | ForEach-Object { [Convert]::ToByte($_, 16) }) }
            }
        } -ParameterFilter { $LiteralPath -like 'HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo\*' }
        Mock Get-WebBinding { $script:Bindings }
        Mock Remove-WebBinding { $script:Bindings.RemoveAll({ param($b) $b.bindingInformation -eq "${IPAddress}:${Port}:${HostHeader}" }) | Out-Null }
        Mock New-WebBinding { $script:Bindings.Add([pscustomobject] @{ bindingInformation = "${IPAddress}:${Port}:${HostHeader}"; protocol = $Protocol }) }
        Mock Test-Path { $true } -ParameterFilter { $LiteralPath -like 'Cert:*' }
        $p = $Golden.binding_script
        $global:Ansible = New-AnsibleStub
    }

    It 'swaps binding and http.sys certificate together on a fresh Valerus host' {
        & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint -IPAddress $p.IPAddress -HostName $p.HostName
        $Ansible.Changed | Should -BeTrue
        $Ansible.Result.action | Should -Be $Golden.binding_swap.action
        $script:SslCert['0.0.0.0:3001'] | Should -Be $p.Thumbprint
        @($script:Bindings | Where-Object protocol -EQ 'https').Count | Should -Be 1
    }

    It 'is idempotent' {
        & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint
        $global:Ansible = New-AnsibleStub
        & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint
        $Ansible.Changed | Should -BeFalse
    }

    It 'repairs a host a half-done two-call run left behind (binding gone, http.sys entry stale)' {
        $script:Bindings.RemoveAt(0)
        & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint
        $script:SslCert['0.0.0.0:3001'] | Should -Be $p.Thumbprint
    }

    It 'changes nothing in check mode' {
        & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint -WhatIf
        $Ansible.Changed | Should -BeTrue
        $script:SslCert['0.0.0.0:3001'] | Should -Be $SelfSigned
        Should -Invoke Remove-WebBinding -Times 0 -Exactly
    }

    It 'rolls back to the old binding and certificate when the new certificate cannot be bound' {
        $script:FailAdd = $true
        { & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint } | Should -Throw '*failed and was rolled back*'
        $script:SslCert['0.0.0.0:3001'] | Should -Be $SelfSigned
        @($script:Bindings | Where-Object { $_.bindingInformation -eq '*:3001:' -and $_.protocol -eq 'https' }).Count | Should -Be 1
    }

    It 'predicts the binding in check mode on a host without IIS (issue 20, item 1)' {
        $script:IisInstalled = $false
        & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint -WhatIf
        $Ansible.Changed | Should -BeTrue
        $Ansible.Result.action | Should -Be 'add'
        Should -Invoke Import-Module -Times 0 -Exactly
    }

    It 'predicts the binding in check mode before Valerus created its site' {
        $script:SiteName = 'Default Web Site'
        & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint -WhatIf
        $Ansible.Result.action | Should -Be 'add'
    }

    It 'stops with the fix when IIS is missing in a real run' {
        $script:IisInstalled = $false
        { & $Script -SiteName $p.SiteName -Port $p.Port -Thumbprint $p.Thumbprint } | Should -Throw '*IIS is not installed*'
    }
}
