#Requires -Version 5.1
# Read-only: does each TCP port of one address accept a connection (bounded by a time-out)?
[CmdletBinding(SupportsShouldProcess)]  # read-only: must also run in check mode
param ([Parameter(Mandatory)] [string] $Address, [int[]] $Ports = @(), [int] $TimeoutMs = 5000)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$open = @{}
foreach ($port in $Ports) {
    $client = [Net.Sockets.TcpClient]::new()
    try { $open["$port"] = $client.ConnectAsync($Address, $port).Wait($TimeoutMs) -and $client.Connected }
    catch { $open["$port"] = $false }
    finally { $client.Dispose() }
}
$Ansible.Result = $open
