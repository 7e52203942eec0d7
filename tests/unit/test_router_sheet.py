"""A router sheet a field technician can use (issue 21 section 3), every item of the section.

Expectations from the seeds (000: the D-Link's range form 80:80, forwards to the gateway only;
002: non-standard ports, IP filtering, disable UPnP, static IP, testing ports from outside), the
issue's list, the real `vms-deploy` parser (the test command must be one it accepts) and the
plan's own host rules (what the sheet says the host firewall admits when the router cannot filter).
"""
from __future__ import annotations

import ipaddress
import shlex

import pytest
from conftest import EXAMPLES, ROOT, example, nvr_home, plan_of

from vms_deploy import cli
from vms_deploy.inventory import load_inventory
from vms_deploy.render import router_sheet

CITYHALL = ROOT / "tests" / "fixtures" / "inventories" / "cityhall"


@pytest.fixture(scope="module")
def home() -> dict:
    return plan_of(example("generic_nvr_home"))


def test_single_ports_read_as_one_port_with_the_range_form_beside_them(home):
    rows = {r["name"]: r for r in router_sheet.rows(home)}
    https = rows["generic-nvr-nvr-https"]
    assert (https["external_port"], https["internal_port"]) == ("8443", "443")
    assert (https["external_range"], https["internal_range"]) == ("8443:8443", "443:443")
    media = rows["generic-nvr-nvr-media-tcp"]
    assert (media["external_port"], media["external_range"]) == ("10000-10099", "10000:10099")
    sheet = router_sheet.to_markdown(home)
    assert "| generic-nvr-nvr-https | TCP | 8443 | 10.60.0.20 | 443 | 8443:8443, 443:443 | anywhere |" in sheet


def test_the_seeds_example_forward_reads_80_to_9080():
    """Seed 000: external 80 to the gateway's 9080, shown by the D-Link as 80:80 and 9080:9080."""
    plan = plan_of(example("valerus_separate_recorders"))
    row = next(r for r in router_sheet.rows(plan) if r["internal_port"] == "9080")
    assert (row["external_port"], row["external_range"], row["internal_range"]) == ("80", "80:80", "9080:9080")


def test_a_fixed_address_for_each_forwarded_host(home):
    sheet = router_sheet.to_markdown(home)
    assert "Give nvr the fixed address 10.60.0.20: set it statically on the host, or reserve it in the router's " \
           "DHCP settings" in sheet


def test_old_forwards_dmz_host_wan_administration_and_upnp_go(home):
    sheet = router_sheet.to_markdown(home)
    for item in ("Delete every port forward (virtual server) already on the router that is not in the table",
                 'Turn off any "DMZ host"', "Turn off remote (WAN) administration of the router", "Disable UPnP"):
        assert item in sheet, item


def test_when_the_router_cannot_filter_by_source_the_host_firewall_holds_the_allow_list():
    allowlist = ["100.64.30.0/24"]
    plan = plan_of(nvr_home(vms_remote_allowlist=allowlist))
    sheet = router_sheet.to_markdown(plan)
    assert "If it cannot (most consumer routers), leave the source open: the host firewall on nvr (10.7.0.20)" in sheet
    # ... and the plan's host rules make that true: every rule of a forwarded service admits, from
    # outside the site's networks, only the allow-list.
    site = [ipaddress.ip_network(c) for z, cidrs in plan["zones"].items() if z != "internet" for c in cidrs]
    allowed = [ipaddress.ip_network(c) for c in allowlist]
    for fwd in plan["forwards"]:
        for rule in plan["hosts"][fwd["to_host"]]["inbound"]:
            if rule["service"] != fwd["service"]:
                continue
            for source in map(ipaddress.ip_network, rule["sources"]):
                assert any(source.subnet_of(n) for n in site + allowed), (fwd["name"], source)


def test_an_open_allow_list_says_leave_the_source_open(home):
    assert "Allowed sources: anywhere (vms_remote_allowlist is 0.0.0.0/0" in router_sheet.to_markdown(home)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_test_step_is_a_probe_command_the_cli_accepts(name):
    plan = plan_of(example(name))
    sheet = router_sheet.to_markdown(plan)
    if not plan["edge"]["public_address"]:
        assert "there is nothing to test from outside" in sheet
        return
    command = next(ln.strip() for ln in sheet.splitlines() if ln.strip().startswith("vms-deploy probe "))
    argv = shlex.split(command)
    assert argv == ["vms-deploy", "probe", f"build/plan/{plan['site']}/plan.json"]
    args = cli.build_parser().parse_args(argv[1:])
    assert args.command == "probe" and args.target == argv[2]
    assert "From a machine outside the site's networks" in sheet


def test_a_sign_off_line(home):
    sheet = router_sheet.to_markdown(home)
    assert "## Sign-off" in sheet and "Configured and tested by:" in sheet and "Signature:" in sheet


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_markdown_escapes_in_what_the_technician_reads(name):
    assert "\\" not in router_sheet.to_markdown(plan_of(example(name)))


def test_only_the_routers_warnings():
    plan = plan_of(load_inventory(CITYHALL))
    sheet = router_sheet.to_markdown(plan)
    section = sheet[sheet.index("## Warnings about the router"):sheet.index("## Sign-off")]
    bullets = [ln for ln in section.splitlines() if ln.startswith("- ")]
    routers = [w for w in plan["warnings"] if w["group"] == "router"]
    # the allow-list warning, and the double NAT of its CGNAT public address (issue 20 item 3)
    assert len(bullets) == len(routers) == 2 and len(plan["warnings"]) > len(routers)


def test_a_managed_edge_sheet_says_nothing_is_typed():
    sheet = router_sheet.to_markdown(plan_of(example("xprotect_distributed_dmz")))
    assert sheet.splitlines()[2].startswith("Nothing to type: the managed edge host xedge applies these forwards")
