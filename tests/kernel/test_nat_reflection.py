"""Issue 21 item 6 in the kernel: NAT reflection serves the client LAN, never cameras.

The all-in-one lab site with vms_nat_reflection (plan edge.nat_reflection): a client's connection to the
public address reaches app1 through the edge's hairpin DNAT, a camera's does not; without reflection
neither does. The kernel's verdicts must equal the one evaluator's.
"""
from __future__ import annotations

import copy

import pytest
from netns import KernelSite
from sampling import ROOT

from vms_deploy.evaluate import evaluate
from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan

CLIENT, CAMERA, SERVER = "172.28.13.7", "172.28.14.7", "172.28.12.50"


@pytest.fixture(scope="module")
def plan():
    return compile_plan(load_inventory(ROOT / "inventories" / "lab" / "all_in_one"))


@pytest.mark.parametrize("reflection", [True, False])
def test_reflection_for_clients_never_cameras(plan, reflection):
    plan = copy.deepcopy(plan)
    if reflection:
        plan["edge"]["nat_reflection"] = True
    public = plan["edge"]["public_address"]
    ports = sorted({(f["protocol"], f["external_ports"][0]) for f in plan["forwards"]})
    tuples = [(src, public, proto, port) for src in (CLIENT, CAMERA, SERVER) for proto, port in ports]
    with KernelSite(plan) as kernel:
        got = kernel.judge_many(tuples)
    expected = {t: evaluate(plan, t[0], t[1], t[3], t[2]).allowed for t in tuples}
    assert got == expected
    assert any(got[t] for t in tuples if t[0] == CLIENT) is reflection
    assert not any(got[t] for t in tuples if t[0] in (CAMERA, SERVER))
