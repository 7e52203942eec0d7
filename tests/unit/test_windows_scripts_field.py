"""Issue 22, items 2, 4 and 5: what the role scripts do on a real Windows host that a stand-in cannot show.

There is no PowerShell here (docs/windows.md); each rule is a structural check of the script text, parsed
with a real PowerShell grammar (tree-sitter-powershell), with the engine behaviour it guards written
beside it. The Pester tests (tests/pester, run on a Windows runner) prove behaviour.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell
import yaml

ROOT = Path(__file__).resolve().parents[2]
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
SCRIPTS = sorted(ROOT.glob("roles/windows_*/files/*.ps1"))
ENCRYPTION = ROOT / "roles/windows_certificates/files/Set-VmsXProtectEncryption.ps1"
BINDING = ROOT / "roles/windows_certificates/files/Set-VmsIisHttpsBinding.ps1"
# Windows programs the scripts could call without a path or ".exe" (native commands, not cmdlets).
NATIVE_NAMES = {"netsh", "sc", "icacls", "schtasks", "certutil", "reg", "msiexec", "cmd", "shutdown"}


def tree(path: Path) -> tree_sitter.Node:
    root = PARSER.parse(path.read_bytes()).root_node
    assert not root.has_error, f"{path.name} does not parse"
    return root


def nodes(node: tree_sitter.Node, kind: str):
    if node.type == kind:
        yield node
    for child in node.children:
        yield from nodes(child, kind)


def enclosing_function(node: tree_sitter.Node) -> str:
    while node is not None:
        if node.type == "function_statement":
            return next(c.text.decode() for c in node.children if c.type == "function_name")
        node = node.parent
    return ""


def functions(root: tree_sitter.Node, name: str) -> list[str]:
    return [n.text.decode() for n in nodes(root, "function_statement")
            if any(c.type == "function_name" and c.text.decode() == name for c in n.children)]


def code_only(path: Path) -> str:
    """The script without its comments (a rule is about what runs, not what a comment says)."""
    text = path.read_bytes()
    root = tree(path)
    for comment in sorted(nodes(root, "comment"), key=lambda n: n.start_byte, reverse=True):
        text = text[:comment.start_byte] + text[comment.end_byte:]
    return text.decode()


def native_calls(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Commands that run a native program: a stderr redirection, or a name that is a Windows program."""
    found = []
    for command in nodes(root, "command"):
        name = next((c.text.decode() for c in command.children if c.type in ("command_name", "command_name_expr")), "")
        redirects = [r.text.decode() for r in nodes(command, "redirection")]
        stem = name.lower().rsplit("\\", 1)[-1]
        if any(r.startswith("2>") for r in redirects) or stem.endswith(".exe") or stem in NATIVE_NAMES:
            found.append(command)
    return found


# --- item 2: StrictMode-safe marker reads ----------------------------------------------------------

def test_encryption_marker_read_survives_a_key_without_this_groups_value():
    """Set-StrictMode -Version 3.0 makes ".Value" of a missing property ($null) a terminating error
    (PropertyNotFoundStrict): a marker key left by a run that stopped between two groups, or a group
    added later, must read as "not applied", not stop every rerun."""
    code = code_only(ENCRYPTION)
    assert "Set-StrictMode -Version 3.0" in code
    assert not re.search(r"\.Properties\[[^\]]+\]\.Value", code), "member access on a property that may be missing"
    [helper] = functions(tree(ENCRYPTION), "Get-VmsRecordedThumbprint")
    assert "$null -eq $property" in helper and "$null -eq $Recorded" in helper


# --- item 4: non-English Windows ------------------------------------------------------------------

def test_http_sys_binding_is_read_without_netsh_labels():
    """netsh prints localised labels ("Zertifikathash" on German Windows): the current binding is read
    from http.sys' own SslBindingInfo key, whose value name SslCertHash is the same on every language."""
    [reader] = functions(tree(BINDING), "Get-VmsSslCertHash")
    assert "Certificate Hash" not in code_only(BINDING)
    assert "netsh" not in re.sub(r"#.*", "", reader).lower()
    assert "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\\SslBindingInfo\\" in reader
    assert "SslCertHash" in reader


