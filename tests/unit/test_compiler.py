"""Policy compiler: every policy point of issue 2, the topologies, zones, forwards, VPN and warnings."""
from __future__ import annotations

import ipaddress
import json
import random

import pytest
from conftest import (
    EXAMPLES,
    GOLDEN_PLANS,
    compare_golden,
    example,
    make_site,
    nvr_home,
    open_ports,
    plan_of,
    rules,
    valerus_split,
    xprotect_dmz,
)

from vms_deploy.compiler import _Compiler as Compiler
from vms_deploy.plan_io import plan_json
from vms_deploy.plan_warnings import line

ANY = "0.0.0.0/0"


def warning_lines(plan: dict) -> list[str]:
    """Each warning as one line: GROUP: TEXT. Fix: FIX. (vms_deploy.plan_warnings.line)."""
    return [line(w) for w in plan["warnings"]]


# --- golden plans of the example inventories ---------------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_plan_matches_golden(name):
    compare_golden(GOLDEN_PLANS / f"{name}.json", plan_json(plan_of(example(name))))


def test_examples_cover_every_topology_of_every_product():
    seen = {(p["product"], p["topology"]) for p in (plan_of(example(n)) for n in EXAMPLES)}
    assert {("valerus", "all_in_one"), ("valerus", "separate_app_server"), ("valerus", "separate_recorders"),
            ("xprotect", "all_in_one"), ("xprotect", "separate_app_server"), ("generic_nvr", "all_in_one")} <= seen


# --- topology ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("groups,expected", [
    ({"vms_app_servers": ["a"], "vms_recorders": ["a"]}, "all_in_one"),
    ({"vms_app_servers": ["a"], "vms_recorders": ["r1", "r2"]}, "separate_app_server"),
    ({"vms_app_servers": ["a"], "vms_recorders": ["a", "r2"]}, "separate_recorders"),
])
def test_topology_comes_from_group_membership_alone(groups, expected):
    assert plan_of(make_site(groups, vms_product="valerus", vms_site="t"))["topology"] == expected


def test_minimal_inventory_with_only_contract_variables_gives_a_complete_plan():
    plan = plan_of(make_site({"vms_app_servers": ["a"], "vms_recorders": ["a"]}, {"a": "10.1.1.1"},
                             vms_product="valerus", vms_site="tiny"))
    assert plan["schema"] == 1 and plan["remote_access"] == "none" and plan["forwards"] == []
    assert plan["hosts"]["a"]["address"] == "10.1.1.1" and plan["hosts"]["a"]["platform"] == "windows"
    assert plan["hosts"]["a"]["components"] == ["app_server", "recorder"]
    assert set(plan) >= {"schema", "site", "product", "topology", "remote_access", "zones", "hosts", "edge",
                         "forwards", "zone_flows", "vpn", "warnings"}
    assert plan["zones"]["internet"] == [ANY] and plan["zones"]["servers"] == ["10.1.1.1/32"]


def test_vms_address_overrides_ansible_host_and_is_written_as_a_32():
    data = valerus_split()
    data["hosts"]["gw"]["vms_address"] = "10.9.9.56"
    plan = plan_of(data)
    assert plan["hosts"]["gw"]["address"] == "10.9.9.56"
    assert "10.9.9.56/32" in rules(plan, "app", "app_web_https")[0]["sources"]
    assert all(f["to_address"] == "10.9.9.56" for f in plan["forwards"])


# --- Valerus ------------------------------------------------------------------------------------------------
def test_valerus_gateway_opens_its_ports_and_web_player_by_default():
    plan = plan_of(valerus_split())
    assert {9080, 9443, 9081, 3000, 3001} <= open_ports(plan, "gw")


def test_valerus_web_player_off_closes_and_does_not_forward_3000_3001():
    plan = plan_of(valerus_split(vms_web_player=False))
    assert open_ports(plan, "gw") == {9080, 9443, 9081}
    assert sorted(f["to_ports"][0] for f in plan["forwards"]) == [9080, 9081, 9443]


def test_valerus_default_forwards_follow_the_seed_example():
    plan = plan_of(valerus_split(vms_remote_allowlist=["100.64.1.0/24"]))
    table = {(f["external_ports"][0], f["to_ports"][0]) for f in plan["forwards"]}
    assert table == {(80, 9080), (9081, 9081), (9443, 9443), (3000, 3000), (3001, 3001)}
    assert {f["to_host"] for f in plan["forwards"]} == {"gw"}
    assert all(f["sources"] == ["100.64.1.0/24"] and f["protocol"] == "tcp" for f in plan["forwards"])


