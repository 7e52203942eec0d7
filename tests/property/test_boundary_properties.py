"""On every drawn site, the plan's unenforced-boundary warnings agree with the evaluator.

For each ordered pair of the site's zones, the test picks an address of the destination zone that
no plan host holds and asks the evaluator whether the source zone reaches it. Where it does (no
managed edge stands between them), the plan must carry the boundary's warning, and the words of its
residual risk (parsed back by test_describe's grammar) must hold the address. With a managed edge
the plan carries no such warning and the evaluator admits no such address on an unplanned port.
"""
from __future__ import annotations

import ipaddress
import re

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import sites
from test_describe import EXAMPLES, parse

from vms_deploy.evaluate import evaluate
from vms_deploy.pipeline import compile_plan
from vms_deploy.zones import zone_index

ZONES = ("dmz", "servers", "clients", "cameras", "management")
WARNING = re.compile(r"^zone boundary (\w+) -> (\w+) is not enforced .* the \w+ zone reaches (.+) on every port$")


def _nested(a: list, b: list) -> bool:
    nets_a = [ipaddress.ip_network(c) for c in a]
    nets_b = [ipaddress.ip_network(c) for c in b]
    return all(any(x.subnet_of(y) for y in nets_b) for x in nets_a)


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(data=sites(), pick=st.data())
def test_boundary_warnings_agree_with_the_evaluator(data, pick):
    plan = compile_plan(data)
    zones = plan["zones"]
    classify = zone_index(zones)
    hosts = {h["address"] for h in plan["hosts"].values()}
    warned = {}
    for w in plan["warnings"]:
        m = WARNING.match(w["text"]) if w["group"] == "firewall" else None
        if m:
            warned[(m.group(1), m.group(2))] = parse(m.group(3), zones)
    present = [z for z in ZONES if zones.get(z)]
    for a in present:
        for b in present:
            if a == b or _nested(zones[a], zones[b]) or _nested(zones[b], zones[a]):
                continue
            src = next((str(n.network_address + 1) for n in map(ipaddress.ip_network, zones[a])
                        if n.num_addresses > 2 and classify(f"{n.network_address + 1}/32") == a), None)
            net = ipaddress.ip_network(pick.draw(st.sampled_from(zones[b])))
            target = str(net.network_address + pick.draw(st.integers(0, net.num_addresses - 1)))
            if src is None or target in hosts or classify(f"{target}/32") != b:
                continue
            reached = evaluate(plan, src, target, 4444, "tcp").allowed
            event("reached an unmanaged address" if reached else "did not reach")
            if reached:
                assert (a, b) in warned, (a, b, target)
                value = int(ipaddress.ip_address(target))
                assert any(lo <= value <= hi for lo, hi in warned[(a, b)]), (a, b, target)
            if plan["edge"]["host"]:
                assert not reached and not warned, (a, b, target)
