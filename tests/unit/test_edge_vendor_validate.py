"""The vendor edges' inventory variables, refused before anything is compiled (validate/edge_device.py).

Each error names the host, the variable and a fix; the fix applied, the inventory validates and its
edge renders (the renderer refuses the same cases, tests/unit/test_edge_backends.py).
"""
from __future__ import annotations

import pytest
from conftest import plan_of, valerus_split

from vms_deploy import edge
from vms_deploy.errors import MISSING
from vms_deploy.validate import validate

WIRED = {"internet": "port1", "servers": "port2", "clients": "port3", "cameras": "port4", "dmz": "port5"}


def _site(backend="fortios", interfaces=None, **site_vars):
    data = valerus_split(vms_edge_backend=backend, **site_vars)
    if interfaces is not None:
        data["hosts"]["edge"]["vms_edge_interfaces"] = interfaces
    return data


def _errors(data, variable_prefix="vms_edge"):
    return [e for e in validate(data) if e.variable.startswith(variable_prefix)]


@pytest.mark.parametrize("backend", ["fortios", "routeros"])
def test_the_interfaces_are_required_and_the_fix_is_accepted(backend):
    errors = _errors(_site(backend))
    assert [(e.host, e.variable) for e in errors] == [("edge", "vms_edge_interfaces")]
    assert errors[0].value is MISSING and "is required with vms_edge_backend" in errors[0].problem
    port = "port" if backend == "fortios" else "ether"
    assert f"{{internet: {port}1, servers: {port}2, clients: {port}3, cameras: {port}4, dmz: {port}5}}" in errors[0].fix
    fixed = _site(backend, {z: f"{port}{i}" for i, z in enumerate(WIRED, start=1)})
    assert validate(fixed) == []
    assert edge.render(plan_of(fixed))


def test_a_zone_with_networks_must_be_wired():
    errors = _errors(_site(interfaces={k: v for k, v in WIRED.items() if k != "cameras"}))
    assert len(errors) == 1 and "lacks zone(s) cameras" in errors[0].problem and "cameras: port4" in errors[0].fix
    errors = _errors(_site(interfaces=dict(WIRED), vms_management_networks=["10.9.99.0/24"]))
    assert len(errors) == 1 and "lacks zone(s) management" in errors[0].problem


@pytest.mark.parametrize("zone,name,problem", [
    ("vpn", "port9", "not a zone the FortiGate binds"),
    ("edge", "port9", "not a zone the FortiGate binds"),
    ("servers", "port 2", "is not an interface name"),
    ("servers", 'port2"; drop', "is not an interface name"),
    ("servers", 2, "expected a string"),
    ("clients", "port1", "is the Internet's interface too"),
])
def test_a_bad_entry_is_named_down_to_its_zone(zone, name, problem):
    errors = _errors(_site(interfaces={**WIRED, zone: name}))
    assert [(e.variable, e.value) for e in errors] == [(f"vms_edge_interfaces.{zone}", name)]
    assert problem in errors[0].problem and errors[0].fix


def test_the_wireguard_vpn_is_refused_with_a_vendor_edge():
    data = _site("routeros", dict(WIRED), vms_remote_access="vpn", vms_vpn_network="10.9.77.0/24",
                 vms_vpn_peers=[{"name": "laptop", "address": "10.9.77.2/32"}])
    errors = [e for e in validate(data) if e.variable == "vms_remote_access"]
    assert len(errors) == 1 and errors[0].host == "all" and "MikroTik's own VPN" in errors[0].fix


def test_the_wiring_is_refused_where_nothing_reads_it():
    errors = _errors(_site("nftables", dict(WIRED)))
    assert [(e.host, e.variable) for e in errors] == [("edge", "vms_edge_interfaces")]
    assert "read only by vms_edge_backend fortios or routeros" in errors[0].problem
    data = _site(interfaces=dict(WIRED))
    data["hosts"]["app"]["vms_edge_interfaces"] = dict(WIRED)
    assert [(e.host, e.variable) for e in _errors(data)] == [("app", "vms_edge_interfaces")]
    data = _site("routeros", dict(WIRED))
    data["hosts"]["edge"]["vms_edge_policy_id_base"] = 5000
    errors = _errors(data)
    assert [(e.variable, e.value) for e in errors] == [("vms_edge_policy_id_base", 5000)]
    assert "read only by vms_edge_backend fortios" in errors[0].problem


@pytest.mark.parametrize("base", [0, -5, 4294967000])
def test_the_policy_id_base_leaves_room_for_the_block(base):
    data = _site(interfaces=dict(WIRED))
    data["hosts"]["edge"]["vms_edge_policy_id_base"] = base
    errors = _errors(data)
    assert [(e.variable, e.value) for e in errors] == [("vms_edge_policy_id_base", base)]
    data["hosts"]["edge"]["vms_edge_policy_id_base"] = 100000
    assert validate(data) == []


def test_a_controller_outside_every_site_network_is_a_zone_to_wire():
    """The Windows controller address (vms_win_controller_address) outside every declared network is the plan's
    management zone (compiler.management_zone): a vendor edge binds it to an interface, refused before the edge
    stage; on a site LAN it is that LAN's zone and needs none."""
    outside = _site(interfaces=dict(WIRED), vms_win_controller_address="10.99.7.5")
    assert "10.99.7.5/32" in plan_of(_site("nftables", vms_win_controller_address="10.99.7.5"))["zones"]["management"]
    errors = _errors(outside)
    assert len(errors) == 1 and "lacks zone(s) management" in errors[0].problem, errors
    inside = _site(interfaces=dict(WIRED), vms_win_controller_address="10.9.1.5", vms_server_networks=["10.9.1.0/24"])
    assert _errors(inside) == []
    assert plan_of(inside)["zones"]["management"] == []