def test_valerus_internet_sources_only_on_forwarded_gateway_ports():
    plan = plan_of(valerus_split(vms_remote_allowlist=["100.64.1.0/24"]))
    for host, h in plan["hosts"].items():
        for rule in h["inbound"]:
            has_internet = "100.64.1.0/24" in rule["sources"]
            assert has_internet == (host == "gw"), (host, rule)


def test_valerus_app_server_and_recorders_get_chosen_ports_from_the_right_sources():
    plan = plan_of(valerus_split())
    assert rules(plan, "app", "app_web_https")[0]["sources"] == [
        "10.9.1.21/32", "10.9.1.22/32", "10.9.2.0/24", "10.9.9.55/32"]
    assert rules(plan, "rec1", "recorder_control")[0]["sources"] == ["10.9.1.10/32", "10.9.9.55/32"]


def test_valerus_all_in_one_with_more_than_150_devices_warns():
    data = make_site({"vms_app_servers": ["a"], "vms_recorders": ["a"]}, vms_product="valerus", vms_site="t",
                     vms_device_count=151)
    plan = plan_of(data)
    assert any("separate Application Server" in w for w in warning_lines(plan))
    data["hosts"]["a"]["vms_device_count"] = 150
    assert not any("separate Application Server" in w for w in warning_lines(plan_of(data)))


def test_valerus_separate_app_server_with_many_devices_does_not_warn():
    plan = plan_of(valerus_split(vms_device_count=900))
    assert not any("separate Application Server" in w for w in warning_lines(plan))


def test_port_override_moves_inbound_and_forward():
    data = valerus_split()
    data["hosts"]["gw"]["vms_port_overrides"] = {"gateway_http": {"port": 9180, "external_port": 8080},
                                                 "web_player_http": {"enabled": False}}
    plan = plan_of(data)
    assert 9180 in open_ports(plan, "gw") and 9080 not in open_ports(plan, "gw") and 3000 not in open_ports(plan, "gw")
    fwd = [f for f in plan["forwards"] if f["service"] == "gateway_http"][0]
    assert (fwd["external_ports"], fwd["to_ports"]) == ([8080, 8080], [9180, 9180])


def test_custom_service_with_forward_and_cidr_source():
    data = valerus_split()
    data["hosts"]["gw"]["vms_custom_services"] = [
        {"name": "health", "port": 8899, "connects_from": ["10.9.3.0/24"], "forward": True, "external_port": 18899}]
    plan = plan_of(data)
    sources = [ipaddress.ip_network(c) for c in rules(plan, "gw", "health")[0]["sources"]]
    # connects_from still admits its network; forward: true lets the allow-list in through the forward.
    assert ipaddress.ip_network("10.9.3.0/24") in sources
    assert any(ipaddress.ip_address("8.8.8.8") in n for n in sources)
    fwd = next(f for f in plan["forwards"] if f["service"] == "health")
    assert fwd["external_ports"] == [18899, 18899] and fwd["component"] == "custom"


# --- XProtect ------------------------------------------------------------------------------------------------
def test_xprotect_management_9000_only_from_recording_servers():
    plan = plan_of(xprotect_dmz())
    assert rules(plan, "mgmt", "mgmt_server_api")[0]["sources"] == ["10.8.1.21/32", "10.8.1.22/32", "10.8.1.31/32"]


def test_xprotect_local_only_ports_never_open():
    plan = plan_of(xprotect_dmz(vms_remote_allowlist=[ANY], vms_enabled_features=["video_push"]))
    local = {6473, 8080, 12974, 8966, 12975, 8000, 8967, 7474}
    for host in plan["hosts"]:
        assert not local & open_ports(plan, host), host
        assert 65101 not in open_ports(plan, host, "udp")


def test_xprotect_disabled_by_default_ports_stay_closed():
    plan = plan_of(xprotect_dmz())
    for host in plan["hosts"]:
        ports = open_ports(plan, host)
        assert not {25, 5432, 40001, 40099, 1234, 1235, 9090} & ports, host


