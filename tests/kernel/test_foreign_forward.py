"""Issue 21 item 7 in the kernel: a foreign table's DNAT toward a planned destination does not get through.

A second table on the edge (not vms-deploy's) DNATs the public address's TCP 8888 to the gateway's
9080, the destination of a planned forward (public 80 -> 9080). The edge's forward chain accepts a
DNAT'ed connection only when its original destination is a planned forward's public address and
external port, so the Internet gets nothing on 8888; with that match taken out of the rendered
table (the first build's rule) the same probe gets through, so the test can fail.
"""
from __future__ import annotations

import re

import pytest
from netns import KernelSite
from sampling import ROOT

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan

INTERNET = "172.29.254.100"


@pytest.fixture(scope="module")
def plan():
    return compile_plan(load_inventory(ROOT / "inventories" / "lab" / "all_in_one"))


def _planting(plan, strip_original=False):
    public = plan["edge"]["public_address"]
    fwd = next(f for f in plan["forwards"] if f["to_ports"][0] == 9080)
    foreign = ("table ip planted_by_hand {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat - 10; "
               f"policy accept;\n\t\tip daddr {public} tcp dport 8888 dnat to {fwd['to_address']}:9080\n\t}}\n}}\n")

    def transform(host, text):
        if host != plan["edge"]["host"]:
            return text
        if strip_original:
            text = re.sub(r" ct original ip daddr \S+ ct original proto-dst \S+", "", text)
        return text + foreign
    return transform


@pytest.mark.parametrize("strip_original, reached", [(False, False), (True, True)])
def test_a_foreign_dnat_to_the_gateway(plan, strip_original, reached):
    public = plan["edge"]["public_address"]
    with KernelSite(plan, transform=_planting(plan, strip_original), control=False) as kernel:
        assert "planted_by_hand" in kernel.ruleset()
        verdicts = kernel.judge_many([(INTERNET, public, "tcp", 8888), (INTERNET, public, "tcp", 80)])
    assert verdicts[(INTERNET, public, "tcp", 80)] is True, "the planned forward must still work"
    assert verdicts[(INTERNET, public, "tcp", 8888)] is reached
