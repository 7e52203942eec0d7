#Requires -Version 5.1
# Read-only: which certificate each local TLS port serves right now (SHA-1 thumbprint as Windows shows
# it). Used to check XProtect's Server Configurator assignment; one round trip for all ports.
[CmdletBinding(SupportsShouldProcess)]  # read-only: must also run in check mode
param ([int[]] $Ports = @())
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$served = @{}
foreach ($port in $Ports) {
    $client = [Net.Sockets.TcpClient]::new()
    try {
        if (-not $client.ConnectAsync('127.0.0.1', $port).Wait(5000)) { $served["$port"] = $null; continue }
        # Accept any certificate: we only read which one is served, we send nothing.
        $ssl = [Net.Security.SslStream]::new($client.GetStream(), $false, { $true })
        # TLS 1.2 explicitly: Windows PowerShell 5.1 on .NET Framework may offer only older protocols,
        # which a server with TLS 1.0/1.1 switched off refuses (no certificate would be read).
        $ssl.AuthenticateAsClient('localhost', $null, [Security.Authentication.SslProtocols]::Tls12, $false)
        $served["$port"] = ([Security.Cryptography.X509Certificates.X509Certificate2] $ssl.RemoteCertificate).Thumbprint
        $ssl.Dispose()
    }
    catch { $served["$port"] = $null }
    finally { $client.Dispose() }
}
$Ansible.Result = $served
