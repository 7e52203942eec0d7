"""Bad input (issues 2 and 8): every class fails before anything runs, naming host, variable, value and fix.

Each case mutates a valid site and runs it through the same validator the action plugin uses
(compile_plan -> validate). The expected host/variable/value/problem are checked exactly enough
that a vague or misplaced message fails the test.
"""
from __future__ import annotations

import pytest
from conftest import make_site, nvr_home, valerus_split, xprotect_dmz

from vms_deploy.errors import InputError, ValidationFailed, show_value
from vms_deploy.pipeline import compile_plan
from vms_deploy.validate import validate


def _set(host, **values):
    def mutate(data):
        targets = data["hosts"] if host == "*" else {host: data["hosts"][host]}
        for hvars in targets.values():
            hvars.update(values)
    return mutate


def _group(group, hosts):
    def mutate(data):
        data["groups"][group] = hosts
        for h in hosts:
            data["hosts"].setdefault(h, {**data["hosts"]["app"], "ansible_host": "10.9.1.99"})
    return mutate


def _drop(host, var):
    def mutate(data):
        targets = data["hosts"] if host == "*" else {host: data["hosts"][host]}
        for hvars in targets.values():
            hvars.pop(var, None)
    return mutate


def _xp(mutate):
    return ("xprotect", mutate)


def _nvr(mutate):
    return ("nvr", mutate)


