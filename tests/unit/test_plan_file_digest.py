"""vms_deploy.plan_io.host_digest: one short digest per host of the plan part its firewall comes from."""
from __future__ import annotations

import copy
import re

import pytest
from conftest import valerus_split, xprotect_dmz

from vms_deploy.pipeline import compile_plan
from vms_deploy.plan_io import host_digest, host_digests


@pytest.fixture(scope="module")
def plan():
    return compile_plan(valerus_split(vms_remote_allowlist=["100.64.0.0/10"]))


def test_digest_is_short_hex_and_stable(plan):
    digest = host_digest(plan, "app")
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert host_digest(copy.deepcopy(plan), "app") == digest
    assert host_digests(plan)["app"] == digest
    assert len(set(host_digests(plan).values())) == len(plan["hosts"])


def test_digest_follows_the_hosts_own_rules_only():
    base = compile_plan(valerus_split(vms_remote_allowlist=["100.64.0.0/10"]))
    other = compile_plan(valerus_split(vms_remote_allowlist=["100.64.5.0/24"]))
    # The allow-list reaches the gateway and the edge's forwards; recorders and the app server keep their rules.
    changed = {h for h in base["hosts"] if host_digest(base, h) != host_digest(other, h)}
    unchanged_rules = {h for h in base["hosts"] if base["hosts"][h] == other["hosts"][h]}
    assert "edge" in changed and "gw" in changed
    assert {"app", "rec1", "rec2"} <= unchanged_rules
    assert not changed & (unchanged_rules - {"edge"})


def test_edge_digest_covers_forwards_and_zone_flows(plan):
    edited = copy.deepcopy(plan)
    edited["forwards"][0]["sources"] = ["100.64.9.0/24"]
    assert host_digest(edited, "edge") != host_digest(plan, "edge")
    assert host_digest(edited, "app") == host_digest(plan, "app")
    edited = copy.deepcopy(plan)
    edited["zone_flows"] = edited["zone_flows"][1:]
    assert host_digest(edited, "edge") != host_digest(plan, "edge")
    assert host_digest(edited, "rec1") == host_digest(plan, "rec1")


def test_digest_changes_with_the_zones_and_management():
    a = compile_plan(xprotect_dmz())
    b = compile_plan(xprotect_dmz(vms_management_networks=["10.8.99.0/24"]))
    assert all(host_digest(a, h) != host_digest(b, h) for h in a["hosts"])


def test_unknown_host_names_the_host_and_site(plan):
    with pytest.raises(KeyError, match="'nosuch' is not in the plan of site 't'"):
        host_digest(plan, "nosuch")
