"""Say what is not enforced (issue 21 section 1): one warning per zone boundary no managed edge
filters, and the residual risk the report shows, both through the one evaluator.

Expectations from outside vms_deploy.boundaries: the issue's own case (`vms-deploy check --from <mobile
server> --to <a camera> --port 554` answers ALLOWED on a router_sheet site with a DMZ, so the plan must
warn about dmz -> cameras), the seeds (001: "connect the camera subnet to the recording server
subnet only", "a DMZ with firewalls on both sides": every zone -> cameras and dmz -> servers boundary
must be named), and the evaluator's own verdicts on addresses the test picks itself.
"""
from __future__ import annotations

import ipaddress
import re

import pytest
from conftest import ROOT, example, plan_of, xprotect_dmz

from vms_deploy.boundaries import boundaries, unenforced
from vms_deploy.evaluate import evaluate
from vms_deploy.inventory import load_inventory
from vms_deploy.report.html import render_html

CITYHALL = ROOT / "tests" / "fixtures" / "inventories" / "cityhall"
BOUNDARY = re.compile(r"^zone boundary (\w+) -> (\w+) is not enforced by vms-deploy")


@pytest.fixture(scope="module")
def cityhall() -> dict:
    return plan_of(load_inventory(CITYHALL))


def _warned(plan: dict) -> list[tuple[str, str]]:
    found = [BOUNDARY.match(w["text"]) for w in plan["warnings"] if w["group"] == "firewall"]
    return [m.groups() for m in found if m]


def test_the_issues_check_is_allowed_and_the_plan_warns_about_that_boundary(cityhall):
    camera = "10.70.50.77"
    verdict = evaluate(cityhall, "mobile1", camera, 554, "tcp")
    assert verdict.allowed and "no managed edge between dmz and cameras" in verdict.render()
    assert ("dmz", "cameras") in _warned(cityhall)


def test_once_per_boundary_and_the_ones_the_seeds_name(cityhall):
    warned = _warned(cityhall)
    assert len(warned) == len(set(warned))
    for needed in [("dmz", "servers"), ("dmz", "cameras"), ("servers", "cameras"), ("clients", "cameras")]:
        assert needed in warned, warned


def test_a_boundary_is_warned_exactly_when_the_evaluator_lets_its_zone_reach_an_unmanaged_address(cityhall):
    """For each ordered pair of zones: an address of the destination zone that is no plan host
    (chosen here), from the first address of the source zone, on a port no service uses."""
    zones = cityhall["zones"]
    hosts = {h["address"] for h in cityhall["hosts"].values()}
    expected = set()
    for a in ("dmz", "servers", "clients", "cameras"):
        for b in ("dmz", "servers", "clients", "cameras"):
            if a == b:
                continue
            net_a, net_b = ipaddress.ip_network(zones[a][0]), ipaddress.ip_network(zones[b][0])
            target = next(str(ip) for ip in net_b.hosts() if str(ip) not in hosts)
            if evaluate(cityhall, str(net_a.network_address + 200), target, 4444, "tcp").allowed:
                expected.add((a, b))
    assert expected and set(_warned(cityhall)) == expected


def test_the_residual_risk_holds_what_the_evaluator_admits_and_no_managed_host(cityhall):
    hosts = {h["address"] for h in cityhall["hosts"].values()}
    for b in unenforced(cityhall):
        sample = str(ipaddress.ip_network(cityhall["zones"][b.from_zone][0]).network_address + 200)
        for cidr in b.unmanaged:
            net = ipaddress.ip_network(cidr)
            assert not {str(ip) for ip in (net.network_address, net.broadcast_address)} & hosts
            for ip in (net.network_address, net.broadcast_address):
                verdict = evaluate(cityhall, sample, str(ip), 4444, "udp")
                assert verdict.allowed and not verdict.rules, (b.name, str(ip), verdict.render())


def test_a_managed_edge_enforces_every_boundary():
    plan = plan_of(example("xprotect_distributed_dmz"))
    assert not _warned(plan) and unenforced(plan) == []
    assert {b.managed_edge for b in boundaries(plan)} == {"xedge"}
    verdict = evaluate(plan, "xmobile", "10.50.50.77", 554, "tcp")
    assert not verdict.allowed  # the same question the issue asked, answered by the edge


def test_a_zone_made_of_managed_hosts_only_is_not_a_residual_risk():
    """Without vms_server_networks the servers zone is its hosts' /32s: every address has a host firewall."""
    plan = plan_of(xprotect_dmz(vms_edge_backend="router_sheet", vms_public_address="100.64.0.8")
                   | {"groups": {**xprotect_dmz()["groups"], "vms_edge": []}})
    assert plan["edge"]["host"] is None
    warned = _warned(plan)
    assert ("dmz", "cameras") in warned and ("clients", "cameras") in warned
    assert not [w for w in warned if w[1] in ("servers", "dmz")], warned


def test_a_home_nvr_inside_the_client_lan_is_no_boundary():
    """generic_nvr_home: the NVR's /32 lies inside the client network: one LAN, no firewall to ask for."""
    plan = plan_of(example("generic_nvr_home"))
    names = {b.name for b in boundaries(plan)}
    assert "servers -> clients" not in names and "clients -> servers" not in names
    assert ("clients", "cameras") in _warned(plan)


def test_the_report_says_which_boundaries_depend_on_the_customer_and_what_is_reachable(cityhall):
    page = render_html(cityhall, None)
    section = page[page.index('id="boundaries"'):page.index('id="flows"')]
    assert "These boundaries depend on the customer's firewall" in section
    assert "dmz -&gt; servers" in section and "10.70.1.0/24 except 10.70.1.10, 10.70.1.21, 10.70.1.22" in section
    assert 'href="firewall-rules.md"' in section
    assert "Flows the edge allows between zones" not in page  # no managed edge: no such edge
    assert "Flows between zones (for the customer&#x27;s firewall" in page


def test_the_report_of_a_managed_edge_keeps_its_title():
    page = render_html(plan_of(example("xprotect_distributed_dmz")), None)
    assert "Flows the edge allows between zones" in page and "enforced by the managed edge host xedge" in page
