"""The one evaluator over compiled plans: the Internet enters only through forwards (issue 12)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest import plan_of, valerus_split, xprotect_dmz

from vms_deploy.evaluate import LookupFailed, evaluate
from vms_deploy.inventory import load_inventory
from vms_deploy.render.nftables_edge import render_edge_ruleset

LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"
INTERNET_VANTAGE = "172.28.10.100"  # inventories/lab/all_in_one: vms_lab_vantages internet


@pytest.fixture(scope="module")
def aio():
    return plan_of(load_inventory(LAB / "all_in_one"))


@pytest.mark.parametrize("port", [3000, 3001, 9080, 9081, 9443])
def test_internet_never_reaches_a_private_address(aio, port):
    """The defect found on the demo lab: app1's private address answered the Internet on these ports."""
    verdict = evaluate(aio, INTERNET_VANTAGE, "app1", port)
    assert not verdict.allowed, verdict.render()
    assert "only through the public address's forwards" in verdict.render()


def test_internet_reaches_the_gateway_through_the_forward(aio):
    verdict = evaluate(aio, INTERNET_VANTAGE, aio["edge"]["public_address"], 80)
    assert verdict.allowed, verdict.render()
    assert [r.get("name") for r in verdict.rules if "external_ports" in r] == ["valerus-gateway-http"]
    assert verdict.rules[-1]["ports"] == [9080, 9080]


def test_no_routed_internet_accept_in_the_edge(aio):
    """Every edge rule that admits outside sources is a DNAT'ed forward (ct status dnat)."""
    text = render_edge_ruleset(aio, aio["edge"]["host"])
    outside = [line for line in text.splitlines() if "ip saddr != @internal" in line and "accept" in line]
    assert outside and all("ct status dnat" in line for line in outside), "\n".join(outside)
    assert not [f for f in aio["zone_flows"] if f["from"] == "internet"]


def test_internal_sources_are_not_dnated():
    plan = plan_of(valerus_split())
    verdict = evaluate(plan, "10.9.2.15", "100.64.0.9", 80)
    assert not verdict.allowed and "no hairpin NAT" in verdict.render()


def test_xprotect_9000_only_from_recorders():
    plan = plan_of(xprotect_dmz())
    assert evaluate(plan, "rec1", "mgmt", 9000).allowed
    for source in ("ev", "mobile", "10.8.2.15", "10.8.50.7"):
        assert not evaluate(plan, source, "mgmt", 9000).allowed, source


def test_camera_reaches_only_recorders():
    plan = plan_of(valerus_split())
    for host in ("app", "gw", "edge"):
        for port in (80, 443, 22, 3389, 9080):
            assert not evaluate(plan, "10.9.50.7", host, port).allowed, (host, port)
    assert evaluate(plan, "rec1", "10.9.50.7", 554).allowed
    assert not evaluate(plan, "app", "10.9.50.7", 554).allowed


def test_allowlist_that_covers_cameras_still_excludes_them():
    """0.0.0.0/0 holds the camera network: the gateway's Internet rule must not admit cameras."""
    plan = plan_of(valerus_split())
    gw = next(r for r in plan["hosts"]["gw"]["inbound"] if r["service"] == "gateway_http")
    assert "0.0.0.0/0" not in gw["sources"]
    assert not any(c.startswith("10.9.50.") for c in gw["sources"])
    assert evaluate(plan, "8.8.8.8", "100.64.0.9", 80).allowed


def test_routed_dmz_host_is_the_one_exception():
    data = valerus_split()
    data["hosts"]["gw"]["ansible_host"] = "100.64.9.55"
    data["hosts"]["gw"]["vms_routed_public"] = True
    for host in data["hosts"].values():
        host["vms_dmz_networks"] = ["100.64.9.0/24"]
    plan = plan_of(data)
    assert plan["hosts"]["gw"]["routed_public"] is True
    assert evaluate(plan, "8.8.8.8", "gw", 9080).allowed
    assert not evaluate(plan, "8.8.8.8", "app", 9080).allowed
    text = render_edge_ruleset(plan, "edge")
    assert any("ip saddr != @internal" in line and "ct status dnat" not in line and "9080" in line
               for line in text.splitlines())


def test_routed_public_outside_the_dmz_is_refused():
    from vms_deploy.errors import ValidationFailed
    data = valerus_split()
    data["hosts"]["app"]["vms_routed_public"] = True
    with pytest.raises(ValidationFailed) as err:
        plan_of(data)
    assert "vms_routed_public" in str(err.value) and "app" in str(err.value)