# (id, mutation (valerus_split unless wrapped), host, variable, value substring, problem substring)
CASES = [
    ("invalid-ip", _set("rec1", ansible_host="10.0.0.300"), "rec1", "ansible_host", "10.0.0.300",
     "not an IPv4 address"),
    ("invalid-vms-address", _set("gw", vms_address="gateway.local"), "gw", "vms_address", "gateway.local",
     "not an IPv4"),
    ("ipv6-address", _set("rec2", vms_address="2001:db8::5"), "rec2", "vms_address", "2001:db8::5", "IPv6"),
    ("no-ip-address", _drop("rec2", "ansible_host"), "rec2", "vms_address", "(not set)", "no IP address"),
    ("address-is-a-network", _set("app", vms_address="10.9.1.0/24"), "app", "vms_address", "10.9.1.0/24", "network"),
    ("two-hosts-one-address", _set("rec2", ansible_host="10.9.1.21"), "rec1", "ansible_host", "10.9.1.21",
     "also the address of rec2"),
    ("invalid-cidr", _set("*", vms_client_networks=["10.9.2.0/33"]), "all", "vms_client_networks", "10.9.2.0/33",
     "not a CIDR"),
    ("cidr-host-bits", _set("*", vms_camera_networks=["10.9.50.7/24"]), "all", "vms_camera_networks", "10.9.50.7/24",
     "host bits set (the network is 10.9.50.0/24)"),
    ("ipv6-cidr", _set("*", vms_remote_allowlist=["2001:db8::/32"]), "all", "vms_remote_allowlist", "2001:db8::/32",
     "IPv6"),
    ("string-instead-of-list", _set("*", vms_client_networks="10.9.2.0/24"), "all", "vms_client_networks",
     "10.9.2.0/24", "is str, not a list"),
    ("null-list", _set("*", vms_camera_networks=None), "all", "vms_camera_networks", "None", "empty (null)"),
    ("list-item-not-string", _set("*", vms_client_networks=[10]), "all", "vms_client_networks", "[10]",
     "not a string"),
    ("bool-as-string", _set("*", vms_web_player="maybe"), "all", "vms_web_player", "maybe", "not true or false"),
    ("unknown-product", _set("*", vms_product="nx_witness"), "all", "vms_product", "nx_witness", "not one of"),
    ("missing-product", _drop("*", "vms_product"), "all", "vms_product", "(not set)", "not set"),
    ("missing-site", _drop("*", "vms_site"), "all", "vms_site", "(not set)", "not set"),
    ("bad-site-name", _set("*", vms_site="../etc"), "all", "vms_site", "../etc", "not a valid site name"),
    ("site-vars-disagree", _set("rec1", vms_product="xprotect"), "rec1", "vms_product", "xprotect",
     "differs between hosts"),
    ("empty-required-group", lambda d: d["groups"].update(vms_recorders=[]), "", "vms_recorders", "[]", "is empty"),
    ("group-product-lacks", _group("vms_event_servers", ["ev"]), "ev", "vms_event_servers", "ev",
     "group that Vicon Valerus does not have"),
    ("two-app-servers", _group("vms_app_servers", ["app", "app2"]), "app,app2", "vms_app_servers", "app2",
     "exactly one"),
    ("edge-also-recorder", lambda d: d["groups"]["vms_recorders"].append("edge"), "edge", "vms_edge", "edge",
     "also in vms_recorders"),
    ("unknown-variable-typo", _set("*", vms_client_network=["10.9.2.0/24"]), "all", "vms_client_network", "10.9.2.0/24",
     "did you mean vms_client_networks?"),
    ("unknown-group-typo", _group("vms_recorder", ["app"]), "app", "vms_recorder", "app",
     "did you mean vms_recorders?"),
    ("management-anywhere", _set("*", vms_management_networks=["0.0.0.0/0"]), "all", "vms_management_networks",
     "0.0.0.0/0", "whole Internet"),
    ("client-network-anywhere", _set("*", vms_client_networks=["0.0.0.0/0"]), "all", "vms_client_networks",
     "0.0.0.0/0", "whole Internet"),
    ("client-inside-camera", _set("*", vms_camera_networks=["10.9.0.0/16"]), "all", "vms_client_networks",
     "10.9.2.0/24", "overlaps vms_camera_networks entry 10.9.0.0/16"),
    ("dmz-overlaps-servers", _set("*", vms_server_networks=["10.9.0.0/16"], vms_dmz_networks=["10.9.9.0/24"]),
     "all", "vms_dmz_networks", "10.9.9.0/24", "overlaps vms_server_networks"),
    ("host-outside-its-zone", _set("*", vms_server_networks=["10.9.1.0/28"]), "rec1", "ansible_host", "10.9.1.21",
     "outside vms_server_networks"),
    ("override-unknown-key", _set("gw", vms_port_overrides={"gateway_http": {"prot": 9180}}), "gw",
     "vms_port_overrides.gateway_http", "prot", "unknown key (did you mean port?)"),
    ("override-unknown-service", _set("gw", vms_port_overrides={"gateway_htp": {"port": 9180}}), "gw",
     "vms_port_overrides", "gateway_htp", "did you mean gateway_http?"),
    ("port-out-of-range", _set("gw", vms_port_overrides={"gateway_http": {"port": 70000}}), "gw",
     "vms_port_overrides.gateway_http.port", "70000", "outside 1-65535"),
    ("port-zero", _set("gw", vms_port_overrides={"gateway_http": {"external_port": 0}}), "gw",
     "vms_port_overrides.gateway_http.external_port", "0", "outside 1-65535"),
    ("port-not-a-number", _set("gw", vms_port_overrides={"gateway_http": {"port": "http"}}), "gw",
     "vms_port_overrides.gateway_http.port", "http", "not a port number"),
    ("range-reversed", _set("gw", vms_custom_services=[{"name": "media", "port": [9100, 9000]}]), "gw",
     "vms_custom_services[0].port", "[9100, 9000]", "reversed range"),
    ("two-components-one-port", _set("gw", vms_custom_services=[{"name": "dup", "port": 9081}]), "gw", "ports",
     "tcp 9081", "claimed by two services: gateway.gateway_streaming and custom.dup"),
    ("override-collides", _set("rec1", vms_port_overrides={"recorder_control": {"port": 554}}), "rec1", "ports",
     "tcp 554", "claimed by two services"),
    ("custom-bad-protocol", _set("gw", vms_custom_services=[{"name": "x", "port": 5, "protocol": "sctp"}]), "gw",
     "vms_custom_services[0].protocol", "sctp", "not tcp, udp or tcp+udp"),
    ("custom-unknown-source", _set("gw", vms_custom_services=[{"name": "x", "port": 5, "connects_from": ["client"]}]),
     "gw", "vms_custom_services[0].connects_from", "client", "did you mean clients?"),
    ("custom-missing-port", _set("gw", vms_custom_services=[{"name": "x"}]), "gw", "vms_custom_services[0].port",
     "(not set)", "not set"),
    ("bad-remote-access", _set("*", vms_remote_access="portforward"), "all", "vms_remote_access", "portforward",
     "did you mean port_forward?"),
    ("bad-zone", _set("gw", vms_zone="lan"), "gw", "vms_zone", "lan", "not one of"),
    ("bad-platform", _set("app", vms_platform="win"), "app", "vms_platform", "win", "not one of"),
    ("bad-public-address", _set("edge", vms_public_address="my.router"), "edge", "vms_public_address", "my.router",
     "not an IPv4"),
    ("negative-device-count", _set("*", vms_device_count=-1), "all", "vms_device_count", "-1", "negative"),
    ("device-count-string", _set("*", vms_device_count="many"), "all", "vms_device_count", "many", "not an integer"),
    ("management-port-range", _set("app", vms_management_port=0), "app", "vms_management_port", "0", "outside 1-65535"),
    ("vpn-without-network", _set("*", vms_remote_access="vpn"), "all", "vms_vpn_network", "(not set)", "not set"),
    ("vpn-peer-outside-network", _set("*", vms_remote_access="vpn", vms_vpn_network="10.99.0.0/24",
                                      vms_vpn_peers=[{"name": "a", "address": "10.98.0.2"}]),
     "all", "vms_vpn_peers[0].address", "10.98.0.2", "inside vms_vpn_network"),
    ("vpn-duplicate-peer", _set("*", vms_remote_access="vpn", vms_vpn_network="10.99.0.0/24",
                                vms_vpn_peers=[{"name": "a", "address": "10.99.0.2"},
                                               {"name": "a", "address": "10.99.0.3"}]),
     "all", "vms_vpn_peers[1].name", "a", "used by two peers"),
    ("vpn-network-overlaps-clients", _set("*", vms_remote_access="vpn", vms_vpn_network="10.9.2.0/24"), "all",
     "vms_vpn_network", "10.9.2.0/24", "overlaps vms_client_networks"),
    ("vpn-listen-port", _set("*", vms_vpn_listen_port=99999), "all", "vms_vpn_listen_port", "99999", "outside"),
    ("port-forward-without-gateway",
     lambda d: (d["groups"].update(vms_gateways=[]), d["hosts"].pop("gw"),
                [h.update(vms_remote_access="port_forward") for h in d["hosts"].values()]),
     "all", "vms_remote_access", "port_forward", "needs a gateway"),
    _xp(("xp-unknown-feature", _set("*", vms_enabled_features=["video_pushh"]), "all", "vms_enabled_features",
         "video_pushh", "did you mean video_push?")),
    _xp(("xp-instances", _set("rec1", vms_recorder_instances=0), "rec1", "vms_recorder_instances", "0",
         "outside 1-99")),
    _nvr(("nvr-unknown-forward", _set("nvr", vms_forwarded_services=["nvr_rtps"]), "nvr", "vms_forwarded_services[0]",
          "nvr_rtps", "did you mean nvr_rtsp?")),
    _nvr(("nvr-forward-same-external", _set("nvr", vms_forwarded_services=[
        {"service": "nvr_https", "external_port": 8000}, {"service": "nvr_rtsp", "external_port": 8000}]),
        "nvr", "external_port", "8000", "forwarded twice")),
    _nvr(("nvr-forward-bad-external",
          _set("nvr", vms_forwarded_services=[{"service": "nvr_https", "external_port": -4}]),
          "nvr", "vms_forwarded_services[0].external_port", "-4", "outside 1-65535")),
    _nvr(("nvr-forward-unknown-key", _set("nvr", vms_forwarded_services=[{"service": "nvr_https", "extrnal_port": 4}]),
          "nvr", "vms_forwarded_services[0]", "extrnal_port", "did you mean external_port?")),
]


