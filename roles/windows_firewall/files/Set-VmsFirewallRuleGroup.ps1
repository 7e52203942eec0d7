#Requires -Version 5.1
# Apply the vms-deploy Windows Firewall rule group in one run (one WinRM round trip per host).
#
# Input  : -Rules (rules rendered on the controller by vms_deploy.render.windows_firewall.rules_for_host),
#          -Group (always "vms-deploy"), -WinRmPort (the port Ansible is connected on).
# Output : $Ansible.Result = {added, updated, removed, unchanged, digest, foreign, profiles};
#          $Ansible.Changed only when something
#          changed; $Ansible.Diff = before/after text, one line per rule.
#
# The decision is the same algorithm as reconcile() in src/vms_deploy/render/windows_firewall.py; the
# Python mirror is the one under unit test. Each function below names its Python counterpart.
# Rules outside -Group are never changed or removed; they are read (active store, in bulk) and returned
# as 'foreign' so the controller can report what they admit beyond the plan (windows_foreign.py).
# Port and address filters are read in bulk, one CIM query per kind, not two per rule.
[CmdletBinding(SupportsShouldProcess)]  # without it win_powershell skips the script in check mode
param (
    [Parameter(Mandatory)] [object[]] $Rules,
    [string] $Group = 'vms-deploy',
    [int] $WinRmPort = 5986
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

function ConvertTo-VmsCidr([string] $Address) {
    # Python: normalize_address. Windows reports "10.0.0.0/255.255.255.0", "10.0.0.5" or "Any".
    if ($Address -eq 'Any') { return '0.0.0.0/0' }
    $parts = $Address -split '/', 2
    $ip = $null
    if (-not [Net.IPAddress]::TryParse($parts[0], [ref] $ip) -or $ip.AddressFamily -ne 'InterNetwork') {
        return $Address.ToLowerInvariant()  # keywords (LocalSubnet...) never match a planned rule
    }
    if ($parts.Count -eq 1) { $bits = 32 }
    elseif ($parts[1] -match '^\d+$') { $bits = [int] $parts[1] }
    else {
        $maskBytes = [Net.IPAddress]::Parse($parts[1]).GetAddressBytes()
        $bits = (($maskBytes | ForEach-Object { [Convert]::ToString($_, 2) }) -join '').Replace('0', '').Length
    }
    $bytes = $ip.GetAddressBytes(); [Array]::Reverse($bytes)
    $value = [uint64] [BitConverter]::ToUInt32($bytes, 0)
    $mask = ([uint64] 1 -shl 32) - ([uint64] 1 -shl (32 - $bits))
    $net = [BitConverter]::GetBytes([uint32] ($value -band $mask)); [Array]::Reverse($net)
    return '{0}/{1}' -f [Net.IPAddress]::new($net).ToString(), $bits
}

function Get-VmsAddressKey([string] $Cidr) {
    # Python: _address_key (IPv4 network value, then prefix length; keywords last).
    $parts = $Cidr -split '/', 2
    $ip = $null
    if ($parts.Count -eq 2 -and [Net.IPAddress]::TryParse($parts[0], [ref] $ip)) {
        $b = $ip.GetAddressBytes(); [Array]::Reverse($b)
        return '4-{0:D10}-{1:D3}' -f [BitConverter]::ToUInt32($b, 0), [int] $parts[1]
    }
    return "9-$Cidr"
}

function ConvertTo-VmsAddressList([object[]] $Addresses) {
    # Python: normalize_addresses. "Any" swallows every other address.
    if (-not $Addresses) { $Addresses = @('Any') }
    $cidrs = @($Addresses | ForEach-Object { ConvertTo-VmsCidr "$_" } | Sort-Object -Unique)
    if ($cidrs -contains '0.0.0.0/0') { return , @('0.0.0.0/0') }
    return , @($cidrs | Sort-Object { Get-VmsAddressKey $_ })
}

function ConvertTo-VmsPortList([object[]] $Ports) {
    # Python: normalize_ports. "9081,9080" or @('9080','9081') -> "9080,9081".
    $items = @($Ports | ForEach-Object { "$_" -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ } | Sort-Object -Unique)
    $sorted = $items | Sort-Object { if ($_ -match '^(\d+)') { '0-{0:D5}-{1}' -f [int] $Matches[1], $_ } else { "1-$_" } }
    return (@($sorted) -join ',')
}

function Get-VmsComparable($Rule) {
    # Python: comparable. Normalized properties in a fixed order; the JSON text is what we compare.
    $enabled = $true
    if ($null -ne $Rule.enabled) { $enabled = [bool] $Rule.enabled }
    [ordered] @{
        display_name     = "$($Rule.display_name)"
        description      = "$($Rule.description)"
        protocol         = "$($Rule.protocol)".ToUpperInvariant()
        local_ports      = ConvertTo-VmsPortList @($Rule.local_ports)
        remote_addresses = ConvertTo-VmsAddressList @($Rule.remote_addresses)
        direction        = "$($Rule.direction)".ToLowerInvariant()
        action           = "$($Rule.action)".ToLowerInvariant()
        enabled          = $enabled
    }
}

function Test-VmsCovers($Rule, [string] $Protocol, [int] $Port) {
    # Python: covers.
    $c = Get-VmsComparable $Rule
    if ($c.protocol -ne $Protocol -or -not $c.enabled -or $c.action -ne 'allow') { return $false }
    foreach ($part in $c.local_ports -split ',') {
        if ($part -match '^(\d+)(?:-(\d+))?$') {
            $last = if ($Matches[2]) { [int] $Matches[2] } else { [int] $Matches[1] }
            if ([int] $Matches[1] -le $Port -and $Port -le $last) { return $true }
        }
    }
    return $false
}

function Get-VmsFilterIndex([string] $Cmdlet, [string] $Store) {
    # One CIM query for every rule's filter of a kind (not two queries per rule), keyed by rule InstanceID.
    $index = @{}
    $params = @{ All = $true; ErrorAction = 'SilentlyContinue' }
    if ($Store) { $params.PolicyStore = $Store }
    foreach ($f in @(& $Cmdlet @params)) { $index["$($f.InstanceID)"] = $f }
    return $index
}

function ConvertTo-VmsRuleData($r, $Ports, $Addresses, $Apps) {
    # A rule in the same shape the controller renders (and windows_foreign reads).
    $pf = $Ports["$($r.InstanceID)"]
    $af = $Addresses["$($r.InstanceID)"]
    $app = if ($Apps) { $Apps["$($r.InstanceID)"] } else { $null }
    @{
        name             = "$($r.Name)"
        display_name     = "$($r.DisplayName)"
        description      = "$($r.Description)"
        group            = "$($r.Group)"
        store            = "$($r.PolicyStoreSourceType)"
        protocol         = if ($pf) { "$($pf.Protocol)" } else { 'Any' }
        local_ports      = if ($pf) { @($pf.LocalPort | ForEach-Object { "$_" }) } else { @('Any') }
        remote_addresses = if ($af) { @($af.RemoteAddress | ForEach-Object { "$_" }) } else { @('Any') }
        direction        = "$($r.Direction)"
        action           = "$($r.Action)"
        enabled          = ("$($r.Enabled)" -eq 'True')
        program          = if ($app) { "$($app.Program)" } else { '' }
    }
}

function Get-VmsCurrentRule([string] $GroupName) {
    # Reads only our group (persistent store), its port and address filters in bulk.
    $rules = @(Get-NetFirewallRule -Group $GroupName -ErrorAction SilentlyContinue)
    if (-not $rules) { return }
    $ports = Get-VmsFilterIndex 'Get-NetFirewallPortFilter' ''
    $addresses = Get-VmsFilterIndex 'Get-NetFirewallAddressFilter' ''
    foreach ($r in $rules) { ConvertTo-VmsRuleData $r $ports $addresses $null }
}

function Get-VmsForeignRule([string] $GroupName) {
    # Python: windows_foreign.exceeding reads these. Enabled inbound allow rules outside the group, as
    # in force (ActiveStore: local and Group Policy rules merged), filters read in bulk.
    $rules = @(Get-NetFirewallRule -PolicyStore ActiveStore -Direction Inbound -Action Allow -Enabled True -ErrorAction SilentlyContinue |
            Where-Object { "$($_.Group)" -ne $GroupName })
    if (-not $rules) { return }
    $ports = Get-VmsFilterIndex 'Get-NetFirewallPortFilter' 'ActiveStore'
    $addresses = Get-VmsFilterIndex 'Get-NetFirewallAddressFilter' 'ActiveStore'
    $apps = Get-VmsFilterIndex 'Get-NetFirewallApplicationFilter' 'ActiveStore'
    foreach ($r in $rules) { ConvertTo-VmsRuleData $r $ports $addresses $apps }
}

function Get-VmsProfileState {
    # A disabled profile, or a GPO with AllowLocalFirewallRules=False, voids our (local) group.
    foreach ($p in @(Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction SilentlyContinue)) {
        @{ name = "$($p.Name)"; enabled = "$($p.Enabled)"; allow_local_rules = "$($p.AllowLocalFirewallRules)" }
    }
}

function Get-VmsDigestFound($Current) {
    # Python: digest_found. The plan digests recorded in the rules' descriptions.
    $found = foreach ($r in $Current) {
        foreach ($m in [regex]::Matches("$($r.description)", '\[vms-deploy plan ([0-9a-f]+)\]')) { $m.Groups[1].Value }
    }
    return @($found | Sort-Object -Unique)
}

function Test-VmsAdmits($Rule, [string] $Protocol, [int] $Port, [string] $Address) {
    # Python: admits. The rule allows this port from this IPv4 address.
    if (-not (Test-VmsCovers $Rule $Protocol $Port)) { return $false }
    $ip = $null
    if (-not [Net.IPAddress]::TryParse($Address, [ref] $ip)) { return $false }
    $b = $ip.GetAddressBytes(); [Array]::Reverse($b); $value = [uint64] [BitConverter]::ToUInt32($b, 0)
    foreach ($cidr in (Get-VmsComparable $Rule).remote_addresses) {
        $parts = $cidr -split '/', 2
        $net = $null
        if ($parts.Count -ne 2 -or -not [Net.IPAddress]::TryParse($parts[0], [ref] $net)) { continue }
        $nb = $net.GetAddressBytes(); [Array]::Reverse($nb); $netValue = [uint64] [BitConverter]::ToUInt32($nb, 0)
        $mask = ([uint64] 1 -shl 32) - ([uint64] 1 -shl (32 - [int] $parts[1]))
        if (($value -band $mask) -eq $netValue) { return $true }
    }
    return $false
}

function Get-VmsLockedOutPeer($Desired, [string[]] $Peers) {
    # Python: locked_out_peers. Established WinRM peers the new rules would not admit (loopback skipped).
    $out = foreach ($peer in $Peers) {
        $p = "$peer" -replace '^::ffff:', ''
        $ip = $null
        if ([Net.IPAddress]::TryParse($p, [ref] $ip) -and [Net.IPAddress]::IsLoopback($ip)) { continue }
        if (-not ($Desired | Where-Object { Test-VmsAdmits $_ 'TCP' $WinRmPort $p })) { $p }
    }
    return @($out | Sort-Object -Unique)
}

function Format-VmsRule($Rule) {
    # Python: diff_text (one line per rule).
    $c = Get-VmsComparable $Rule
    $state = if ($c.enabled) { 'enabled' } else { 'disabled' }
    '{0}: {1} {2} from {3} {4} {5}' -f $Rule.name, $c.protocol, $c.local_ports, ($c.remote_addresses -join ','), $c.action, $state
}

function Get-VmsChanges($Current, $Desired) {
    # Python: reconcile. add / update / remove / unchanged, each sorted by name.
    $now = @{}; foreach ($r in $Current) { $now[$r.name] = $r }
    $want = @{}; foreach ($r in $Desired) { $want[$r.name] = $r }
    $plan = @{ add = @(); update = @(); remove = @(); unchanged = @() }
    foreach ($name in ($want.Keys | Sort-Object)) {
        if (-not $now.ContainsKey($name)) { $plan.add += , $want[$name]; continue }
        $before = Get-VmsComparable $now[$name] | ConvertTo-Json -Compress
        $after = Get-VmsComparable $want[$name] | ConvertTo-Json -Compress
        if ($before -ne $after) { $plan.update += , @{ name = $name; before = $now[$name]; after = $want[$name] } }
        else { $plan.unchanged += $name }
    }
    $plan.remove = @($now.Keys | Where-Object { -not $want.ContainsKey($_) } | Sort-Object)
    return $plan
}

function Get-VmsCmdletArgs($Rule, [switch] $ForSet) {
    # Splat for New-/Set-NetFirewallRule. 0.0.0.0/0 is written as Any. Set-NetFirewallRule selects
    # rules by -DisplayName, so there the new display name goes to -NewDisplayName.
    $c = Get-VmsComparable $Rule
    $remote = if ($c.remote_addresses -contains '0.0.0.0/0') { @('Any') } else { $c.remote_addresses }
    $nameKey = if ($ForSet) { 'NewDisplayName' } else { 'DisplayName' }
    @{
        $nameKey      = $c.display_name
        Description   = $c.description
        Direction     = if ($c.direction -eq 'outbound') { 'Outbound' } else { 'Inbound' }
        Action        = if ($c.action -eq 'block') { 'Block' } else { 'Allow' }
        Protocol      = $c.protocol
        LocalPort     = @($c.local_ports -split ',')
        RemoteAddress = @($remote)
        Enabled       = if ($c.enabled) { 'True' } else { 'False' }
    }
}

# --- guards: refuse input that could lock Ansible out or touch foreign rules -------------------------
foreach ($r in $Rules) {
    if ("$($r.group)" -ne $Group) { throw "rule $($r.name) is in group '$($r.group)', not '$Group': refusing" }
}
if (-not ($Rules | Where-Object { Test-VmsCovers $_ 'TCP' $WinRmPort })) {
    throw "refusing to apply: no rule allows the WinRM port tcp $WinRmPort; the plan must carry the management rule (vms_management_networks)"
}
# Every WinRM session open now (Ansible's own among them) must come from an address the new rules admit.
$peers = @(Get-NetTCPConnection -State Established -LocalPort $WinRmPort -ErrorAction SilentlyContinue | ForEach-Object { "$($_.RemoteAddress)" })
$stranded = @(Get-VmsLockedOutPeer $Rules $peers)
if ($stranded.Count -gt 0) {
    throw "refusing to apply: established WinRM connections from $($stranded -join ', ') (tcp $WinRmPort) would not be admitted by the new rules; add the address to vms_management_networks or vms_win_controller_address"
}

$current = @(Get-VmsCurrentRule $Group)
$changes = Get-VmsChanges $current $Rules
foreach ($rule in $changes.add) {
    $other = Get-NetFirewallRule -Name $rule.name -ErrorAction SilentlyContinue
    if ($other) { throw "a rule named $($rule.name) exists outside group '$Group' (group '$($other.Group)'): rename or delete it by hand; vms-deploy does not touch it" }
}

$count = $changes.add.Count + $changes.update.Count + $changes.remove.Count
$Ansible.Changed = $count -gt 0
$Ansible.Result = @{
    added     = @($changes.add | ForEach-Object { $_.name })
    updated   = @($changes.update | ForEach-Object { $_.name })
    removed   = @($changes.remove)
    unchanged = @($changes.unchanged)
    digest    = @(Get-VmsDigestFound $current)
    foreign   = @(Get-VmsForeignRule $Group)
    profiles  = @(Get-VmsProfileState)
}
if ($count -gt 0) {
    $Ansible.Diff = @{
        before = (@($current | Sort-Object { $_.name } | ForEach-Object { Format-VmsRule $_ }) -join "`n") + "`n"
        after  = (@($Rules | Sort-Object { $_.name } | ForEach-Object { Format-VmsRule $_ }) -join "`n") + "`n"
    }
}
if ($count -eq 0 -or $Ansible.CheckMode) { return }

# --- apply: add, then update, then remove (never narrower than the old set mid-way); undo on error ---
$done = [Collections.Generic.List[object]]::new()
$removedRules = @{}; foreach ($r in $current) { $removedRules[$r.name] = $r }
try {
    foreach ($rule in $changes.add) {
        $splat = Get-VmsCmdletArgs $rule
        New-NetFirewallRule -Name $rule.name -Group $Group -Profile Any @splat | Out-Null
        $done.Add(@{ kind = 'add'; name = $rule.name })
    }
    foreach ($u in $changes.update) {
        $splat = Get-VmsCmdletArgs $u.after -ForSet
        Set-NetFirewallRule -Name $u.name @splat
        $done.Add(@{ kind = 'update'; name = $u.name; before = $u.before })
    }
    foreach ($name in $changes.remove) {
        Remove-NetFirewallRule -Name $name
        $done.Add(@{ kind = 'remove'; name = $name; before = $removedRules[$name] })
    }
}
catch {
    $failure = $_
    $rollbackErrors = [Collections.Generic.List[string]]::new()
    # Undo in reverse order so the previous rule set is back in place.
    for ($i = $done.Count - 1; $i -ge 0; $i--) {
        $step = $done[$i]
        try {
            switch ($step.kind) {
                'add' { Remove-NetFirewallRule -Name $step.name }
                'update' { $splat = Get-VmsCmdletArgs $step.before -ForSet; Set-NetFirewallRule -Name $step.name @splat }
                'remove' { $splat = Get-VmsCmdletArgs $step.before; New-NetFirewallRule -Name $step.name -Group $Group -Profile Any @splat | Out-Null }
            }
        }
        catch { $rollbackErrors.Add("$($step.kind) $($step.name): $_") }
    }
    if ($rollbackErrors.Count -eq 0) { throw "firewall change failed and was rolled back: $failure" }
    throw "firewall change failed: $failure; the rollback ALSO failed ($($rollbackErrors -join '; ')): compare group '$Group' with the plan by hand (wf.msc) before rerunning"
}
