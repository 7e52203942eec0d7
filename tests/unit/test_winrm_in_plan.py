"""Issue 20 item 3: the plan, the port matrix, `check` and the deployed firewall agree on WinRM.

An example Windows site whose Ansible connection is WinRM over HTTP (ansible_port: 5985), with both a management
network and vms_win_controller_address: the plan's WinRM rule on each Windows host is the port Ansible really
connects on (from ansible_port), open to the management networks and to the controller address (as a /32); `check`
from the controller says ALLOWED, ports.md says 5985, and the Windows rule group the role renders opens exactly
what the plan says (the role adds no source of its own).

Expectations from outside the code: the inventory's own ansible_port and addresses; docs/windows.md, "Firewall".
"""
from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest

from vms_deploy import cli
from vms_deploy.invariants import violations
from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.render import windows_firewall as firewall

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "inventories" / "examples"
CONTROLLER = "10.10.1.5"       # valerus_all_in_one's vms_win_controller_address
MANAGEMENT = "10.10.99.0/24"   # a management network added to the copy


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "valerus_all_in_one"
    shutil.copytree(EXAMPLES / "valerus_all_in_one", site)
    windows = site / "group_vars" / "windows.yml"
    text = windows.read_text()
    for old, new in (("ansible_port: 5986", "ansible_port: 5985"), ("ansible_winrm_scheme: https",
                                                                    "ansible_winrm_scheme: http")):
        assert old in text
        text = text.replace(old, new)
    windows.write_text(text)
    all_vars = site / "group_vars" / "all.yml"
    assert f"vms_win_controller_address: {CONTROLLER}" in all_vars.read_text()
    all_vars.write_text(all_vars.read_text() + f"vms_management_networks: [{MANAGEMENT}]\n")
    return site


def _windows_hosts(plan: dict) -> list[str]:
    hosts = sorted(h for h, e in plan["hosts"].items() if e.get("platform") == "windows")
    assert hosts
    return hosts


def _winrm_rules(plan: dict, host: str) -> list[dict]:
    return [r for r in plan["hosts"][host]["inbound"] if r["component"] == "management"]


def test_the_plans_winrm_rule_is_the_connection_port_from_the_controller_and_management(site):
    plan = compile_plan(load_inventory(str(site)))
    for host in _windows_hosts(plan):
        rules = _winrm_rules(plan, host)
        assert [(r["protocol"], r["ports"]) for r in rules] == [("tcp", [5985, 5985])], rules
        assert set(rules[0]["sources"]) == {MANAGEMENT, f"{CONTROLLER}/32"}
        assert not [r for r in plan["hosts"][host]["inbound"] if 5986 in range(r["ports"][0], r["ports"][1] + 1)]
    assert not violations(plan)  # the independent oracle: management ports only from management sources


def test_check_allows_the_controller_to_winrm(site, capsys):
    plan = compile_plan(load_inventory(str(site)))
    for host in _windows_hosts(plan):
        code = cli.main(["check", str(site), "--from", CONTROLLER, "--to", host, "--port", "5985"])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert code == 0 and "ALLOWED" in out, out + err
        code = cli.main(["check", str(site), "--from", CONTROLLER, "--to", host, "--port", "5986"])
        out, _ = capsys.readouterr()
        assert code != 0 and "DENIED" in out, out


def test_the_port_matrix_says_5985(site, tmp_path, capsys):
    out_dir = tmp_path / "plan"
    code = cli.main(["plan", str(site), "--out", str(out_dir)])
    _, err = capsys.readouterr()
    assert code == 0, err
    matrix = (out_dir / "ports.md").read_text()
    winrm = [ln for ln in matrix.splitlines() if "WinRM" in ln or "management" in ln.lower()]
    assert any("5985" in ln for ln in winrm), matrix
    assert "5986" not in matrix, matrix


def test_the_rendered_rule_group_opens_exactly_the_plan(site):
    plan = compile_plan(load_inventory(str(site)))
    for host in _windows_hosts(plan):
        # What roles/windows_firewall passes: the host, the port Ansible is connected on, nothing more.
        rules = firewall.rules_for_host(plan, host, 5985)
        opened = {(r["protocol"], r["local_ports"], tuple(r["remote_addresses"])) for r in rules}
        wanted = {(r["protocol"].upper(), "-".join(dict.fromkeys(str(p) for p in r["ports"])),
                   tuple(firewall.normalize_addresses(r["sources"]))) for r in plan["hosts"][host]["inbound"]}
        assert opened == wanted
        winrm = [r for r in rules if firewall.covers(r, "TCP", 5985)]
        assert len(winrm) == 1
        assert firewall.admits(winrm[0], "TCP", 5985, CONTROLLER)
        assert firewall.admits(winrm[0], "TCP", 5985, str(ipaddress.ip_network(MANAGEMENT)[7]))


def test_the_role_passes_no_source_of_its_own():
    tasks = (ROOT / "roles" / "windows_firewall" / "tasks" / "main.yml").read_text()
    defaults = (ROOT / "roles" / "windows_firewall" / "defaults" / "main.yml").read_text()
    assert "vms_windows_firewall_parameters(inventory_hostname, windows_firewall_winrm_port) }}" in tasks
    assert "windows_firewall_controller_address" not in defaults


@pytest.mark.parametrize("value", ["controller.example", "10.10.1.300", "10.10.1.5/40"])
def test_a_controller_address_that_is_not_an_address_is_an_input_error(site, tmp_path, capsys, value):
    all_vars = site / "group_vars" / "all.yml"
    all_vars.write_text(all_vars.read_text().replace(f"vms_win_controller_address: {CONTROLLER}",
                                                     f"vms_win_controller_address: '{value}'"))
    code = cli.main(["plan", str(site), "--out", str(tmp_path / "plan")])
    _, err = capsys.readouterr()
    assert code != 0 and "Traceback" not in err
    assert "vms_win_controller_address" in err and "is not an IPv4 address or CIDR" in err, err
