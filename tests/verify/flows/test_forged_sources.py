"""Invariant 7 with packets: the Internet and camera vantages send forged-source TCP and UDP to every
private address of every site host; a counter on each host, before its own firewall, sees none.

Without the edge's ingress check (render/nftables_edge.py, chain `ingress`) a forged client or
server source is forwarded wherever the plan lets that zone go: the second test takes the check out
by hand and must see packets arrive, so the first cannot pass for a reason other than the edge.
"""
from __future__ import annotations

import json

import pytest
import testinfra
from conftest import container, lab_vars
from test_flows import plan_container


@pytest.fixture(scope="module")
def forged(plan, vantages):
    from vms_lab.forged import probes
    tuples = probes(plan, vantages, lab_vars().get("vms_lab_networks") or {})
    if not tuples:
        pytest.skip("no Internet or camera vantage in this lab")
    return tuples


def _arm(plan, forged) -> dict:
    """A fresh counter table on every destination host; returns {host: testinfra host}."""
    from vms_lab.forged import COUNTER_TABLE, counter_table
    family, name = COUNTER_TABLE
    hosts = {}
    for host in sorted({p["host"] for p in forged}):
        target = testinfra.get_host(f"docker://{plan_container(host)}")
        text = counter_table([p["source"] for p in forged if p["host"] == host])
        target.run(f"nft delete table {family} {name} 2>/dev/null")
        target.check_output(f"cat > /tmp/vms-forged.nft <<'EOF'\n{text}EOF\nnft -f /tmp/vms-forged.nft")
        hosts[host] = target
    return hosts


def _send(vantages, forged) -> None:
    from vms_lab.forged import sender_command
    for v in vantages:
        batch = [p for p in forged if p["vantage"] == v["name"]]
        if not batch:
            continue
        sender = testinfra.get_host(f"docker://{container(v['name'])}")
        cmd = sender.run(sender_command(v["address"], batch))
        assert cmd.rc == 0, f"forged-source sender failed in {container(v['name'])}: {cmd.stderr}"
        result = json.loads(cmd.stdout)
        assert result["sent"] == len(batch) and not result["errors"], result


def _arrived(hosts) -> dict[tuple[str, str], int]:
    from vms_lab.forged import COUNTER_TABLE, counts
    out = {}
    try:
        for host, target in hosts.items():
            listing = target.check_output(f"nft list table {' '.join(COUNTER_TABLE)}")
            out.update({(host, src): n for src, n in counts(listing).items()})
    finally:
        for target in hosts.values():
            target.run(f"nft delete table {' '.join(COUNTER_TABLE)}")
    return out


def test_forged_sources_never_reach_a_site_host(plan, vantages, forged):
    hosts = _arm(plan, forged)
    _send(vantages, forged)
    arrived = _arrived(hosts)
    assert len(arrived) == len({(p["host"], p["source"]) for p in forged}), "a counter is missing"
    leaked = {k: n for k, n in arrived.items() if n}
    assert not leaked, "forged packets reached site hosts (host, forged source: packets): " + "; ".join(
        f"{h} from {s}: {n} ({next(p['invariant'] for p in forged if p['source'] == s)})"
        for (h, s), n in sorted(leaked.items()))


def test_the_counters_see_forged_packets_when_the_edge_check_is_taken_out(plan, vantages, forged):
    """The edge's ingress rule deleted by hand: forged client/server sources get in again (the
    issue's 24 packets), then the edge's table is restored."""
    edge_host = (plan.get("edge") or {}).get("host")
    if not edge_host:
        pytest.skip("no managed edge")
    edge = testinfra.get_host(f"docker://{plan_container(edge_host)}")
    saved = edge.check_output("nft list table inet vms_deploy")
    listing = edge.check_output("nft -a list chain inet vms_deploy ingress")
    handle = next((ln.rsplit("# handle ", 1)[1] for ln in listing.splitlines() if "fib saddr" in ln), None)
    assert handle, f"the edge has no ingress check:\n{listing}"
    try:
        edge.check_output(f"nft delete rule inet vms_deploy ingress handle {handle}")
        hosts = _arm(plan, forged)
        _send(vantages, forged)
        arrived = _arrived(hosts)
    finally:
        edge.run("cat > /tmp/vms-restore.nft <<'EOF'\ndelete table inet vms_deploy\n" + saved + "\nEOF\n"
                 "nft -f /tmp/vms-restore.nft")
    assert edge.check_output("nft list table inet vms_deploy") == saved
    assert sum(arrived.values()) > 0, "without the ingress check no forged packet arrived: the probe proves nothing"
