#Requires -Version 5.1
# Used by ci-examples/github/windows-pester.yml on a throw-away GitHub-hosted Windows runner: WinRM over
# HTTPS with a certificate from a throw-away CA (validation stays on in Ansible), and a local
# administrator for Ansible with a random password. Writes for the controller (WSL on the same runner):
#   build/ci/winrm-ca.pem      the CA that signed the WinRM certificate
#   build/ci/runner.env        VMS_CI_HOST (this machine's IPv4 address) and VMS_CI_USER
#   build/ci/password          the password (file only readable by the runner's account)
# Never run it on a machine you keep: it adds a listener, a firewall rule and an administrator.
[CmdletBinding()]
param ([string] $OutDir = 'build/ci', [string] $User = 'vmsci')
$ErrorActionPreference = 'Stop'
$null = New-Item -ItemType Directory -Force -Path $OutDir

$address = @(Get-NetIPAddress -AddressFamily IPv4 | Where-Object { $_.IPAddress -notlike '127.*' -and $_.IPAddress -notlike '169.254.*' } |
        Sort-Object -Property InterfaceMetric)[0].IPAddress
$ca = New-SelfSignedCertificate -Subject 'CN=vms-deploy CI WinRM CA' -KeyUsage 'CertSign', 'CRLSign' -TextExtension @('2.5.29.19={text}CA=true') -CertStoreLocation Cert:\LocalMachine\My
$server = New-SelfSignedCertificate -Subject "CN=$address" -TextExtension @("2.5.29.17={text}IPAddress=$address") -Signer $ca -CertStoreLocation Cert:\LocalMachine\My
$rootStore = [Security.Cryptography.X509Certificates.X509Store]::new('Root', 'LocalMachine')
$rootStore.Open('ReadWrite'); $rootStore.Add([Security.Cryptography.X509Certificates.X509Certificate2]::new($ca.RawData)); $rootStore.Close()
$pem = "-----BEGIN CERTIFICATE-----`n" + [Convert]::ToBase64String($ca.RawData, 'InsertLineBreaks') + "`n-----END CERTIFICATE-----`n"
[IO.File]::WriteAllText((Join-Path $OutDir 'winrm-ca.pem'), $pem)

Enable-PSRemoting -SkipNetworkProfileCheck -Force | Out-Null
Get-ChildItem -Path WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTPS' } | Remove-Item -Recurse -Force
$null = New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * -CertificateThumbPrint $server.Thumbprint -Force
$null = New-NetFirewallRule -Name 'ci-bootstrap-winrm-https' -DisplayName 'Allow WinRM HTTPS (CI bootstrap)' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow

$bytes = [byte[]]::new(24); [Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($bytes)
$password = 'Aa1!' + [Convert]::ToBase64String($bytes)
$secure = ConvertTo-SecureString -String $password -AsPlainText -Force
$null = New-LocalUser -Name $User -Password $secure -PasswordNeverExpires -AccountNeverExpires
Add-LocalGroupMember -Group ([Security.Principal.SecurityIdentifier]::new('S-1-5-32-544').Translate([Security.Principal.NTAccount]).Value.Split('\')[-1]) -Member $User
# A local administrator over the network gets a filtered token unless this is set (UAC remote restrictions).
Set-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -Name LocalAccountTokenFilterPolicy -Value 1 -Type DWord
[IO.File]::WriteAllText((Join-Path $OutDir 'password'), $password)
[IO.File]::WriteAllText((Join-Path $OutDir 'runner.env'), "VMS_CI_HOST=$address`nVMS_CI_USER=$User`n")
Write-Output "WinRM HTTPS on ${address}:5986 for $User"
