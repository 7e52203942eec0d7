# Pester tests of roles/windows_certificates/files/Get-VmsServedCertificate.ps1 on the runner: a local
# TLS 1.2 listener with a throw-away certificate serves it; the script must read its thumbprint.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Script = Get-RoleScript 'windows_certificates' 'Get-VmsServedCertificate.ps1'
}

Describe 'Get-VmsServedCertificate.ps1' {
    It 'reads the certificate a TLS 1.2-only server serves' {
        $cert = New-SelfSignedCertificate -DnsName localhost -CertStoreLocation Cert:\CurrentUser\My -KeyExportable
        try {
            $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
            $listener.Start()
            $port = $listener.LocalEndpoint.Port
            $job = Start-ThreadJob -ArgumentList $listener, $cert -ScriptBlock {
                param($l, $c)
                $client = $l.AcceptTcpClient()
                $ssl = [Net.Security.SslStream]::new($client.GetStream(), $false)
                $ssl.AuthenticateAsServer($c, $false, [Security.Authentication.SslProtocols]::Tls12, $false)
                $ssl.Dispose(); $client.Dispose()
            }
            $global:Ansible = New-AnsibleStub
            & $Script -Ports @($port)
            $Ansible.Result["$port"] | Should -Be $cert.Thumbprint
            $job | Wait-Job -Timeout 10 | Out-Null
        }
        finally { $listener.Stop(); Remove-Item -LiteralPath "Cert:\CurrentUser\My\$($cert.Thumbprint)" }
    }

    It 'reports a closed port as null' {
        $global:Ansible = New-AnsibleStub
        & $Script -Ports @(1)
        $Ansible.Result['1'] | Should -BeNullOrEmpty
    }
}
