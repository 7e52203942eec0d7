"""explain (why is this port open) and check (would A reach B:port) over hand-written plans."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vms_deploy import cli
from vms_deploy.explain import LookupFailed, check_flow, explain_port, origin_of, render_explanation, zone_of_address

PLANS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "plans"


@pytest.fixture(scope="module")
def plan():
    return json.loads((PLANS / "valerus_base.json").read_text())


@pytest.fixture(scope="module")
def vpn_plan():
    return json.loads((PLANS / "valerus_vpn.json").read_text())


def test_explain_lists_rule_component_purpose_and_variables(plan):
    found = explain_port(plan, "rec1", 7563, "tcp")
    assert len(found) == 1
    assert found[0].rule["component"] == "recorder" and found[0].rule["service"] == "streaming"
    origins = {o.cidr: o.variable for o in found[0].origins}
    assert origins == {"10.40.1.10/32": "address of host app1 (vms_address / ansible_host)",
                       "10.40.2.0/24": "vms_client_networks"}
    text = render_explanation(plan, "rec1", 7563, "tcp", found)
    assert text.startswith("OPEN: tcp/7563 on rec1 (10.40.1.21), by 1 rule(s):")
    assert "from the vendor's port documentation (seed)" in text


def test_explain_closed_port_names_what_is_open(plan):
    assert explain_port(plan, "rec1", 9999) == []
    text = render_explanation(plan, "rec1", 9999, None, [])
    # rec1 is a Windows host: rules outside the vms-deploy group may admit what the plan does not (issue 24)
    assert text.startswith("NOT OPENED BY VMS-DEPLOY: port 9999 on rec1") and "open on rec1: tcp/7563, tcp/8000" in text
    assert render_explanation(plan, "edge", 9999, None, []).startswith("CLOSED: port 9999 on edge")


def test_explain_protocol_filter_and_address_lookup(plan):
    assert explain_port(plan, "10.40.1.21", 7563, "udp") == []
    assert len(explain_port(plan, "10.40.1.21", 7563)) == 1


def test_explain_mentions_the_router_forward(plan):
    text = render_explanation(plan, "app1", 9080, "tcp", explain_port(plan, "app1", 9080, "tcp"))
    assert "router forward valerus-gateway-http: public tcp/80 from anywhere -> app1 tcp/9080" in text


def test_explain_finds_the_inventory_line(plan, tmp_path):
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "group_vars" / "all.yml").write_text("vms_client_networks:\n  - 10.40.2.0/24\n  - 10.40.20.0/24\n")
    (inv / "hosts.yml").write_text("all:\n  hosts:\n    app1:\n      ansible_host: 10.40.1.10\n"
                                   "    app10:\n      ansible_host: 10.40.1.100\n")
    data = {"hosts": {"app1": {"vms_client_networks": ["10.40.2.0/24"]},
                      "rec1": {"vms_client_networks": ["10.40.2.0/24"]}}, "groups": {}}
    origin = origin_of(plan, "10.40.2.0/24", str(inv), data)
    assert origin.variable == "vms_client_networks (all hosts)"
    assert origin.locations == [f"{inv}/group_vars/all.yml:2"]
    host_origin = origin_of(plan, "10.40.1.10/32", str(inv), data)
    assert host_origin.locations == [f"{inv}/hosts.yml:4"]  # not line 6 (10.40.1.100)


def test_zone_classification_prefers_the_most_specific(plan):
    assert zone_of_address(plan, "10.40.2.15") == "clients"
    assert zone_of_address(plan, "8.8.8.8") == "internet"


@pytest.mark.parametrize("src,dst,port,allowed,needle", [
    ("10.40.2.15", "rec1", 7563, True, "host firewall on rec1: tcp/7563 from 10.40.1.10, 10.40.2.0/24"),
    ("10.40.2.15", "rec1", 8000, False, "edge edge: no zone flow lets 10.40.2.15 reach 10.40.1.21 tcp/8000"),
    ("app1", "rec1", 8000, True, "same network: the edge is not on the path"),
    ("rec1", "rec2", 8000, False, "host firewall on rec2: open only for tcp/8000 from 10.40.1.10"),
    ("rec1", "10.40.3.50", 554, True, "zone flow servers -> cameras tcp/554"),
    ("10.40.2.15", "10.40.3.50", 554, False, "no zone flow lets 10.40.2.15 reach 10.40.3.50"),
    ("8.8.8.8", "app1", 9080, False, "reach it as 100.64.0.10 tcp/80, router forward valerus-gateway-http"),
    # This hand-written plan opens the gateway only to the edge's own address, but the edge keeps
    # the Internet client's address on forwards (it masquerades only toward the Internet): dropped.
    ("8.8.8.8", "100.64.0.10", 80, False, "forward valerus-gateway-http tcp/80 from anywhere -> app1 (10.40.1.10) "
                                           "tcp/9080"),
    ("8.8.8.8", "100.64.0.10", 80, False, "host firewall on app1: open only for tcp/9080 from 10.40.0.1"),
    ("8.8.8.8", "100.64.0.10", 81, False, "no port forward for tcp/81"),
    ("10.40.9.4", "edge", 22, True, "host firewall on edge: tcp/22 from 10.40.9.0/24"),
    ("10.40.2.15", "edge", 22, False, "host firewall on edge: open only for tcp/22 from 10.40.9.0/24"),
    ("10.40.2.15", "rec1", 9999, False, "no zone flow"),
])
def test_check(plan, src, dst, port, allowed, needle):
    verdict = check_flow(plan, src, dst, port, "tcp")
    assert verdict.allowed is allowed, verdict.render()
    assert needle in verdict.render()


def test_check_vpn_peer_reaches_recorder_through_the_edge(vpn_plan):
    verdict = check_flow(vpn_plan, "10.40.8.10", "rec2", 7563)
    assert verdict.allowed and "zone flow vpn -> servers" in verdict.render()
    assert not check_flow(vpn_plan, "10.40.8.10", "rec2", 8000).allowed


@pytest.mark.parametrize("kwargs,message", [
    ({"source": "nosuchhost", "destination": "rec1", "port": 1}, "--from 'nosuchhost' is neither a host"),
    ({"source": "10.40.2.1", "destination": "rec9", "port": 1}, "use one of: app1, edge, rec1, rec2"),
    ({"source": "10.40.2.1", "destination": "rec1", "port": 70000}, "--port 70000 is not a port number"),
    ({"source": "10.40.2.1", "destination": "rec1", "port": 1, "protocol": "icmp"}, "use tcp or udp"),
])
def test_check_bad_input(plan, kwargs, message):
    with pytest.raises(LookupFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_flow(plan, **kwargs)


def test_cli_check_and_explain_exit_codes(capsys):
    base = str(PLANS / "valerus_base.json")
    assert cli.main(["check", base, "--from", "10.40.2.15", "--to", "rec1", "--port", "7563"]) == 0
    assert capsys.readouterr().out.startswith("ALLOWED: 10.40.2.15 -> rec1 (10.40.1.21) tcp/7563")
    assert cli.main(["check", base, "--from", "10.40.2.15", "--to", "rec1", "--port", "8000", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["allowed"] is False
    assert cli.main(["explain", base, "--host", "rec1", "--port", "7563"]) == 0
    assert "component recorder" in capsys.readouterr().out
    assert cli.main(["explain", base, "--host", "rec1", "--port", "7564", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["open"] is False
    assert cli.main(["explain", base, "--host", "nope", "--port", "7563"]) == 2
    err = capsys.readouterr().err
    assert "--host 'nope' is not a host of site 'demo'" in err and "Traceback" not in err
