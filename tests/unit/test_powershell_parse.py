"""Every PowerShell file and inline script of the Windows path, parsed with a real PowerShell grammar
(tree-sitter-powershell), and structural checks of what issue 14 asks the scripts to do.

There is no PowerShell on this machine (docs/windows.md); the grammar is the closest thing to the
PowerShell parser that runs here. It proves syntax, not behaviour: the Pester tests under tests/pester
(run by ci-examples/github/windows-pester.yml on a Windows runner) prove behaviour.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell
import yaml

ROOT = Path(__file__).resolve().parents[2]
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
SCRIPT_DIRS = ["roles/*/files/*.ps1", "tests/pester/*.ps1", "ci-examples/**/*.ps1"]
TASK_FILES = ["roles/*/tasks/*.yml", "playbooks/**/*.yml"]


def parse(text: str | bytes) -> tree_sitter.Node:
    return PARSER.parse(text.encode() if isinstance(text, str) else text).root_node


def problems(node: tree_sitter.Node) -> list[str]:
    out = []
    if node.is_error or node.is_missing:
        line, col = node.start_point
        out.append(f"line {line + 1}, column {col + 1}: {'missing' if node.is_missing else 'error'} "
                   f"{node.type} {node.text[:60]!r}")
    for child in node.children:
        out += problems(child)
    return out


def nodes(node: tree_sitter.Node, kind: str):
    if node.type == kind:
        yield node
    for child in node.children:
        yield from nodes(child, kind)


def script_files() -> list[Path]:
    return sorted({p for pattern in SCRIPT_DIRS for p in ROOT.glob(pattern)})


def _walk_tasks(tasks, where):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
            yield from _walk_tasks(task.get(key), where)
        args = task.get("ansible.windows.win_powershell") or task.get("win_powershell")
        if isinstance(args, dict) and isinstance(args.get("script"), str):
            yield f"{where}: {task.get('name')}", args["script"]


def workflow_scripts() -> list[tuple[str, str]]:
    """PowerShell `run:` steps of the example workflows (GitHub expressions replaced by a word)."""
    import re
    out = []
    for path in sorted((ROOT / "ci-examples").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for job, spec in (doc.get("jobs") or {}).items() if isinstance(doc, dict) else []:
            shells = [str(s) for s in (spec.get("strategy", {}).get("matrix", {}).get("shell") or [])]
            for step in spec.get("steps") or []:
                shell = str(step.get("shell") or (spec.get("defaults", {}).get("run", {}).get("shell")) or "")
                if "run" in step and (shell in ("pwsh", "powershell") or ("matrix.shell" in shell and shells)):
                    text = re.sub(r"\$\{\{[^}]*\}\}", "x", step["run"])
                    out.append((f"{path.relative_to(ROOT)}: {job}: {step.get('name')}", text))
    return out


def inline_scripts() -> list[tuple[str, str]]:
    out = workflow_scripts()
    for pattern in TASK_FILES:
        for path in sorted(ROOT.glob(pattern)):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            out += list(_walk_tasks(data if isinstance(data, list) else [], path.relative_to(ROOT)))
    return out


def test_the_grammar_finds_errors_at_all():
    """Control: the checks below can fail (an unclosed block and a stray operator are errors)."""
    assert problems(parse("function f { if ($x) { 'a' }"))
    assert problems(parse("$a = ((1 + )"))
    assert not problems(parse("[CmdletBinding(SupportsShouldProcess)]\nparam ([string] $A)\n$Ansible.Result = @{ a = "
                              "$A }"))


def test_there_are_scripts_and_inline_scripts_to_parse():
    names = {p.name for p in script_files()}
    assert {"Set-VmsFirewallRuleGroup.ps1", "Set-VmsIisHttpsBinding.ps1", "Set-VmsXProtectEncryption.ps1",
            "Set-VmsPrivateFolder.ps1", "Get-VmsInstalledState.ps1", "Get-VmsServedCertificate.ps1"} <= names
    assert len(inline_scripts()) >= 2 and workflow_scripts()


@pytest.mark.parametrize("path", script_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_powershell_file_parses(path):
    found = problems(parse(path.read_bytes()))
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)


@pytest.mark.parametrize("where,script", inline_scripts(), ids=lambda x: x if isinstance(x, str) and ":" in x else "")
def test_inline_script_parses(where, script):
    assert "{{" not in script, f"{where}: no Jinja inside a PowerShell script; pass values as parameters"
    found = problems(parse(script))
    assert not found, f"{where}:\n" + "\n".join(found)


def _role_file(role: str, name: str) -> tree_sitter.Node:
    return parse((ROOT / "roles" / role / "files" / name).read_bytes())


def test_served_certificate_probe_asks_for_tls_1_2_explicitly():
    """Issue 14 item 10: Windows PowerShell 5.1 may offer only older protocols by default."""
    calls = [n for n in nodes(_role_file("windows_certificates", "Get-VmsServedCertificate.ps1"),
                              "invokation_expression")
             if b".AuthenticateAsClient(" in n.text]
    assert calls, "no AuthenticateAsClient call"
    for call in calls:
        assert b"[Security.Authentication.SslProtocols]::Tls12" in call.text, call.text


def test_firewall_script_reads_filters_in_bulk_not_per_rule():
    """Issue 14 item 10: no 'rule | Get-NetFirewallPortFilter' (two CIM queries per rule)."""
    tree = _role_file("windows_firewall", "Set-VmsFirewallRuleGroup.ps1")
    per_rule = [n.text for n in nodes(tree, "command_name")
                if n.text.decode().startswith(("Get-NetFirewallPortFilter", "Get-NetFirewallAddressFilter",
                                               "Get-NetFirewallApplicationFilter"))]
    assert not per_rule, f"filters read by direct (per-rule) calls: {per_rule}"
    index = next(n for n in nodes(tree, "function_statement") if b"Get-VmsFilterIndex" in n.text[:40])
    assert b"All = $true" in index.text and b"& $Cmdlet @params" in index.text
    callers = [n.text for n in nodes(tree, "command") if n.text.startswith(b"Get-VmsFilterIndex")]
    assert {c.split()[1] for c in callers} >= {b"'Get-NetFirewallPortFilter'", b"'Get-NetFirewallAddressFilter'"}


@pytest.mark.parametrize("role,name", [("windows_firewall", "Set-VmsFirewallRuleGroup.ps1"),
                                       ("windows_certificates", "Set-VmsIisHttpsBinding.ps1")])
def test_rolled_back_is_said_only_when_every_undo_step_succeeded(role, name):
    """Issue 14 item 10: the message says 'rolled back' only inside 'if ($rollbackErrors.Count -eq 0)'."""
    tree = _role_file(role, name)
    throws = [n for n in nodes(tree, "flow_control_statement")
              if n.text.startswith(b"throw") and b"rolled back" in n.text]
    assert throws
    for throw in throws:
        parent = throw
        while parent is not None and parent.type != "if_statement":
            parent = parent.parent
        assert parent is not None and b"$rollbackErrors.Count -eq 0" in parent.text.split(b"{")[0], throw.text
    failed = [n for n in nodes(tree, "flow_control_statement") if b"rollback ALSO failed" in n.text]
    assert failed, "no message for a failed rollback"


@pytest.mark.parametrize("path", script_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_role_scripts_run_in_check_mode_only_when_they_say_so(path):
    """win_powershell skips a script without SupportsShouldProcess in check mode (win_powershell.ps1);
    every role script declares it, so check mode predicts instead of skipping silently."""
    if "roles" not in path.parts:
        pytest.skip("not a role script")
    attrs = [n.text for n in nodes(parse(path.read_bytes()), "attribute") if n.text.startswith(b"[CmdletBinding")]
    assert attrs and b"SupportsShouldProcess" in attrs[0], path.name
