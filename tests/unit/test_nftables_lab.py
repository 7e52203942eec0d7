"""Lab plumbing: stand-in port lists, the lab's filters and the lab spec built from a lab inventory's vms_lab_*
variables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from vms_lab.flows import vantage_checks
from vms_lab.standin import standin_ports

ROOT = Path(__file__).resolve().parents[2]
PLAN = json.loads((Path(__file__).parent / "fixtures" / "nftables" / "plan_valerus_aio.json").read_text())


def _lab_filter():
    spec = importlib.util.spec_from_file_location("vms_lab",
                                                  ROOT / "lab" / "roles" / "lab" / "filter_plugins" / "vms_lab.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.vms_lab_spec


def test_standin_ports_cover_every_service_port_and_skip_real_ones():
    ports = standin_ports(PLAN, "app1", skip=["tcp/9080"])
    got = {(p["protocol"], p["port"]) for p in ports}
    assert ("tcp", 3000) in got and ("tcp", 3001) in got and ("udp", 5353) in got and ("tcp", 7563) in got
    assert ("tcp", 9080) not in got
    assert all(p["component"] and p["service"] for p in ports)


def test_standin_huge_range_is_sampled():
    plan = json.loads(json.dumps(PLAN))
    plan["hosts"]["app1"]["inbound"].append({"protocol": "udp", "ports": [20000, 29999], "sources": ["0.0.0.0/0"],
                                             "component": "recorder", "service": "media", "purpose": "x"})
    media = [p["port"] for p in standin_ports(plan, "app1") if p["service"] == "media"]
    assert media == [20000, 24999, 29999]


def _flow_filters():
    spec = importlib.util.spec_from_file_location("vms_lab_flows",
                                                  ROOT / "lab" / "plugins" / "filter" / "vms_lab_flows.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.IMPORT_ERROR is None, mod.IMPORT_ERROR
    return mod.FilterModule().filters()


def test_standin_filter_skips_what_a_valerus_gateways_nginx_serves():
    """On a Linux Valerus gateway the reverse proxy owns its ports (render.nginx.owned_ports); the
    stand-in takes every other planned port and nothing the plan does not give the host."""
    from vms_deploy.inventory import load_inventory
    from vms_deploy.pipeline import compile_plan
    from vms_deploy.render import nginx
    plan = compile_plan(load_inventory(str(ROOT / "inventories" / "lab" / "all_in_one")))
    assert plan["product"] == "valerus" and "vms_gateways" in plan["hosts"]["app1"]["groups"]
    owned = set(nginx.owned_ports(plan, "app1"))
    assert owned, "the lab's gateway has no nginx ports: the test would prove nothing"
    every = {f'{p["protocol"]}/{p["port"]}' for p in standin_ports(plan, "app1")}
    got = {f'{p["protocol"]}/{p["port"]}' for p in _flow_filters()["vms_standin_ports"]({"plan": plan}, "app1")}
    assert got and not got & owned and got | owned == every
    got = {f'{p["protocol"]}/{p["port"]}' for p in _flow_filters()["vms_standin_ports"](plan, "app1", ["tcp/554"])}
    assert "tcp/554" in every and got == every - owned - {"tcp/554"}


def test_flow_filters_wrap_the_lab_package_and_refuse_a_non_plan():
    f = _flow_filters()
    vantages = [{"name": "operator", "address": "172.28.13.100"}]
    assert f["vms_flow_checks"]({"plan": PLAN}, vantages) == vantage_checks(PLAN, vantages)
    line = f["vms_flow_check_line"](dict(vantage_checks(PLAN, vantages)[0], open=False))
    assert "expect" in line and "got closed" in line
    with pytest.raises(AnsibleFilterError, match="expected the plan dict"):
        f["vms_flow_checks"]("not a plan", vantages)
    with pytest.raises(AnsibleFilterError, match="'ghost' is not in the plan"):
        f["vms_standin_ports"](PLAN, "ghost")


MEMBERS = [
    {"host": "app1", "container": "vmslab-t-app1", "interfaces": {"servers": "172.28.12.10"}},
    {"host": "edge1", "container": "vmslab-t-edge1",
     "interfaces": {"internet": "172.28.10.2", "servers": "172.28.12.2", "clients": "172.28.13.2"}},
]
NETS = {"internet": "172.28.10.0/24", "servers": "172.28.12.0/24", "clients": "172.28.13.0/24"}
VANTAGES = [{"name": "operator", "network": "clients", "address": "172.28.13.100"}]


def test_lab_spec_routes_everything_through_the_edge():
    spec = _lab_filter()(MEMBERS, "vmslab-t", NETS, "edge1", VANTAGES)
    assert [n["name"] for n in spec["networks"]] == ["vmslab-t-clients", "vmslab-t-internet", "vmslab-t-servers"]
    by = {c["name"]: c for c in spec["containers"]}
    assert by["vmslab-t-app1"]["gateway"] == "172.28.12.2"
    assert by["vmslab-t-operator"]["gateway"] == "172.28.13.2" and by["vmslab-t-operator"]["kind"] == "vantage"
    assert by["vmslab-t-edge1"]["edge"] is True and by["vmslab-t-edge1"]["gateway"] is None
    assert len(by["vmslab-t-edge1"]["networks"]) == 3


def test_lab_spec_errors_name_the_host_and_fix():
    bad = [dict(MEMBERS[0], interfaces={"servers": "172.28.99.10"}), MEMBERS[1]]
    with pytest.raises(AnsibleFilterError, match=r"app1 on servers: address 172.28.99.10 is not inside"):
        _lab_filter()(bad, "vmslab-t", NETS, "edge1", [])
    with pytest.raises(AnsibleFilterError, match="vms_lab_edge_host = 'nope'"):
        _lab_filter()(MEMBERS, "vmslab-t", NETS, "nope", [])
    with pytest.raises(AnsibleFilterError, match="network 'dmz' is not in vms_lab_networks"):
        _lab_filter()([dict(MEMBERS[0], interfaces={"dmz": "172.28.11.5"}), MEMBERS[1]], "vmslab-t", NETS, "edge1", [])
