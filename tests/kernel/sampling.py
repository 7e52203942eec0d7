"""Which (source, destination, protocol, port) tuples the kernel judge tries for one plan.

The invariants' own probes (every host address and the public address, on every catalog port,
from a sample of every zone, the Internet and every host) plus tuples drawn here at random with
a seed taken from the plan, so a failure repeats: sources from every network any rule or forward
names (allow-lists, literal CIDRs, network roles) and from the test Internet; destinations every
site address (the edge's too), a camera and a client address and the public address; ports the
first, middle and last of every open range, the ports right next to them, management ports and a
few random ones, on TCP and UDP.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every example and lab inventory is judged.
INVENTORIES = sorted(p for kind in ("examples", "lab") for p in (ROOT / "inventories" / kind).iterdir()
                     if (p / "hosts.yml").exists())
MANAGEMENT = (22, 3389, 5985, 5986)


def seed_of(plan: dict) -> int:
    return int(hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()[:12], 16)


def _address_in(net: ipaddress.IPv4Network, rng: random.Random, avoid: set[str]) -> str | None:
    if net.prefixlen == 0:
        return None
    if net.num_addresses == 1:
        return None if str(net.network_address) in avoid else str(net.network_address)
    for _ in range(20):
        candidate = net.network_address + rng.randrange(1, max(2, net.num_addresses - 1))
        # Multicast, loopback, 0/8 and 240/4 are no host's address: never a source or destination.
        odd = candidate.is_multicast or candidate.is_loopback or candidate.is_reserved or int(candidate) >> 24 == 0
        if str(candidate) not in avoid and not odd:
            return str(candidate)
    return None


def random_tuples(plan: dict, internet: list[str], count: int = 400) -> list[tuple]:
    """`count` tuples (fewer if the plan is small) drawn with the plan's own seed."""
    rng = random.Random(seed_of(plan))
    hosts = plan.get("hosts") or {}
    taken = {h["address"] for h in hosts.values() if h.get("address")}
    public = (plan.get("edge") or {}).get("public_address")
    if public:
        taken.add(public)
    nets = set()
    for zone, cidrs in (plan.get("zones") or {}).items():
        nets.update(c for c in cidrs or [] if zone != "internet")
    for h in hosts.values():
        for rule in h.get("inbound") or []:
            nets.update(rule["sources"])
    for fwd in plan.get("forwards") or []:
        nets.update(fwd["sources"])
    sources = list(internet) + sorted(hosts)
    for text in sorted(nets):
        address = _address_in(ipaddress.ip_network(text, strict=False), rng, taken)
        if address:
            sources.append(address)
    destinations: list[tuple[str, list[tuple[str, int]]]] = []
    for name, h in sorted(hosts.items()):
        ports: set[tuple[str, int]] = {("tcp", p) for p in MANAGEMENT}
        for rule in h.get("inbound") or []:
            first, last = rule["ports"]
            for p in (first, (first + last) // 2, last, first - 1, last + 1):
                if 0 < p < 65536:
                    ports.add((rule["protocol"], p))
        ports |= {(rng.choice(("tcp", "udp")), rng.randrange(1, 65536)) for _ in range(3)}
        destinations.append((name, sorted(ports)))
    for zone in ("cameras", "clients"):
        for text in (plan.get("zones") or {}).get(zone) or []:
            address = _address_in(ipaddress.ip_network(text, strict=False), rng, taken)
            if address:
                destinations.append((address, [("tcp", 80), ("tcp", 443), ("tcp", 554), ("udp", 554),
                                               ("tcp", rng.randrange(1, 65536))]))
    if public:
        ports = {("tcp", p) for p in MANAGEMENT} | {("udp", rng.randrange(1, 65536))}
        for fwd in plan.get("forwards") or []:
            first, last = fwd["external_ports"]
            ports |= {(fwd["protocol"], p) for p in (first, last, first - 1, last + 1) if 0 < p < 65536}
        for h in hosts.values():
            ports |= {(r["protocol"], r["ports"][0]) for r in h.get("inbound") or []}
        if plan.get("vpn"):
            ports.add(("udp", int(plan["vpn"]["listen_port"])))
        destinations.append((public, sorted(ports)))
    owner = {name: name for name in hosts} | {h["address"]: name for name, h in hosts.items() if h.get("address")}
    edge = (plan.get("edge") or {}).get("host")
    if edge in hosts:  # the edge also holds the public address and the VPN's first address
        owner.update({a: edge for a in (public, (plan.get("vpn") or {}).get("edge_address")) if a})
    # A host talking to itself goes over loopback, which no ruleset filters: not worth a probe.
    universe = [(s, d, proto, port) for s in sources for d, ports in destinations for proto, port in ports
                if s != d and (owner.get(s) is None or owner.get(s) != owner.get(d))]
    rng.shuffle(universe)
    return universe[:count]