def test_xprotect_enabled_features_open_their_ports():
    data = xprotect_dmz(vms_enabled_features=["smtp_events", "device_events", "video_push", "generic_events"],
                        vms_event_source_networks=["10.8.60.0/24"])
    plan = plan_of(data)
    assert {25, 5432} <= open_ports(plan, "rec1") and {25, 5432} <= open_ports(plan, "fo")
    assert rules(plan, "rec1", "rec_smtp")[0]["sources"] == ["10.8.50.0/24"]
    push = rules(plan, "mobile", "mobile_video_push")[0]
    assert push["ports"] == [40001, 40099] and push["sources"] == ["10.8.1.21/32", "10.8.1.22/32"]
    assert {r["protocol"] for r in rules(plan, "ev", "event_generic")} == {"tcp", "udp"}


def test_xprotect_clients_reach_client_ports_from_client_networks_only():
    plan = plan_of(xprotect_dmz())
    for host, service in (("mgmt", "mgmt_matrix"), ("ev", "event_clients"), ("ev", "event_mip")):
        assert rules(plan, host, service)[0]["sources"] == ["10.8.2.0/24"]
    assert rules(plan, "rec1", "rec_streams")[0]["sources"] == ["10.8.2.0/24", "10.8.9.40/32"]


def test_xprotect_only_the_mobile_server_is_forwarded():
    plan = plan_of(xprotect_dmz(vms_remote_allowlist=[ANY]))
    assert [(f["to_host"], f["to_ports"], f["external_ports"]) for f in plan["forwards"]] == [
        ("mobile", [8082, 8082], [8082, 8082])]


def test_xprotect_no_management_or_recording_port_open_to_anywhere():
    plan = plan_of(xprotect_dmz(vms_remote_allowlist=[ANY]))
    for host in ("mgmt", "rec1", "rec2", "fo", "ev"):
        for rule in plan["hosts"][host]["inbound"]:
            assert ANY not in rule["sources"], (host, rule)
    sources = [ipaddress.ip_network(c) for c in rules(plan, "mobile", "mobile_https")[0]["sources"]]
    # Open to the whole Internet except the cameras, which reach nothing but recorders.
    assert any(ipaddress.ip_address("8.8.8.8") in n for n in sources)
    assert not any(ipaddress.ip_address("10.8.50.7") in n for n in sources)
    everything_but_cameras = ipaddress.ip_network(ANY).address_exclude(ipaddress.ip_network("10.8.50.0/24"))
    assert set(ipaddress.collapse_addresses(sources)) == set(everything_but_cameras)


def test_xprotect_certificates_choose_443_and_keep_80_for_the_event_server():
    plan = plan_of(xprotect_dmz())
    assert rules(plan, "mgmt", "mgmt_http")[0]["sources"] == ["10.8.1.11/32"]
    assert "10.8.2.0/24" in rules(plan, "mgmt", "mgmt_https")[0]["sources"]
    plain = plan_of(xprotect_dmz(vms_tls_enabled=False))
    assert rules(plain, "mgmt", "mgmt_https") == []
    assert "10.8.2.0/24" in rules(plain, "mgmt", "mgmt_http")[0]["sources"]


def test_xprotect_recorder_instances_get_consecutive_ports():
    data = xprotect_dmz()
    data["hosts"]["rec2"]["vms_recorder_instances"] = 3
    assert rules(plan_of(data), "rec2", "rec_api")[0]["ports"] == [9001, 9003]


def test_xprotect_optional_components_default_onto_the_management_server():
    data = make_site({"vms_app_servers": ["m"], "vms_recorders": ["r"]}, vms_product="xprotect", vms_site="x",
                     vms_client_networks=["10.3.0.0/24"])
    plan = plan_of(data)
    assert plan["hosts"]["m"]["components"] == ["app_server", "data_collector", "event_server", "log_server",
                                                "sql_server"]
    # The event server is local to the management server, so port 80 (event server only, with TLS) stays closed.
    assert rules(plan, "m", "mgmt_http") == []


def test_xprotect_optional_groups_place_components():
    data = make_site({"vms_app_servers": ["m"], "vms_recorders": ["r"], "vms_onvif_bridges": ["o"],
                      "vms_dlna_servers": ["d"], "vms_screen_recorders": ["s"], "vms_lpr_servers": ["l"],
                      "vms_incident_managers": ["m"]},
                     vms_product="xprotect", vms_site="x", vms_client_networks=["10.3.0.0/24"],
                     vms_onvif_client_networks=["10.4.0.0/24"], vms_dlna_device_networks=["10.5.0.0/24"])
    plan = plan_of(data)
    assert {580, 554} <= open_ports(plan, "o") and {9100, 9200} <= open_ports(plan, "d")
    assert rules(plan, "s", "screen_recorder")[0]["sources"] == [plan["hosts"]["r"]["address"] + "/32"]
    assert rules(plan, "l", "lpr")[0]["sources"] == [plan["hosts"]["m"]["address"] + "/32"]
    assert rules(plan, "m", "incident_https")[0]["sources"] == ["10.3.0.0/24"]


