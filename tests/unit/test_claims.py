"""Issue 24 item 2: true claims only. "Everything not listed is closed" is false on Windows, where rules
outside the vms-deploy group stay in force; the report, ports.md, explain and check must say so per host.

The expectation comes from the Windows decision module (render/windows_foreign.py, the controller's
twin of the firewall script): a built-in Remote Desktop rule admits tcp/3389 beyond the group, and
vms_win_disable_foreign_rules would not switch it off (only rules that widen a planned port).
"""
from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, GOLDEN_PLANS, example, load_json, plan_of

from vms_deploy import cli
from vms_deploy.claims import host_claims
from vms_deploy.evaluate import evaluate
from vms_deploy.explain import explain_port, render_explanation
from vms_deploy.render import port_matrix
from vms_deploy.render.windows_firewall import rules_for_host
from vms_deploy.render.windows_foreign import exceeding, to_disable

RDP = {"name": "RemoteDesktop-UserMode-In-TCP", "display_name": "Remote Desktop - User Mode (TCP-In)",
       "group": "@FirewallAPI.dll,-28752", "enabled": True, "direction": "Inbound", "action": "Allow",
       "protocol": "TCP", "local_ports": ["3389"], "remote_addresses": ["Any"], "store": "Local"}


def _windows_hosts(plan):
    return [h for h, v in plan["hosts"].items() if v["platform"] == "windows"]


def test_windows_decision_module_says_rdp_stays_open():
    plan = load_json(GOLDEN_PLANS / "xprotect_distributed_dmz.json")
    desired = rules_for_host(plan, "xmgmt")
    found = exceeding(desired, [RDP])
    assert [(e["protocol"], e["ports"], e["planned"]) for e in found[0]["excess"]] == [("TCP", "3389", False)]
    assert to_disable(found) == []  # not a planned port: vms_win_disable_foreign_rules leaves it on
    claims = host_claims(plan, "xmgmt", {"xmgmt": {"vms_win_disable_foreign_rules": True}})
    assert claims.closed is False and "3389" in " ".join(claims.not_owned)


@pytest.mark.parametrize("name", EXAMPLES)
def test_ports_md_claims_are_true_per_host(name):
    plan = plan_of(example(name))
    text = port_matrix.render(plan)
    assert "Every port not listed is closed" not in text
    sections = {s.split(" ", 1)[0]: s for s in text.split("\n## ")[1:]}
    for host, hv in plan["hosts"].items():
        section = sections[host]
        if hv["platform"] == "windows":
            assert "Ports not listed: not opened by vms-deploy, but not necessarily closed" in section, section
            assert "Ports not listed: closed" not in section
        else:
            assert "Ports not listed: closed: dropped by the vms_deploy input chain" in section, section
    owned = sections["What"]
    if _windows_hosts(plan):
        assert "Remote Desktop tcp/3389" in owned and "vms_win_disable_foreign_rules" in owned
    assert "IPv6" in owned


def test_explain_does_not_say_closed_on_windows():
    plan = load_json(GOLDEN_PLANS / "xprotect_distributed_dmz.json")
    assert explain_port(plan, "xmgmt", 3389) == []
    text = render_explanation(plan, "xmgmt", 3389, None, [])
    assert not text.startswith("CLOSED") and text.startswith("NOT OPENED BY VMS-DEPLOY: port 3389 on xmgmt")
    assert "Remote Desktop tcp/3389" in text
    linux = render_explanation(plan, "xedge", 3389, None, [])
    assert linux.startswith("CLOSED: port 3389 on xedge") and "IPv4 and IPv6" in linux


def test_explain_json_and_settings_from_the_inventory(capsys):
    inv = "inventories/examples/xprotect_distributed_dmz"
    assert cli.main(["explain", inv, "--host", "xmgmt", "--port", "3389", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["open"] is False and doc["closed"] is False
    assert any("vms_win_disable_foreign_rules is not set" in t for t in doc["not_owned"])
    assert cli.main(["explain", inv, "--host", "xedge", "--port", "3389", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["closed"] is True


def test_check_names_what_it_did_not_evaluate():
    plan = load_json(GOLDEN_PLANS / "xprotect_distributed_dmz.json")
    # same zone: only xmgmt's own firewall is on the path
    verdict = evaluate(plan, "xrec1", "xmgmt", 3389)
    assert not verdict.allowed
    text = verdict.render()
    assert text.startswith("DENIED by the plan: ") and "rules outside the vms-deploy group" in text
    assert verdict.as_dict()["caveats"] == verdict.caveats and verdict.caveats
    # a planned port, local foreign rules switched off: only Group Policy rules remain unevaluated
    settings = {"xmgmt": {"vms_win_disable_foreign_rules": True}}
    narrowed = evaluate(plan, "xrec1", "xmgmt", 1433, settings=settings)
    assert not narrowed.allowed and "Group Policy rules" in narrowed.caveats[0], narrowed.render()
    # the edge (Linux) enforces what it says: no caveat
    edge = evaluate(plan, "10.50.2.7", "xmgmt", 3389)
    assert not edge.allowed and edge.caveats == [] and edge.render().startswith("DENIED: ")
