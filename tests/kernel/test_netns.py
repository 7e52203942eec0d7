"""The kernel judge itself: verdicts on a known site, a planted hole is seen, nothing is left behind.

Uses the lab's all-in-one site (app1 172.28.12.10 runs everything; management is the server LAN
172.28.12.0/24; the edge's public address 172.28.10.2 forwards the gateway's ports).
"""
from __future__ import annotations

import pytest
from netns import HarnessError, KernelSite, our_namespaces
from sampling import ROOT

from vms_deploy import invariants
from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan

INTERNET = "172.29.254.100"


@pytest.fixture(scope="module")
def plan():
    return compile_plan(load_inventory(ROOT / "inventories" / "lab" / "all_in_one"))


def test_known_verdicts(plan):
    public = plan["edge"]["public_address"]
    cases = {
        ("172.28.12.50", "app1", "tcp", 22): True,    # management network -> SSH
        (INTERNET, "app1", "tcp", 22): False,         # the Internet -> SSH
        ("172.28.13.7", "app1", "tcp", 22): False,    # a client -> SSH
        (INTERNET, public, "tcp", 3000): True,        # the web player forward (DNAT)
        (INTERNET, public, "tcp", 3999): False,       # not forwarded
        (INTERNET, "app1", "tcp", 3000): False,       # the private address itself, not the forward
        ("172.28.13.7", "app1", "tcp", 3000): True,   # a client, routed through the edge
        ("172.28.14.7", "app1", "tcp", 3000): False,  # a camera -> web player
        ("app1", "172.28.14.7", "tcp", 554): True,    # the recorder -> a camera's RTSP
        ("172.28.13.7", "172.28.14.7", "tcp", 554): False,  # a client -> a camera
        ("172.28.13.7", "app1", "udp", 9000): False,  # nothing open on UDP
    }
    with KernelSite(plan) as kernel:
        names = list(our_namespaces())
        assert any(n.startswith(kernel.tag) for n in names)
        assert "table inet vms_deploy" in kernel.ruleset("app1")
        assert kernel.judge_many(cases) == cases
    assert not [n for n in our_namespaces() if n.startswith(kernel.tag)], "namespaces left behind"


def _plant_routed_accept(host, text):
    """The defect of issue 12: a plain routed accept from the Internet to app1's private address."""
    if host != "edge1":
        return text
    head, forward = text.split("\tchain forward {", 1)
    forward = forward.replace("ct state invalid drop\n",
                              "ct state invalid drop\n\t\tip daddr 172.28.12.10 tcp dport 3000 "
                              "accept\n", 1)
    return head + "\tchain forward {" + forward


def test_a_planted_hole_is_seen(plan):
    with KernelSite(plan, transform=_plant_routed_accept) as kernel:
        assert "ip daddr 172.28.12.10 tcp dport 3000 accept" in kernel.ruleset()
        assert kernel.judge(INTERNET, "app1", "tcp", 3000) is True
        probes = [p for p in invariants.probes(plan) if p["forbidden"]]
        verdicts = kernel.judge_many([(p["source"], p["destination"], p["protocol"], p["port"]) for p in probes])
        broken = invariants.violations(plan, judge=lambda *t: verdicts[t])
    assert any("172.28.12.10 tcp/3000" in b and b.startswith("1 internet") for b in broken), broken


def test_a_rejecting_ruleset_is_refused(plan):
    def reject(host, text):
        return text.replace("policy drop;", "policy drop;\n\t\ttcp dport 4444 reject", 1)
    with pytest.raises(HarnessError, match="rejects"), KernelSite(plan, transform=reject):
        pass
