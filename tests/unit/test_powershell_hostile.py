"""Hostile names through every PowerShell text the Windows path renders (issue 13, Windows part).

A name chosen by someone else (a firewall rule a vendor or an attacker created on the host, a path or a
certificate group name from the inventory) must stay ONE string literal when the rendered command is
pasted into PowerShell: parsed here with tree-sitter-powershell, the argument is a single verbatim string
whose value is the name, and the line is still one command (a semicolon or newline did not start another).
Values that reach the scripts go as win_powershell parameters (data); no script turns text into code.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell

from vms_deploy.render import windows_certificates as wc
from vms_deploy.render import windows_foreign as wfo
from vms_deploy.render import windows_powershell as wps

ROOT = Path(__file__).resolve().parents[2]
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
HOSTILE = [
    "plain name",
    "it's",
    "'; Remove-Item C:\\ -Recurse; '",
    "$(Stop-Computer -Force)",
    "$env:USERNAME and ${x}",
    "back`tick`n and `'",
    'double "quotes" $(x)',
    "semi;colon & pipe | amp",
    "line one\nline two; Stop-Computer",
    "carriage\r\nreturn",
    "typographic \u2019quote\u2018 and \u201a\u201b",
    "''''",
    "",
]


def _nodes(node, kind):
    if node.type == kind:
        yield node
    for child in node.children:
        yield from _nodes(child, kind)


def _unquote(literal: str) -> str:
    assert literal[0] in wps.SINGLE_QUOTES and literal[-1] in wps.SINGLE_QUOTES, literal
    body = literal[1:-1]
    for quote in wps.SINGLE_QUOTES:
        body = body.replace(quote * 2, quote)
    return body


def _command_arguments(text: str) -> tuple[list, list[str]]:
    """(the top-level pipelines, the string literal values of the only command's arguments)."""
    root = PARSER.parse(text.encode()).root_node
    assert not root.has_error, text
    pipelines = [n for n in _nodes(root, "pipeline") if n.parent is not None and n.parent.type == "statement_list"
                 and n.parent.parent is not None and n.parent.parent.type == "program"]
    literals = [n for n in _nodes(root, "string_literal")]
    for lit in literals:  # verbatim (single-quoted) only: nothing inside is expanded
        assert [c.type for c in lit.children] == ["verbatim_string_characters"], lit.text
    return pipelines, [_unquote(lit.text.decode()) for lit in literals]


# The PowerShell language specification (single-quote-character): ' and U+2018..U+201B all end a
# verbatim string, and two of them in a row stand for one. tree-sitter only knows the ASCII quote, so
# the typographic ones are checked against the specification directly.
SPEC_QUOTES = "'\u2018\u2019\u201a\u201b"


def _ends_early(literal: str) -> bool:
    """True when a single quote character inside the body is not doubled (PowerShell would end there)."""
    body, i = literal[1:-1], 0
    while i < len(body):
        if body[i] in SPEC_QUOTES:
            if i + 1 >= len(body) or body[i + 1] not in SPEC_QUOTES:
                return True
            i += 2
            continue
        i += 1
    return False


@pytest.mark.parametrize("name", HOSTILE)
def test_ps_literal_is_one_verbatim_string_with_the_same_value(name):
    literal = wps.ps_literal(name)
    pipelines, values = _command_arguments(f"Write-Output {literal}")
    assert len(pipelines) == 1 and values == [name]
    assert not _ends_early(literal), literal


@pytest.mark.parametrize("name", HOSTILE)
def test_audit_fix_for_a_hostile_foreign_rule_name(name):
    rule = {"name": name, "display_name": name, "group": "", "store": "Local", "protocol": "TCP",
            "local_ports": ["5986"], "remote_addresses": ["Any"], "direction": "Inbound", "action": "Allow",
            "enabled": True, "program": "Any"}
    desired = [{"name": "vms-deploy-management-tcp-5986-winrm", "protocol": "TCP", "local_ports": "5986",
                "remote_addresses": ["10.9.0.0/24"], "action": "allow", "enabled": True}]
    [finding] = [f for f in wfo.audit_findings("h", {"foreign": [rule]}, desired) if f["status"] == "drift"]
    command = finding["detail"].split("or on the host: ", 1)[1].rsplit(")", 1)[0]
    pipelines, values = _command_arguments(command)
    assert len(pipelines) == 1 and values == [name]
    assert command.startswith("Disable-NetFirewallRule -Name ")


@pytest.mark.parametrize("name", HOSTILE)
def test_server_configurator_commands_with_a_hostile_path_and_group(name):
    for command in wps.configurator_commands(f"C:\\Milestone\\{name}\\ServerConfigurator.exe", "AB" * 20, name):
        pipelines, values = _command_arguments(command)
        assert len(pipelines) == 1
        assert values[0] == f"C:\\Milestone\\{name}\\ServerConfigurator.exe"
    step = wc.xprotect_manual_step("h", "AB" * 20, [{"component": "c", "port": 443, "section": name}],
                                   configurator=f"C:\\{name}.exe")
    line = next(x for x in step.splitlines() if "in PowerShell on the host: " in x) if "\n" not in name else None
    if line is not None:  # a newline in the name splits the message's lines, not the commands' literals
        for command in line.split("in PowerShell on the host: ", 1)[1].split("; then "):
            pipelines, values = _command_arguments(command)
            assert len(pipelines) == 1 and values[0] == f"C:\\{name}.exe"


def test_no_script_turns_text_into_code():
    """Scripts get values as parameters; none evaluates a string (Invoke-Expression, iex, [scriptblock]::Create)."""
    for path in sorted(ROOT.glob("roles/*/files/*.ps1")):
        root = PARSER.parse(path.read_bytes()).root_node
        names = {n.text.decode().lower() for n in _nodes(root, "command_name")}
        assert not names & {"invoke-expression", "iex"}, path.name
        assert b"[scriptblock]::Create" not in path.read_bytes(), path.name
