"""Hand the firewall team its rules (issue 21 section 2): firewall-rules.csv and firewall-rules.md.

Golden files per example site and for cityhall (tests/golden/firewall_request/; regenerate with
VMS_UPDATE_GOLDEN=1 and review the diff). The rows are checked against the plan itself, not against
the renderer: every zone flow that crosses a boundary is covered exactly (the union of the rows'
sources x destinations x ports is the union of the plan's crossing flows), every forward is one
row with its allow-list, every boundary between the site's zones ends in its default deny.
"""
from __future__ import annotations

import csv
import io
import ipaddress
import re

import pytest
from conftest import EXAMPLES, GOLDEN_PLANS, ROOT, compare_golden, load_json, plan_of

from vms_deploy.inventory import load_inventory
from vms_deploy.render import firewall_request

GOLDEN = ROOT / "tests" / "golden" / "firewall_request"
CITYHALL = ROOT / "tests" / "fixtures" / "inventories" / "cityhall"
ZONES = ("dmz", "servers", "clients", "cameras", "management", "vpn")


def _plans():
    yield from ((name, load_json(GOLDEN_PLANS / f"{name}.json")) for name in EXAMPLES)
    yield "cityhall", plan_of(load_inventory(CITYHALL))


PLANS = dict(_plans())


def _rows(plan: dict) -> list[dict]:
    return list(csv.DictReader(io.StringIO(firewall_request.to_csv(plan))))


def _spans(cidrs) -> list[tuple[int, int]]:
    return [(int(n.network_address), int(n.broadcast_address)) for n in map(ipaddress.ip_network, cidrs)]


def _covered(rects: list, others: list) -> set:
    """The (source piece, destination piece) pairs `rects` cover, pieces cut at every range end of
    `rects` and `others`: two lists of rectangles cover the same addresses iff their sets are equal."""
    every = rects + others
    cuts_s = sorted({x for s, _ in every for lo, hi in s for x in (lo, hi + 1)})
    cuts_d = sorted({x for _, d in every for lo, hi in d for x in (lo, hi + 1)})
    covered = set()
    for srcs, dsts in rects:
        pieces_s = [c for c in cuts_s if any(lo <= c <= hi for lo, hi in srcs)]
        pieces_d = [c for c in cuts_d if any(lo <= c <= hi for lo, hi in dsts)]
        covered |= {(a, b) for a in pieces_s for b in pieces_d}
    return covered


@pytest.mark.parametrize("name", sorted(PLANS))
def test_golden_firewall_request(name):
    files = firewall_request.render(PLANS[name])
    assert sorted(files) == ["firewall-rules.csv", "firewall-rules.md"]
    for filename, text in files.items():
        compare_golden(GOLDEN / f"{name}.{filename}", text)


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_allow_rows_are_exactly_the_crossing_zone_flows(name):
    plan = PLANS[name]
    want: dict = {}
    for flow in plan["zone_flows"]:
        if flow["from"] != flow["to"] and flow["to"] != "edge":
            key = (flow["from"], flow["to"], flow["protocol"], tuple(flow["ports"]))
            want.setdefault(key, []).append((_spans(flow["sources"]), _spans(flow["destinations"])))
    got: dict = {}
    for row in _rows(plan):
        if row["action"] != "allow":
            continue
        first, _, last = row["ports"].partition("-")
        key = (row["from_zone"], row["to_zone"], row["protocol"].lower(), (int(first), int(last or first)))
        got.setdefault(key, []).append((_spans(row["sources"].split()), _spans(row["destinations"].split())))
    assert set(got) == set(want)
    for key in want:
        assert _covered(got[key], want[key]) == _covered(want[key], got[key]), key


@pytest.mark.parametrize("name", sorted(PLANS))
def test_every_forward_is_one_row_with_its_allowlist(name):
    plan = PLANS[name]
    rows = [r for r in _rows(plan) if r["action"] == "forward"]
    assert len(rows) == len(plan["forwards"])
    for row, fwd in zip(rows, plan["forwards"], strict=True):
        assert row["sources"].split() == fwd["sources"] and row["service"] == fwd["service"]
        first, last = fwd["to_ports"]
        assert row["translate_to"] == f"{fwd['to_address']}:{first if first == last else f'{first}-{last}'}"
        assert row["destinations"] == f"{plan['edge']['public_address']}/32"


