"""Properties of the neutral edge model (vms_deploy.edge.model), over generated zone flows.

Merging flows by destination never widens and never loses: the (source address, destination address)
pairs each merged flow admits, sources x union(destinations), are exactly those of the flows it came
from. The expectation is computed here by expanding every CIDR into its addresses with ipaddress, not
with the model's own collapse. Addresses come from a /27, so every product stays small.

Also: every backend renders every generated model (the backends accept what the model builds), and
on generated sites with an edge host, the FortiGate's and the MikroTik's rules (judged by the
interpreters of tests/unit/edge_vendor_devices.py, the MikroTik's made by api_modify's own code) keep
the security invariants.
"""
from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import sites

from vms_deploy import edge, invariants
from vms_deploy.edge.model import build, crosses_edge, merge_flows
from vms_deploy.pipeline import compile_plan

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # the vendor edges' stand-ins and judges
from edge_vendor_cases import VENDOR_BACKENDS, wired  # noqa: E402
from edge_vendor_devices import judge_of  # noqa: E402

EXAMPLES = int(os.environ.get("VMS_PROPERTY_EXAMPLES", "150"))
VENDOR_EXAMPLES = max(1, EXAMPLES // 15)  # each compiles a site and judges ~1000 tuples per backend
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow])

# Overlapping and nested networks on purpose: collapse must not let one list stand for another.
NETWORKS = ["10.0.0.0/30", "10.0.0.4/30", "10.0.0.0/29", "10.0.0.8/32", "10.0.0.9/32", "10.0.0.8/31",
            "10.0.0.16/28", "10.0.0.20/32", "10.0.0.24/29", "10.0.0.0/27"]
ZONES = ["servers", "clients", "dmz", "vpn"]  # internet and cameras flows have rules of their own (the contract)
HOSTS = {f"h{i}": f"10.0.0.{i}" for i in (1, 2, 9, 17, 20, 25)}


@st.composite
def flow(draw):
    to_host = draw(st.sampled_from(sorted(HOSTS) + [None]))
    destinations = ([HOSTS[to_host] + "/32"] if to_host
                    else draw(st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=3)))
    first = draw(st.sampled_from([80, 443, 7563]))
    return {"from": draw(st.sampled_from(ZONES)), "to": draw(st.sampled_from(ZONES)),
            "sources": draw(st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=3)),
            "destinations": destinations, "to_host": to_host, "protocol": draw(st.sampled_from(["tcp", "udp"])),
            "ports": [first, first + draw(st.sampled_from([0, 0, 5]))],
            "component": draw(st.sampled_from(["recorder", "gateway"])),
            "service": draw(st.sampled_from(["media", "http"])), "purpose": "generated"}


def _addresses(cidrs) -> set[str]:
    out: set[str] = set()
    for cidr in cidrs:
        out.update(str(a) for a in ipaddress.ip_network(cidr, strict=False))
    return out


def _pairs(key, sources, destinations) -> set[tuple]:
    return {key + (s, d) for s in _addresses(sources) for d in _addresses(destinations)}


def _admitted(flows, labels: bool = True) -> set[tuple]:
    """What the flows admit; labels=False: the packets only (not which component/service a rule names)."""
    out: set[tuple] = set()
    for f in flows:
        key = (f["from"], f["to"], f["protocol"], tuple(f["ports"]))
        key += (f["component"], f["service"]) if labels else ()
        out |= _pairs(key, f["sources"], f["destinations"])
    return out


@SETTINGS
@given(flows=st.lists(flow(), max_size=12))
def test_merging_flows_never_widens_nor_loses(flows):
    merged = merge_flows(flows)
    assert _admitted(merged) == _admitted(flows)
    assert len(merged) <= len(flows)


def _plan(flows) -> dict:
    hosts = {name: {"address": address, "zone": "servers", "components": ["recorder"], "inbound": []}
             for name, address in HOSTS.items()}
    hosts["edge1"] = {"address": "10.0.0.30", "zone": "edge", "components": ["edge"], "inbound": []}
    return {"schema": 1, "site": "generated", "product": "valerus", "remote_access": "none",
            "zones": {"internet": ["0.0.0.0/0"], "servers": ["10.0.0.0/27"]}, "hosts": hosts,
            # The vendor backends bind every zone a rule names to a device interface (vms_edge_interfaces).
            "edge": {"host": "edge1", "public_address": None, "backend": "nftables",
                     "interfaces": {z: f"port{i}" for i, z in enumerate(["internet"] + ZONES, start=1)}},
            "forwards": [], "zone_flows": flows, "vpn": None, "warnings": []}


@SETTINGS
@given(flows=st.lists(flow(), max_size=12))
def test_the_model_routes_exactly_the_flows_that_cross_the_edge(flows):
    plan = _plan(flows)
    model = build(plan, "edge1")
    got: set[tuple] = set()
    for f in model.flows:
        key = (f.from_zone, f.to_zone, f.protocol, f.ports)
        got |= _pairs(key, model.address_set(f.sources).cidrs, model.address_set(f.destinations).cidrs)
    crossing = [f for f in flows if f["from"] != f["to"]]  # same-zone flows stay on their LAN
    # Packets, not labels: two flows that differ only in their component are one rule.
    assert got == _admitted(crossing, labels=False)
    assert [f for f in flows if crosses_edge(f, "edge1")] == crossing
    for name in edge.BACKENDS:  # every backend renders every model
        host = "edge1" if edge.backend(name).MANAGED_EDGE else None
        assert edge.backend(name).render(build(plan, host, backend=name))


@settings(max_examples=VENDOR_EXAMPLES, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=sites())
def test_generated_sites_keep_the_invariants_on_the_vendor_edges(data):
    plan = compile_plan(data)
    assume(plan["edge"]["host"] and plan["remote_access"] != "vpn")  # a vendor edge is the vms_edge host; no WireGuard
    for backend in VENDOR_BACKENDS:
        wired_plan = wired(plan, backend)
        broken = invariants.violations(wired_plan, judge=judge_of(wired_plan, backend))
        assert broken == [], f"{plan['site']} on {backend}:\n" + "\n".join(broken[:20])