def _normalise(case):
    if case[0] in ("xprotect", "nvr"):
        return case[0], case[1]
    return "valerus", case


ALL = [_normalise(c) for c in CASES]
BASE = {"valerus": valerus_split, "xprotect": xprotect_dmz, "nvr": nvr_home}


def test_at_least_thirty_bad_input_cases():
    assert len(ALL) >= 30


@pytest.mark.parametrize("base,case", ALL, ids=[c[1][0] for c in ALL])
def test_bad_input_is_reported_with_host_variable_value_and_fix(base, case):
    _id, mutate, host, variable, value, problem = case
    data = BASE[base]()
    assert validate(data) == [], "the base site must be valid"
    mutate(data)
    errors = validate(data)
    matching = [e for e in errors if e.variable == variable and problem in e.problem and value in show_value(e.value)]
    assert matching, f"no error for {variable} with '{problem}'; got:\n" + "\n".join(map(str, errors))
    err = matching[0]
    assert err.host == host, str(err)
    assert err.fix and "Fix: " in str(err)
    with pytest.raises(ValidationFailed) as raised:
        compile_plan(data)  # no plan comes out of bad input
    assert str(err) in raised.value.message()


def test_all_errors_are_collected_and_reported_together():
    data = valerus_split()
    for mutate in (_set("rec1", ansible_host="10.0.0.300"), _set("*", vms_client_network=["10.1.0.0/24"]),
                   _set("gw", vms_port_overrides={"gateway_http": {"port": 0}}), _group("vms_event_servers", ["ev"])):
        mutate(data)
    with pytest.raises(ValidationFailed) as raised:
        compile_plan(data)
    variables = {e.variable for e in raised.value.errors}
    assert {"ansible_host", "vms_client_network", "vms_port_overrides.gateway_http.port",
            "vms_event_servers"} <= variables
    lines = raised.value.message().splitlines()
    assert lines[0].startswith(f"the site inventory has {len(raised.value.errors)} errors")
    assert len(lines) == len(raised.value.errors) + 1


