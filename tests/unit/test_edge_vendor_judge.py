"""The security invariants on what each vendor backend leaves on its device, judged by interpreters.

routeros: every example's api_modify calls run through community.routeros's own api_modify code
against a stand-in RouterOS whose tables already hold the customer's configuration (defconf-like
rules, lists, a NAT rule of their own); the interpreter then walks new connections through the
resulting tables. fortios: the rendered module data, as the role leaves it (the site's block first,
the device's own policies after it), walked through FortiOS's VIP and policy semantics.
(tests/unit/edge_vendor_devices.py says what each interpreter knows.)

The expectations come from outside the backends: vms_deploy.invariants (stated from the seeds), the
evaluator (the verdict check/explain/probe give), and the forged-source rule of issue 21 section 5 (a
packet entering on one zone's interface with another zone's or the Internet's source is dropped).
"""
from __future__ import annotations

import copy
import ipaddress

import pytest
from edge_vendor_cases import cases, example_plan
from edge_vendor_devices import (
    CUSTOMER,
    FORTIGATE_ANY,
    WIDE_ACCEPT,
    RouterOS,
    end_to_end,
    fortios_edge,
    judge_of,
    routeros_edge,
)

from vms_deploy import invariants
from vms_deploy.evaluate import evaluate
from vms_deploy.render import fortios, routeros

CASES = cases()


@pytest.mark.parametrize("name,backend", CASES)
def test_the_invariants_hold_on_the_devices_rules(name, backend):
    plan = example_plan(name, backend)
    broken = invariants.violations(plan, judge=judge_of(plan, backend))
    assert broken == [], f"{name} on {backend}:\n" + "\n".join(broken[:20])


@pytest.mark.parametrize("name,backend", CASES)
def test_the_device_gives_the_evaluators_verdict(name, backend):
    """On every tuple the invariants try (sources in every zone, every host and port), the device's rules
    and the host firewalls admit exactly what `vms-deploy check` says. The device's own ports are the
    admin's (its local-in / input chain), so tuples to or from it are left out."""
    plan = example_plan(name, backend)
    judge = judge_of(plan, backend)
    edge_host = plan["edge"].get("host")
    own = {plan["hosts"][edge_host]["address"]} if edge_host else set()
    differ = []
    for probe in invariants.probes(plan):
        t = (probe["source"], probe["destination"], probe["protocol"], probe["port"])
        if own & {t[0], t[1]}:
            continue
        verdict = evaluate(plan, t[0], t[1], t[3], t[2])
        if t[1] == plan["edge"]["public_address"] and not verdict.rules:
            continue  # for the edge itself (no forward): the device's own input
        if judge(*t) != verdict.allowed:
            differ.append(f"{t}: device {'ALLOWED' if judge(*t) else 'DENIED'}, evaluator {verdict.summary}")
    assert not differ, f"{name} on {backend}: {len(differ)} tuples differ:\n" + "\n".join(differ[:15])


def _forged_sources(plan):
    """(address, zone it is sent from) for sources that do not belong to the zone they enter from."""
    zones = plan["zones"]
    samples = {z: [str(next(ipaddress.ip_network(c).hosts())) for c in zones.get(z) or []
                   if ipaddress.ip_network(c).num_addresses > 2] for z in zones}
    samples["internet"] = ["8.8.8.8"]
    bound = [z for z in plan["edge"]["interfaces"] if zones.get(z) or z == "internet"]
    out = []
    for real, addresses in samples.items():
        for address in addresses:
            for entering in bound:
                owners = [z for z in zones if z != "internet" and zones.get(z)
                          and any(ipaddress.ip_address(address) in ipaddress.ip_network(c) for c in zones[z])]
                if entering != real and entering not in owners:
                    out.append((address, entering))
    return out


@pytest.mark.parametrize("name,backend", CASES)
def test_a_forged_source_is_dropped_at_the_interface_it_enters(name, backend):
    """Issue 21 section 5 on the vendor edges: a packet entering on the Internet's interface with a site
    source, or on a zone's interface with a source outside that zone's networks, reaches nothing."""
    plan = example_plan(name, backend)
    targets = [(h["address"], r["protocol"], r["ports"][0]) for h in plan["hosts"].values() if h.get("address")
               for r in h.get("inbound") or []]
    public = plan["edge"]["public_address"]
    targets += [(public, f["protocol"], f["external_ports"][0]) for f in plan["forwards"]] if public else []
    forged = _forged_sources(plan)
    assert forged
    through = []
    for address, entering in forged:
        judge = judge_of(plan, backend, ingress={address: entering})
        through += [(address, entering, t) for t in targets if judge(address, *t)]
    assert not through, f"{name} on {backend}: forged sources delivered:\n" + "\n".join(map(str, through[:15]))


# --- the judges can fail: what the role's placement prevents -------------------------------------------------

def _site_with_forward():
    return example_plan("valerus_separate_app_server", "routeros")


def test_a_wide_rule_ahead_of_the_sites_jump_would_open_the_site_and_the_role_moves_the_jump_first():
    plan = _site_with_forward()
    payload = routeros.plan_data(plan)
    tables = copy.deepcopy(CUSTOMER)
    tables["ip firewall filter"].insert(1, dict(WIDE_ACCEPT))
    device = RouterOS(tables)
    for call in payload["calls"]:
        device.api_modify(call)
    public = plan["edge"]["public_address"]
    before = invariants.violations(plan, judge=end_to_end(plan, routeros_edge(device, public)))
    assert before, "the judge must see the customer's wide accept ahead of the jump"
    move = routeros.jump_move(payload, device.rows("ip firewall filter"))
    assert move and move["numbers"]
    device.move(move["numbers"], move["destination"])
    forward = [r for r in device.rows("ip firewall filter") if r["chain"] == "forward"]
    assert forward[0]["action"] == "jump" and forward[0]["jump-target"] == payload["chain"]
    assert routeros.jump_move(payload, device.rows("ip firewall filter")) is None
    assert invariants.violations(plan, judge=end_to_end(plan, routeros_edge(device, public))) == []


def test_a_fortigate_policy_ahead_of_the_sites_block_would_open_the_site():
    plan = example_plan("valerus_separate_app_server", "fortios")
    data = fortios.plan_data(plan)
    public = plan["edge"]["public_address"]
    ahead = end_to_end(plan, fortios_edge(data, public, before=FORTIGATE_ANY))
    assert invariants.violations(plan, judge=ahead)
    assert invariants.violations(plan, judge=end_to_end(plan, fortios_edge(data, public, FORTIGATE_ANY))) == []


def test_without_the_default_deny_a_fortigate_any_policy_would_open_the_site():
    plan = example_plan("valerus_separate_app_server", "fortios")
    data = fortios.plan_data(plan)
    data["firewall_policy"] = data["firewall_policy"][:-1]
    judge = end_to_end(plan, fortios_edge(data, plan["edge"]["public_address"], FORTIGATE_ANY))
    assert invariants.violations(plan, judge=judge)
