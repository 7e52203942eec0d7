# Pester tests of roles/windows_firewall/files/Set-VmsFirewallRuleGroup.ps1, fed the golden inputs
# (tests/golden/windows/*.json: the exact -Rules/-Group/-WinRmPort the role sends for each host).
# The NetSecurity cmdlets are mocked with a rule store that answers the way Windows reports rules
# (10.0.0.0/255.255.255.0 and Any notation), so no real firewall rule is touched.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Script = Get-RoleScript 'windows_firewall' 'Set-VmsFirewallRuleGroup.ps1'

    function ConvertTo-WindowsAddress([string] $Cidr) {
        # how Get-NetFirewallAddressFilter reports an address: Any, a host, or address/mask
        if ($Cidr -eq '0.0.0.0/0') { return 'Any' }
        $ip, $bits = $Cidr -split '/'
        if ($bits -eq '32') { return $ip }
        $mask = [uint32] ([uint64] 0xFFFFFFFF -shl (32 - [int] $bits) -band 0xFFFFFFFF)
        $bytes = [BitConverter]::GetBytes($mask); [Array]::Reverse($bytes)
        return '{0}/{1}' -f $ip, ([Net.IPAddress]::new($bytes).ToString())
    }

    function Set-Store($Rules) {
        # the group as Windows holds it after a previous run applied $Rules
        $script:Store = @(foreach ($r in $Rules) {
                [pscustomobject] @{ Name = $r.name; DisplayName = $r.display_name; Description = $r.description
                    Group = 'vms-deploy'; Direction = 'Inbound'; Action = 'Allow'; Enabled = 'True'; InstanceID = $r.name
                    PolicyStoreSourceType = 'Local'
                    Protocol = $r.protocol; LocalPort = @($r.local_ports -split ',')
                    RemoteAddress = @($r.remote_addresses | ForEach-Object { ConvertTo-WindowsAddress $_ }) }
            })
    }

    function Invoke-Script($Parameters, [string[]] $Peers = @('10.255.0.5'), [switch] $CheckMode) {
        $script:Peers = $Peers
        $global:Ansible = New-AnsibleStub -CheckMode:$CheckMode
        & $Script -Rules $Parameters.Rules -Group $Parameters.Group -WinRmPort $Parameters.WinRmPort -WhatIf:$CheckMode
        return $global:Ansible
    }
}

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $cases = foreach ($example in 'valerus_separate_app_server', 'xprotect_distributed_dmz', 'xprotect_all_in_one') {
        $hosts = Get-GoldenHost $example
        foreach ($name in $hosts.PSObject.Properties.Name) {
            @{ example = $example; hostname = $name; golden = $hosts.$name.firewall }
        }
    }
}

Describe 'Set-VmsFirewallRuleGroup.ps1 on <example>/<hostname>' -ForEach $cases {
    BeforeEach {
        $script:Store = @()
        Mock Get-NetFirewallRule { $script:Store | Where-Object { $_.Group -eq $Group } } -ParameterFilter { $Group }
        Mock Get-NetFirewallRule { @() } -ParameterFilter { $PolicyStore -eq 'ActiveStore' }
        Mock Get-NetFirewallRule { $null } -ParameterFilter { $Name }
        Mock Get-NetFirewallPortFilter { $script:Store | ForEach-Object { [pscustomobject] @{ InstanceID = $_.InstanceID; Protocol = $_.Protocol; LocalPort = $_.LocalPort } } }
        Mock Get-NetFirewallAddressFilter { $script:Store | ForEach-Object { [pscustomobject] @{ InstanceID = $_.InstanceID; RemoteAddress = $_.RemoteAddress } } }
        Mock Get-NetFirewallApplicationFilter { @() }
        Mock Get-NetFirewallProfile { @() }
        Mock Get-NetTCPConnection { $script:Peers | ForEach-Object { [pscustomobject] @{ RemoteAddress = $_ } } }
        Mock New-NetFirewallRule { $null }
        Mock Set-NetFirewallRule { $null }
        Mock Remove-NetFirewallRule { $null }
        $params = $golden.params.parameters
    }

    It 'adds every rule on a host without the group, as the golden first run says' {
        $result = Invoke-Script $params
        $result.Changed | Should -BeTrue
        @($result.Result.added) | Should -Be @($golden.first_run.add)
        Should -Invoke New-NetFirewallRule -Times $params.Rules.Count -Exactly
        Should -Invoke Remove-NetFirewallRule -Times 0 -Exactly
    }

    It 'changes nothing when the group already matches, in Windows notation' {
        Set-Store $params.Rules
        $result = Invoke-Script $params
        $result.Changed | Should -BeFalse
        @($result.Result.unchanged).Count | Should -Be $params.Rules.Count
        @($result.Result.digest).Count | Should -Be 1
        Should -Invoke New-NetFirewallRule -Times 0 -Exactly
        Should -Invoke Set-NetFirewallRule -Times 0 -Exactly
    }

    It 'only predicts in check mode' {
        $result = Invoke-Script $params -CheckMode
        $result.Changed | Should -BeTrue
        Should -Invoke New-NetFirewallRule -Times 0 -Exactly
    }

    It 'refuses a rule set that would not admit an open WinRM session' {
        { Invoke-Script $params -Peers @('10.255.0.5', '198.18.7.7') } | Should -Throw '*established WinRM connections from 198.18.7.7*'
        Should -Invoke New-NetFirewallRule -Times 0 -Exactly
    }

    It 'says "rolled back" when the undo worked, and that the rollback failed when it did not' {
        Mock New-NetFirewallRule { if ($Name -eq $params.Rules[1].name) { throw 'boom' } }
        { Invoke-Script $params } | Should -Throw '*failed and was rolled back: boom*'
        Should -Invoke Remove-NetFirewallRule -Times 1 -Exactly  # the first rule, added before the failure

        Mock Remove-NetFirewallRule { throw 'access denied' }
        { Invoke-Script $params } | Should -Throw '*rollback ALSO failed*'
    }
}
