"""The security invariants hold on every example plan, and they fail when a plan breaks them."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest import EXAMPLES, example, plan_of, valerus_split, xprotect_dmz

from vms_deploy.invariants import probes, static_violations, violations
from vms_deploy.inventory import load_inventory

LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"
LABS = sorted(p.name for p in LAB.iterdir() if (p / "hosts.yml").exists())


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_hold_every_invariant(name):
    plan = plan_of(example(name))
    assert violations(plan) == []
    assert any(p["forbidden"] for p in probes(plan))


@pytest.mark.parametrize("name", LABS)
def test_lab_sites_hold_every_invariant(name):
    assert violations(plan_of(load_inventory(LAB / name))) == []


def _flow(frm, to, host, address, port, sources):
    return {"from": frm, "to": to, "sources": sources, "destinations": [address + "/32"], "to_host": host,
            "protocol": "tcp", "ports": [port, port], "component": "x", "service": "x", "purpose": "planted"}


def test_a_routed_internet_flow_is_caught():
    """The first build's defect, planted back into a plan: the oracle does not trust the zone flows."""
    plan = plan_of(valerus_split())
    bad = copy.deepcopy(plan)
    bad["zone_flows"].append(_flow("internet", "servers", "app", plan["hosts"]["app"]["address"], 9080,
                                   ["0.0.0.0/0"]))
    bad["hosts"]["app"]["inbound"].append({"protocol": "tcp", "ports": [9080, 9080], "sources": ["0.0.0.0/0"],
                                           "component": "gateway", "service": "gateway_http", "purpose": "planted"})
    found = violations(bad)
    assert any(v.startswith("1 internet") and "10.9.1.10 tcp/9080" in v for v in found), found


def test_a_camera_rule_on_the_app_server_is_caught():
    plan = copy.deepcopy(plan_of(valerus_split()))
    plan["hosts"]["app"]["inbound"].append({"protocol": "tcp", "ports": [80, 80], "sources": ["10.9.50.0/24"],
                                            "component": "app_server", "service": plan["hosts"]["app"]["inbound"][0]
                                            ["service"], "purpose": "planted"})
    plan["zone_flows"].append(_flow("cameras", "servers", "app", "10.9.1.10", 80, ["10.9.50.0/24"]))
    assert any(v.startswith("2 cameras") for v in violations(plan))


def test_management_from_clients_is_caught():
    plan = copy.deepcopy(plan_of(valerus_split(vms_management_networks=["10.9.200.0/24"])))
    plan["hosts"]["rec1"]["inbound"].append({"protocol": "tcp", "ports": [5986, 5986], "sources": ["10.9.2.0/24"],
                                             "component": "management", "service": "management", "purpose": "x"})
    plan["zone_flows"].append(_flow("clients", "servers", "rec1", "10.9.1.21", 5986, ["10.9.2.0/24"]))
    assert any(v.startswith("3 management") for v in violations(plan))


def test_xprotect_9000_from_clients_is_caught():
    plan = copy.deepcopy(plan_of(xprotect_dmz()))
    rule = next(r for r in plan["hosts"]["mgmt"]["inbound"] if r["ports"] == [9000, 9000])
    rule["sources"] = rule["sources"] + ["10.8.2.0/24"]
    plan["zone_flows"].append(_flow("clients", "servers", "mgmt", "10.8.1.10", 9000, ["10.8.2.0/24"]))
    assert any(v.startswith("4 restricted") for v in violations(plan))


def test_vpn_site_with_a_forward_is_caught():
    plan = plan_of(load_inventory(LAB / "vpn_site"))
    assert plan["remote_access"] == "vpn" and not plan["forwards"]
    bad = copy.deepcopy(plan)
    bad["forwards"] = [copy.deepcopy(plan_of(valerus_split())["forwards"][0])]
    assert any(v.startswith("5 vpn") for v in static_violations(bad))


def test_a_port_no_catalog_names_is_caught():
    plan = copy.deepcopy(plan_of(valerus_split()))
    plan["hosts"]["rec1"]["inbound"].append({"protocol": "tcp", "ports": [4444, 4444], "sources": ["10.9.1.10/32"],
                                             "component": "recorder", "service": "backdoor", "purpose": "x"})
    found = violations(plan)
    assert any(v.startswith("6 catalog") and "backdoor" in v for v in found), found


def test_a_judge_that_opens_everything_fails_every_class():
    plan = plan_of(xprotect_dmz())
    found = violations(plan, judge=lambda *_: True)
    classes = {v.split(":")[0] for v in found}
    assert {"1 internet", "2 cameras", "3 management", "4 restricted", "6 catalog"} <= classes, classes


def test_a_judge_that_opens_nothing_breaks_no_invariant():
    assert violations(plan_of(xprotect_dmz()), judge=lambda *_: False) == []


def test_forged_probes_claim_every_other_zone_from_each_vantage():
    """Invariant 7: from the Internet, a source of each internal zone; from the camera network, a
    client's, a server's and an Internet source; never a destination on the vantage's own segment."""
    from vms_deploy.invariants import forged_probes
    from vms_deploy.pipeline import compile_plan
    root = Path(__file__).resolve().parents[2]
    plan = compile_plan(load_inventory(root / "inventories" / "lab" / "dmz_valerus"))
    probes = forged_probes(plan, [{"name": "internet", "address": "172.28.40.100"},
                                  {"name": "camera", "address": "172.28.44.100"}], ["172.28.40.77"])
    claims = {(p["vantage"], p["source"]) for p in probes}
    assert {("internet", "172.28.42.77"), ("internet", "172.28.43.77"), ("internet", "172.28.44.77"),
            ("internet", "172.28.41.77")} <= claims
    assert {("camera", "172.28.42.77"), ("camera", "172.28.43.77"), ("camera", "172.28.40.77")} <= claims
    assert not {s for v, s in claims if v == "camera" and s.startswith("172.28.44.")}
    assert {p["host"] for p in probes} == {"app1", "rec1", "gw1"}
    assert {p["protocol"] for p in probes} == {"tcp", "udp"} and all(p["forbidden"] for p in probes)
    tried = {(p["host"], p["protocol"], p["port"]) for p in probes}
    assert {("gw1", r["protocol"], r["ports"][0]) for r in plan["hosts"]["gw1"]["inbound"]} <= tried
