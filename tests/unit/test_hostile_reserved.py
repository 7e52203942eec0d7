"""Issue 23, class 8: generated groups, lab-only variables and the controller's address written by hand.

Expectations from outside the rules: the groups are those plugins/filter/vms_plan.py generates for the plan's
hosts (compiled here and asked), the stand-in listeners run `when: vms_lab_interfaces is defined`
(playbooks/stages/linux_hosts.yml), and WinRM is a management port (docs/security.md, Threat model).
Each case through `vms-deploy plan` trusted and --untrusted (plan.yml: test_hostile_meaning_playbook.py).
"""
from __future__ import annotations

import importlib.util
import json

import pytest
from hostile23 import ROOT, plan, refused_line, site


def _generated_groups(tmp_path, capsys) -> set[str]:
    """Every group name vms_plan_groups makes for the example's plan (the filter itself, not our list)."""
    out = tmp_path / "reference"
    code, text, _ = plan(capsys, site(tmp_path / "ref"), out, untrusted=False)
    assert code == 0, text
    compiled = json.loads((out / "plan.json").read_text())
    spec = importlib.util.spec_from_file_location("vms_plan_filter", ROOT / "plugins" / "filter" / "vms_plan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {g for host in compiled["hosts"] for g in module.vms_plan_groups(compiled, host)}


def test_every_generated_group_is_refused_when_written_by_hand(tmp_path, capsys):
    groups = _generated_groups(tmp_path, capsys)
    assert "vms_plan_hosts" in groups and len(groups) > 8
    for group in sorted(groups):
        if group.startswith("vms_platform_"):
            continue  # reserved already (groups.check_reserved_groups), refused the same way
        work = tmp_path / group
        inv = site(work, files={"extra.yml": f"all:\n  children:\n    {group}:\n      hosts: {{}}\n"})
        code, text, _ = plan(capsys, inv, work / "plan", untrusted=False)
        assert code == 2, (group, text)
        assert refused_line(text, f"site: {group} = ", "makes from the plan at run time", "Fix: remove"), text


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case,extra,files,parts", [
    ("empty-plan-hosts", "", {"extra.yml": "all:\n  children:\n    vms_plan_hosts:\n      hosts: {}\n"},
     ["site: vms_plan_hosts = []", "site.yml would apply no firewall"]),
    ("plan-hosts-with-a-host", "", {"extra.yml": "all:\n  children:\n    vms_plan_hosts:\n      hosts: {xrec1: {}}\n"},
     ["host xrec1: vms_plan_hosts", "makes from the plan"]),
    ("controller-anywhere", "vms_win_controller_address: 0.0.0.0/0\n", {},
     ["vms_win_controller_address = '0.0.0.0/0'", "WinRM would be open"]),
    ("controller-half-internet", "vms_win_controller_address: 0.0.0.0/1\n", {},
     ["vms_win_controller_address = '0.0.0.0/1'", "WinRM would be open"]),
    ("lab-interfaces-on-real-nvr", "", {"host_vars/xrec1.yml": "vms_lab_interfaces: {servers: 10.50.1.21}\n"},
     ["host xrec1: vms_lab_interfaces", "the site is not a lab"]),
    ("lab-vars-copied-address-outside",
     "vms_lab_name: vmslab-x\nvms_lab_networks: {servers: 172.28.12.0/24}\n",
     {"host_vars/xrec1.yml": "vms_lab_interfaces: {servers: 10.50.1.21}\n"},
     ["host xrec1: vms_lab_interfaces", "not a lab container"]),
])
def test_a_reserved_name_is_refused(tmp_path, capsys, case, extra, files, parts, untrusted):
    inv = site(tmp_path, extra, files)
    out = tmp_path / "plan"
    code, text, _ = plan(capsys, inv, out, untrusted)
    assert "Traceback" not in text
    assert code == 2, text
    assert not out.exists()
    assert refused_line(text, *parts), text


def test_a_controller_address_and_the_lab_inventories_still_plan(tmp_path, capsys):
    inv = site(tmp_path, "vms_win_controller_address: 10.50.99.5\n")
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=False)
    assert code == 0, text
    for lab in sorted((ROOT / "inventories" / "lab").iterdir()):
        code, text, _ = plan(capsys, lab, tmp_path / lab.name, untrusted=True)
        assert code == 0, (lab.name, text)