# --- generic NVR -----------------------------------------------------------------------------------------------
def test_generic_nvr_services_and_differing_external_ports():
    plan = plan_of(nvr_home())
    assert {80, 443, 554, 10000, 10099} <= open_ports(plan, "nvr")
    assert {(f["service"], f["protocol"], f["external_ports"][0], f["to_ports"][0]) for f in plan["forwards"]} == {
        ("nvr_https", "tcp", 8443, 443), ("nvr_rtsp", "tcp", 554, 554)}
    assert plan["remote_access"] == "port_forward" and plan["edge"] == {
        "host": None, "public_address": "100.64.0.7", "backend": "router_sheet"}


def test_generic_nvr_protocol_per_port_splits_tcp_and_udp():
    data = nvr_home()
    data["hosts"]["nvr"]["vms_forwarded_services"] = [{"service": "nvr_media", "external_port": 20000}]
    plan = plan_of(data)
    assert [(f["name"], f["protocol"], f["external_ports"], f["to_ports"]) for f in plan["forwards"]] == [
        ("generic-nvr-nvr-media-tcp", "tcp", [20000, 20099], [10000, 10099]),
        ("generic-nvr-nvr-media-udp", "udp", [20000, 20099], [10000, 10099])]


def test_generic_nvr_forwards_warn_about_upnp():
    assert any("UPnP" in w for w in warning_lines(plan_of(nvr_home())))


def test_generic_nvr_without_forwarded_services_forwards_nothing():
    data = nvr_home()
    del data["hosts"]["nvr"]["vms_forwarded_services"]
    plan = plan_of(data)
    assert plan["remote_access"] == "none" and plan["forwards"] == []
    assert not any("UPnP" in w for w in warning_lines(plan))
    for rule in plan["hosts"]["nvr"]["inbound"]:
        assert ANY not in rule["sources"]


# --- forwards, warnings, management, VPN -------------------------------------------------------------------------
def test_forwards_need_an_edge_or_public_address():
    data = valerus_split()
    data["groups"]["vms_edge"] = []
    del data["hosts"]["edge"]
    plan = plan_of(data)
    assert plan["forwards"] == [] and any("no vms_edge host" in w for w in warning_lines(plan))
    assert all(ANY not in r["sources"] for r in plan["hosts"]["gw"]["inbound"])
    for hvars in data["hosts"].values():
        hvars["vms_public_address"] = "100.64.9.9"
    assert len(plan_of(data)["forwards"]) == 5


def test_warnings_for_plain_http_and_open_allowlist():
    warnings = warning_lines(plan_of(valerus_split()))
    assert any("plain HTTP" in w and "valerus-gateway-http" in w for w in warnings)
    assert any("0.0.0.0/0" in w and "VPN" in w.upper() for w in warnings)
    narrowed = warning_lines(plan_of(valerus_split(vms_remote_allowlist=["100.64.1.0/24"])))
    assert not any("vms_remote_allowlist is 0.0.0.0/0" in w for w in narrowed)


def test_management_port_per_platform_only_when_networks_given():
    assert all(r["component"] != "management" for h in plan_of(valerus_split())["hosts"].values() for r in h["inbound"])
    plan = plan_of(valerus_split(vms_management_networks=["10.9.99.0/24"]))
    assert rules(plan, "edge", "management")[0]["ports"] == [22, 22]
    assert rules(plan, "app", "management")[0]["ports"] == [5986, 5986]
    assert rules(plan, "app", "management")[0]["sources"] == ["10.9.99.0/24"]


def test_vpn_mode_has_no_forwards_and_vpn_reaches_client_ports():
    plan = plan_of(valerus_split(vms_remote_access="vpn", vms_vpn_network="10.99.0.0/24",
                                 vms_vpn_peers=[{"name": "laptop", "address": "10.99.0.2"}]))
    assert plan["forwards"] == []
    assert plan["vpn"] == {"listen_port": 51820, "network": "10.99.0.0/24", "edge_address": "10.99.0.1",
                           "endpoint": "100.64.0.9", "peers": [{"name": "laptop", "address": "10.99.0.2/32"}]}
    assert plan["zones"]["vpn"] == ["10.99.0.0/24"]
    assert "10.99.0.0/24" in rules(plan, "app", "app_web_https")[0]["sources"]
    assert "10.99.0.0/24" not in rules(plan, "rec1", "recorder_control")[0]["sources"]
    assert any(f["from"] == "vpn" and f["to_host"] == "app" for f in plan["zone_flows"])


