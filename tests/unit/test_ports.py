"""vms_deploy.ports: the product's port constants in one place, and the one port-range formatter."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import valerus_split

from vms_deploy import ports
from vms_deploy.pipeline import compile_plan

ROOT = Path(__file__).resolve().parents[2]
# The oracle and the probe keep their own lists on purpose (see their comments); ports.py is the home.
OWN_LISTS = {"src/vms_deploy/ports.py", "src/vms_deploy/invariants.py", "src/vms_deploy/probe.py"}
PRODUCT_PORTS = {ports.WINRM_HTTP_PORT, ports.WINRM_HTTPS_PORT, ports.WIREGUARD_PORT}


def test_port_range_styles():
    assert ports.port_range([80, 80]) == "80"
    assert ports.port_range((9001, 9004)) == "9001-9004"
    assert ports.port_range([7563]) == "7563"
    assert ports.port_range([80, 80], style="router") == "80:80"
    assert ports.port_range([9001, 9004], style="router") == "9001:9004"
    with pytest.raises(ValueError, match="unknown port range style 'cisco'"):
        ports.port_range([1, 2], style="cisco")
    with pytest.raises(ValueError, match=r"a port range is \[first, last\]"):
        ports.port_range([1, 2, 3])


def test_management_port_and_suggestion():
    assert ports.management_port("linux") == 22 and ports.management_port("windows") == 5986
    assert ports.management_port("windows", 15986) == 15986
    assert ports.free_management_port([]) == 2222
    assert ports.free_management_port([(2000, 2300), (22022, 22022)]) == 5986
    assert ports.free_management_port([(1, 65535)]) == ports.MANAGEMENT_PORT_LAST_RESORT


def _int_literals(path: Path) -> set[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is int}


@pytest.mark.parametrize("path", sorted([*ROOT.glob("src/vms_deploy/**/*.py"), *ROOT.glob("plugins/*/*.py"),
                                         *ROOT.glob("roles/*/*_plugins/*.py")]),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_winrm_and_wireguard_ports_are_named_in_ports_py_only(path):
    rel = str(path.relative_to(ROOT))
    if rel in OWN_LISTS:
        return
    found = _int_literals(path) & PRODUCT_PORTS
    assert not found, f"{rel} writes {sorted(found)}: use the constants in vms_deploy.ports"


def test_the_plan_holds_the_management_and_vpn_rules():
    """Renderers add no management rule of their own: the compiler gives every host one; the VPN's
    listen port is the plan's too (WireGuard's unless vms_vpn_listen_port says otherwise)."""
    plan = compile_plan(valerus_split(vms_management_networks=["10.8.99.0/24"]))
    for host, entry in plan["hosts"].items():
        rules = [r for r in entry["inbound"] if r["component"] == "management"]
        want = ports.MANAGEMENT_PORTS[entry["platform"]]
        assert [r["ports"] for r in rules] == [[want, want]], host
        assert rules[0]["sources"] == ["10.8.99.0/24"]
    vpn = valerus_split(vms_remote_access="vpn", vms_vpn_network="10.99.0.0/24", vms_public_address="100.64.0.9")
    assert compile_plan(vpn)["vpn"]["listen_port"] == ports.WIREGUARD_PORT
    assert compile_plan({**vpn, "hosts": {h: {**v, "vms_vpn_listen_port": 4500} for h, v in vpn["hosts"].items()}}
                        )["vpn"]["listen_port"] == 4500
