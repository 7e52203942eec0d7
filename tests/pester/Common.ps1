# Shared helpers for the Pester tests of the Windows scripts (Pester 5, Windows PowerShell 5.1 or pwsh on
# Windows). Run: Invoke-Pester -Path tests/pester  (ci-examples/github/windows-pester.yml does).
$RepoRoot = Resolve-Path (Join-Path $PSScriptRoot '..\..')

function New-AnsibleStub([switch] $CheckMode) {
    # What win_powershell gives a script: $Ansible with Changed, Result, Diff and CheckMode.
    [pscustomobject] @{ Changed = $false; Result = $null; Diff = $null; CheckMode = [bool] $CheckMode }
}

function Get-RoleScript([string] $Role, [string] $Name) {
    Join-Path $RepoRoot "roles\$Role\files\$Name"
}

function Get-GoldenHost([string] $Example) {
    # One example's golden file (tests/golden/windows/<example>.json): the exact script input per host.
    (Get-Content -Raw -LiteralPath (Join-Path $RepoRoot "tests\golden\windows\$Example.json") | ConvertFrom-Json).hosts
}