@pytest.mark.parametrize("name", sorted(PLANS))
def test_every_boundary_ends_in_its_default_deny(name):
    plan = PLANS[name]
    rows = _rows(plan)
    denies = {(r["from_zone"], r["to_zone"]) for r in rows if r["action"] == "deny"}
    assert ("internet", "site") in denies
    present = [z for z in ZONES if plan["zones"].get(z)]
    nets = {z: [ipaddress.ip_network(c) for c in plan["zones"][z]] for z in present}

    def inside(a, b):
        return all(any(x.subnet_of(y) for y in nets[b]) for x in nets[a])

    for a in present:
        for b in present:
            if a != b and not inside(a, b) and not inside(b, a):
                assert (a, b) in denies, (a, b)
    for index, row in enumerate(rows):  # a boundary's deny comes after its allows
        if row["action"] == "allow":
            later = [r for r in rows[index:] if r["action"] == "deny"
                     and (r["from_zone"], r["to_zone"]) == (row["from_zone"], row["to_zone"])]
            assert later or (row["from_zone"], row["to_zone"]) not in denies


def test_each_row_names_hosts_addresses_and_the_seed():
    rows = _rows(PLANS["cityhall"])
    streams = next(r for r in rows if r["service"] == "rec_streams" and r["from_zone"] == "dmz")
    assert streams["source_hosts"] == "mobile1" and streams["sources"] == "10.70.9.40/32"
    assert streams["destination_hosts"] == "rec1, rec2" and streams["destinations"] == "10.70.1.21/32 10.70.1.22/32"
    assert streams["ports"] == "7563" and streams["protocol"] == "TCP"
    assert streams["seed"] == "seed 001, Milestone XProtect ports used by the system"
    camera = next(r for r in rows if r["to_zone"] == "cameras" and r["action"] == "allow")
    assert camera["seed"].startswith("seed 001: cameras are reached by the recording servers only")


def test_the_markdown_says_what_is_left_open_per_boundary():
    text = firewall_request.to_markdown(PLANS["cityhall"])
    section = text[text.index("### dmz -> servers"):text.index("### dmz -> clients")]
    assert "deny all other traffic from dmz to servers" in section
    # The controller (vms_win_controller_address 10.70.1.5) sits on the server LAN: it stays in that zone.
    assert ("If this boundary is left open, the dmz zone reaches 10.70.1.0/24 except 10.70.1.10, "
            "10.70.1.21, 10.70.1.22 on every port") in section
    assert "| management | 10.70.1.5/32 |" not in text
    assert "mobile1 (10.70.9.40)" in section and "rec1, rec2 (10.70.1.21, 10.70.1.22)" in section
    assert "\\" not in text  # no Markdown escapes in what people read


def test_a_managed_edge_says_it_enforces_the_rules_itself():
    text = firewall_request.to_markdown(PLANS["xprotect_distributed_dmz"])
    assert "The managed edge host xedge enforces these rules itself" in text
    assert "Enforced by the managed edge host xedge." in text


def test_a_boundary_warning_points_at_rows_that_exist():
    plan = PLANS["cityhall"]
    pointed = 0
    for entry in plan["warnings"]:
        found = re.search(r"allow only the (\w+) -> (\w+) rows of firewall-rules.csv", entry["fix"])
        none = re.search(r"deny all traffic from (\w+) to (\w+) \(the plan needs none\)", entry["fix"])
        pair = (found or none).groups() if (found or none) else None
        if pair is None:
            continue
        rows = [r for r in _rows(plan) if r["action"] == "allow" and (r["from_zone"], r["to_zone"]) == pair]
        assert bool(rows) == bool(found), (pair, entry["fix"])
        pointed += 1
    assert pointed == len([w for w in plan["warnings"] if w["group"] == "firewall"]) >= 12