def test_service_account_is_a_well_known_sid_by_default():
    """"NT AUTHORITY\\NETWORK SERVICE" is "NT-AUTORITÄT\\NETZWERKDIENST" on German Windows, and
    NTAccount.Translate fails there; S-1-5-20 is NETWORK SERVICE on every language (Microsoft Learn,
    "Well-known SIDs")."""
    defaults = yaml.safe_load((ROOT / "roles/windows_certificates/defaults/main.yml").read_text())
    assert "default('S-1-5-20')" in defaults["windows_certificates_xprotect_service_account"]
    specs = yaml.safe_load((ROOT / "roles/windows_certificates/meta/argument_specs.yml").read_text())
    assert specs["argument_specs"]["main"]["options"]["vms_win_xprotect_service_account"]["default"] == "S-1-5-20"
    code = code_only(ENCRYPTION)
    assert "[Security.Principal.SecurityIdentifier]::new($ServiceAccount)" in code
    for path in SCRIPTS:  # no English account name is translated anywhere
        assert not re.search(r"NTAccount\]\s*'(NT AUTHORITY|BUILTIN)", code_only(path)), path.name


# --- item 5: native command errors ----------------------------------------------------------------

@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_native_commands_run_only_through_invoke_vmsnative(path):
    """Windows PowerShell 5.1 under $ErrorActionPreference = 'Stop' makes the first stderr line of a
    native command redirected with 2>&1 or 2>$null a terminating NativeCommandError, before
    $LASTEXITCODE is read: retries and exit-code meanings are lost. Only the helper may call one."""
    outside = [c.text.decode().strip() for c in native_calls(tree(path)) if enclosing_function(c) != "Invoke-VmsNative"]
    assert outside == [], f"{path.name}: native commands outside Invoke-VmsNative: {outside}"


def test_invoke_vmsnative_is_one_text_that_lowers_the_preference_and_reads_the_exit_code():
    copies = {p.name: functions(tree(p), "Invoke-VmsNative") for p in SCRIPTS}
    copies = {k: v for k, v in copies.items() if v}
    assert {"Set-VmsXProtectEncryption.ps1", "Set-VmsIisHttpsBinding.ps1"} <= set(copies)
    texts = {v[0] for v in copies.values()}
    assert len(texts) == 1, "Invoke-VmsNative differs between scripts: keep one text"
    [text] = texts
    body = re.sub(r"#.*", "", text)
    pref, call, code = (body.index("$ErrorActionPreference = 'Continue'"), body.index("2>&1"),
                        body.index("$LASTEXITCODE"))
    assert pref < call < code
    assert "[Management.Automation.ErrorRecord]" in body  # stderr records become their text


def test_native_call_detection_finds_the_calls_it_guards_against():
    """The rule above must see today's forms (else it cannot fail)."""
    sample = PARSER.parse(b"$o = & $Configurator @Arguments 2>&1\n$s = & netsh.exe http show sslcert 2>$null\n"
                          b"& $describe $a $b\nGet-Item x\n").root_node
    assert [c.text.decode().split()[1] for c in native_calls(sample)] == ["$Configurator", "netsh.exe"]


# --- issue 20, item 1: check mode on a host never deployed ------------------------------------------

def test_iis_binding_predicts_in_check_mode_before_iis_or_the_site_exists():
    """Import-Module WebAdministration throws on a host without the IIS role, and the Valerus Web Proxy
    site exists only once Valerus installed: in check mode (-WhatIf) both are predictions, not errors."""
    code = code_only(BINDING)
    guard = code.index("Get-Module -ListAvailable -Name WebAdministration")
    load = code.index("Import-Module -Name WebAdministration")
    assert guard < load and code.count("Import-Module") == 1
    assert "if ($WhatIfPreference) { Exit-VmsNotInstalledYet" in code[guard:load]
    missing = code.index("not found: run the install stage")
    assert "if ($WhatIfPreference) { Exit-VmsNotInstalledYet" in code[load:missing]
    [predict] = functions(tree(BINDING), "Exit-VmsNotInstalledYet")
    assert "$Ansible.Changed = $true" in predict and "action = 'add'" in predict