@pytest.mark.parametrize("kwargs,message", [
    ({"source": "nohost", "destination": "app", "port": 80}, "--from 'nohost' is neither a host"),
    ({"source": "app", "destination": "rec1", "port": 0}, "--port 0 is not a port number"),
    ({"source": "app", "destination": "rec1", "port": 80, "protocol": "icmp"}, "--protocol 'icmp'"),
    ({"source": "::1", "destination": "rec1", "port": 80}, "IPv6"),
])
def test_bad_questions_get_a_usable_message(kwargs, message):
    plan = plan_of(valerus_split())
    with pytest.raises(LookupFailed) as err:
        evaluate(plan, **kwargs)
    assert message in str(err.value)


def test_evaluator_follows_edits_to_a_plan_copy(aio):
    """A plan changed after one question is a new object: no stale answers."""
    changed = copy.deepcopy(aio)
    changed["forwards"] = []
    assert evaluate(aio, INTERNET_VANTAGE, aio["edge"]["public_address"], 80).allowed
    assert not evaluate(changed, INTERNET_VANTAGE, changed["edge"]["public_address"], 80).allowed


def _dmz_valerus(reflection: bool) -> dict:
    from pathlib import Path

    from vms_deploy.inventory import load_inventory
    from vms_deploy.pipeline import compile_plan
    inv = load_inventory(Path(__file__).resolve().parents[2] / "inventories" / "lab" / "dmz_valerus")
    plan = compile_plan(inv)
    plan["edge"].pop("nat_reflection", None)  # the lab inventory turns it on; each test says which it wants
    if reflection:
        plan["edge"]["nat_reflection"] = True
    return plan


def test_nat_reflection_serves_clients_never_cameras():
    """Issue 21 item 6: with vms_nat_reflection a client on the LAN reaches the gateway through the public
    address, as it may directly; a camera and a server never do; without it nobody inside does."""
    on, off = _dmz_valerus(True), _dmz_valerus(False)
    client, camera, server = "172.28.43.100", "172.28.44.100", "172.28.42.10"
    public = on["edge"]["public_address"]
    got = evaluate(on, client, public, 80)
    assert got.allowed and any("NAT reflection of forward valerus-gateway-http" in s for s in got.steps)
    assert "gw1" in " ".join(got.steps) and "tcp/9080" in " ".join(got.steps)
    assert not evaluate(on, camera, public, 80).allowed
    assert not evaluate(on, server, public, 80).allowed
    assert not evaluate(off, client, public, 80).allowed
    assert not evaluate(on, client, public, 4444).allowed  # no forward: the edge's own input chain


def test_nat_reflection_renders_dnat_for_the_client_set_only():
    from vms_deploy.render.nftables_edge import render_edge_ruleset
    text = render_edge_ruleset(_dmz_valerus(True), "edge1")
    reflected = [ln.strip() for ln in text.splitlines() if "reflection" in ln]
    assert reflected and all("ip saddr @zone_clients" in ln and "dnat ip to 172.28.41.20" in ln for ln in reflected)
    assert 'ip daddr 172.28.40.2 ip saddr @zone_clients tcp dport 80 dnat ip to 172.28.41.20:9080 comment ' \
           '"reflection valerus-gateway-http"' in reflected
    assert "reflection" not in render_edge_ruleset(_dmz_valerus(False), "edge1")
    # No source NAT is added: the only masquerade is the Internet-bound one.
    assert text.count("masquerade") == 1


def test_cameras_never_reach_a_forward_through_the_public_address_invariant():
    from vms_deploy.invariants import probes, violations
    plan = _dmz_valerus(True)
    public = plan["edge"]["public_address"]
    cam = [p for p in probes(plan, [{"name": "camera", "address": "172.28.44.100"}])
           if p["destination"] == public]
    assert cam and all(p["forbidden"] and p["invariant"].startswith("2 cameras") for p in cam)
    assert not violations(plan)
    # An edge that reflected for every zone (the judge: the public address answers everyone) breaks invariant 2.
    broken = violations(plan, judge=lambda s, d, pr, po: d == public or evaluate(plan, s, d, po, pr).allowed)
    assert any(b.startswith("2 cameras") and public in b for b in broken), broken