def test_a_group_variable_error_is_reported_once_for_all_hosts():
    data = valerus_split(vms_client_networks=["nope"])
    errors = [e for e in validate(data) if e.variable == "vms_client_networks"]
    assert len(errors) == 1 and errors[0].host == "all"
    assert str(errors[0]).startswith("all hosts: vms_client_networks = 'nope'")


def test_message_format_matches_the_contract():
    err = InputError("rec1", "vms_address", "10.0.0.300", "is not an IPv4 address",
                     "set vms_address (or ansible_host) to the host's IPv4 address.")
    assert str(err) == ("host rec1: vms_address = '10.0.0.300' is not an IPv4 address. "
                        "Fix: set vms_address (or ansible_host) to the host's IPv4 address.")


def test_extra_errors_from_the_plugin_are_merged():
    vault = InputError("app", "vms_tls_pfx_password", "(vault-encrypted)", "cannot be decrypted",
                       "give the vault password")
    with pytest.raises(ValidationFailed) as raised:
        compile_plan(valerus_split(), extra_errors=[vault])
    assert raised.value.errors == [vault]


@pytest.mark.parametrize("data", [None, {}, {"hosts": {}}, {"hosts": "x"}, []])
def test_no_hosts_at_all(data):
    errors = validate(data)
    assert len(errors) == 1 and errors[0].variable == "hosts"


def test_a_host_outside_every_vms_group_is_left_out_of_the_site():
    data = make_site({"vms_app_servers": ["a"], "vms_recorders": ["a"], "printers": ["p"]},
                     vms_product="valerus", vms_site="t", host_vars={"p": {"vms_bogus": 1}})
    assert validate(data) == []
    assert sorted(compile_plan(data)["hosts"]) == ["a"]


def test_hosts_but_none_in_a_vms_group():
    errors = validate(make_site({"printers": ["p"]}, vms_product="valerus", vms_site="t"))
    assert [(e.variable, e.problem) for e in errors] == [("hosts", "are in no vms-deploy group")]


ODD_VALUES = [None, "", "x", 0, -1, 70000, True, [], {}, [None], [{}], ["x"], [[1]], {"a": 1}, {"a": {"b": 1}},
              [{"name": 1, "port": "x", "protocol": 5}], 1.5]


@pytest.mark.parametrize("base", ["valerus", "xprotect", "nvr"])
def test_no_odd_value_of_any_variable_crashes_the_validator_or_compiler(base):
    """Fuzz: every documented variable x odd values, on one host and on all. Never a traceback."""
    from vms_deploy.validate import inventory_spec
    for name in sorted(inventory_spec()):
        for value in ODD_VALUES:
            for scope in ("one", "all"):
                data = BASE[base]()
                targets = list(data["hosts"].values()) if scope == "all" else [next(iter(data["hosts"].values()))]
                for hvars in targets:
                    hvars[name] = value
                try:
                    errors = validate(data)
                    if not errors:
                        compile_plan(data)
                except Exception as exc:  # noqa: BLE001 - the point is to catch any crash
                    pytest.fail(f"{name}={value!r} ({scope}) crashed: {type(exc).__name__}: {exc}")


def test_runtime_platform_groups_do_not_change_the_plan_or_fail_validation():
    data = valerus_split(vms_server_networks=["10.9.1.0/24"], vms_dmz_networks=["10.9.9.0/24"])
    before = compile_plan(data)
    data["groups"]["vms_platform_windows"] = ["app", "rec1", "rec2", "gw"]
    data["groups"]["vms_platform_linux"] = ["edge"]
    assert validate(data) == []
    assert compile_plan(data) == before
    assert before["hosts"]["gw"]["zone"] == "dmz"