# --- zones and zone flows ---------------------------------------------------------------------------------------
def test_zones_default_from_hosts_and_dmz_for_dedicated_gateway():
    plan = plan_of(valerus_split())
    assert {h: plan["hosts"][h]["zone"] for h in plan["hosts"]} == {
        "app": "servers", "rec1": "servers", "rec2": "servers", "gw": "dmz", "edge": "edge"}
    assert plan["zones"]["dmz"] == ["10.9.9.55/32"]
    assert plan["zones"]["servers"] == ["10.9.1.10/32", "10.9.1.21/32", "10.9.1.22/32"]


def test_vms_zone_overrides_the_default_zone():
    data = valerus_split()
    data["hosts"]["gw"]["vms_zone"] = "servers"
    assert plan_of(data)["hosts"]["gw"]["zone"] == "servers"


def test_zone_flows_classify_sources_and_only_recorders_reach_cameras():
    plan = plan_of(valerus_split(vms_remote_allowlist=["100.64.1.0/24"]))
    camera_flows = [f for f in plan["zone_flows"] if f["to"] == "cameras"]
    assert {f["ports"][0] for f in camera_flows} == {80, 443, 554, 3702}  # 3702: WS-Discovery (issue 25)
    assert all(f["sources"] == ["10.9.1.21/32", "10.9.1.22/32"] and f["destinations"] == ["10.9.50.0/24"]
               for f in camera_flows)
    # The Internet enters through the forwards to the gateway only: no routed Internet flow at all.
    assert [f for f in plan["zone_flows"] if f["from"] == "internet"] == []
    assert {f["to_host"] for f in plan["forwards"]} == {"gw"}
    dmz_to_servers = {(f["to_host"], f["service"]) for f in plan["zone_flows"]
                      if (f["from"], f["to"]) == ("dmz", "servers")}
    assert ("app", "app_web_https") in dmz_to_servers and ("rec1", "recorder_streaming") in dmz_to_servers


def test_zone_flows_cover_every_inbound_source():
    plan = plan_of(xprotect_dmz())
    for host, h in plan["hosts"].items():
        for rule in h["inbound"]:
            covered = set()
            for f in plan["zone_flows"]:
                if f["to_host"] == host and f["service"] == rule["service"] and f["protocol"] == rule["protocol"]:
                    covered.update(f["sources"])
            # Internet sources come in through the forwards (DNAT), never as a routed zone flow.
            outside = {c for c in rule["sources"] if Compiler.classify(c, plan["zones"]) == "internet"}
            assert covered == set(rule["sources"]) - outside, (host, rule["service"])
            if outside:
                assert any(f["to_host"] == host and f["service"] == rule["service"] for f in plan["forwards"])


# --- determinism -------------------------------------------------------------------------------------------------
def test_plan_is_deterministic_whatever_the_input_order():
    data = xprotect_dmz()
    first = plan_json(plan_of(data))
    shuffled = {"hosts": dict(random.Random(4).sample(sorted(data["hosts"].items()), len(data["hosts"]))),
                "groups": {g: list(reversed(m)) for g, m in reversed(list(data["groups"].items()))}}
    assert plan_json(plan_of(shuffled)) == first
    assert json.loads(first) == plan_of(data)


def test_vpn_without_public_address_warns():
    data = valerus_split(vms_remote_access="vpn", vms_vpn_network="10.99.0.0/24")
    del data["hosts"]["edge"]["vms_public_address"]
    plan = plan_of(data)
    assert plan["vpn"]["endpoint"] is None
    assert any("VPN peers need" in w for w in warning_lines(plan))


def test_vpn_peer_cannot_take_the_edge_tunnel_address():
    from vms_deploy.validate import validate
    data = valerus_split(vms_remote_access="vpn", vms_vpn_network="10.99.0.0/24",
                         vms_vpn_peers=[{"name": "laptop", "address": "10.99.0.1"}])
    errors = [str(e) for e in validate(data)]
    assert any("vms_vpn_peers[0].address" in e and "tunnel address" in e for e in errors), errors
