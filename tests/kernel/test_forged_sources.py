"""Invariant 7 in the kernel: forged sources from the Internet and camera segments never reach a host.

The rendered edge ruleset in the edge namespace, the same sender the lab uses (lab/src/vms_lab/
forge_send.py) in the Internet and camera stand-ins, and a counter table before each host's own
firewall (vms_lab.forged.counter_table). The edge routes each forged address to its own zone's
segment, as a real edge routes its connected networks, so only the ingress check can tell a
forged packet from a real one. Without the check (transform) the same packets arrive: the probe
can fail.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
from netns import KernelSite, in_ns, run
from sampling import ROOT

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan

INTERNET = "172.29.254.100"
CAMERA = "172.28.14.7"


@pytest.fixture(scope="module")
def plan():
    return compile_plan(load_inventory(ROOT / "inventories" / "lab" / "all_in_one"))


def _without_ingress_check(host, text):
    return "\n".join(ln for ln in text.splitlines() if "fib saddr" not in ln) + "\n"


def _forge(plan, transform=None) -> dict[tuple[str, str], int]:
    from vms_deploy.invariants import forged_probes
    from vms_lab.forged import COUNTER_TABLE, SENDER, counter_table, counts
    with KernelSite(plan, transform=transform, control=False) as kernel:
        vantages = [{"name": "internet", "address": INTERNET}, {"name": "camera", "address": CAMERA}]
        probes = forged_probes(plan, vantages, [kernel.internet_address(77)])
        assert {p["vantage"] for p in probes} == {"internet", "camera"}
        # Every address where it belongs first (the edge routes it there), then forged elsewhere.
        kernel._place({INTERNET, CAMERA} | {p["source"] for p in probes})
        for host in {p["host"] for p in probes}:
            run(in_ns(kernel.host_ns[host], "nft", "-f", "-"),
                counter_table([p["source"] for p in probes if p["host"] == host]))
        for v in vantages:
            batch = [p for p in probes if p["vantage"] == v["name"]]
            ns = kernel.places[v["address"]].ns
            payload = base64.b64encode(json.dumps(batch).encode()).decode()
            done = subprocess.run(in_ns(ns, sys.executable, str(SENDER), v["address"], payload),
                                  capture_output=True, text=True, timeout=60, check=True)
            assert json.loads(done.stdout) == {"sent": len(batch), "errors": []}
        arrived = {}
        for host in {p["host"] for p in probes}:
            listing = run(in_ns(kernel.host_ns[host], "nft", "list", "table", *COUNTER_TABLE))
            arrived.update({(host, src): n for src, n in counts(listing).items()})
        assert len(arrived) == len({(p["host"], p["source"]) for p in probes})
        return arrived


def test_forged_sources_never_reach_a_host(plan):
    arrived = _forge(plan)
    assert not {k: n for k, n in arrived.items() if n}


def test_without_the_ingress_check_forged_sources_arrive(plan):
    arrived = _forge(plan, transform=_without_ingress_check)
    assert sum(arrived.values()) > 0, arrived
