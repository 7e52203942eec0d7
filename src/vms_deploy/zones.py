"""Which zone an address or network belongs to: one classifier for the compiler, the evaluator,
the invariants and the report.

The plan's `zones` map names (dmz, servers, clients, cameras, vpn, management) to CIDR lists;
`internet` is every address no other zone holds. The longest prefix containing the source wins; on
a tie the first zone in ZONE_PRIORITY does (a management /24 inside a client /16 is management).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable

from .model import sorted_cidrs

ANYWHERE = "0.0.0.0/0"
ZONE_PRIORITY = ("vpn", "management", "cameras", "clients", "dmz", "servers")


def _mask(length: int) -> int:
    return (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF


def zone_index(zones: dict) -> Callable[[str], str]:
    """classify(cidr_or_address) -> zone name for one zones dict.

    Zone networks go into one dict keyed by (prefix length, network number), so a source costs one
    lookup per distinct prefix length, not one comparison per zone network (sites list hundreds of
    client networks)."""
    table: dict[tuple[int, int], str] = {}
    for zone in ZONE_PRIORITY:
        for text in zones.get(zone) or []:
            net = ipaddress.ip_network(text, strict=False)
            if net.version == 4:
                table.setdefault((net.prefixlen, int(net.network_address)), zone)
    lengths = sorted({length for length, _ in table}, reverse=True)
    cache: dict[str, str] = {}

    def classify(source: str) -> str:
        zone = cache.get(source)
        if zone is None:
            net = ipaddress.ip_network(source, strict=False)
            if net.version != 4:
                zone = "internet"
            else:
                address, own = int(net.network_address), net.prefixlen
                zone = next((table[(length, address & _mask(length))] for length in lengths
                             if length <= own and (length, address & _mask(length)) in table), "internet")
            cache[source] = zone
        return zone
    return classify


def internal_networks(zones: dict) -> list[ipaddress.IPv4Network]:
    """Every site network (all zones but the internet): the edge's `internal` set."""
    return [ipaddress.ip_network(c, strict=False) for zone, cidrs in sorted(zones.items())
            if zone != "internet" for c in cidrs or []]


def without(cidrs: list[str], excluded: list[str]) -> list[str]:
    """`cidrs` minus every network in `excluded`, as sorted CIDRs (the one minimal CIDR cover of the
    remaining addresses). Interval arithmetic on sorted address ranges: linear in the inputs, so a
    zone minus a thousand host addresses costs a thousand steps, not a million."""
    kept = _ranges(cidrs)
    cuts = _ranges(excluded)
    out: list[tuple[int, int]] = []
    j = 0
    for first, last in kept:
        while j < len(cuts) and cuts[j][1] < first:
            j += 1
        k, start = j, first
        while k < len(cuts) and cuts[k][0] <= last:
            if cuts[k][0] > start:
                out.append((start, cuts[k][0] - 1))
            start = max(start, cuts[k][1] + 1)
            k += 1
        if start <= last:
            out.append((start, last))
    nets = [net for first, last in out for net in ipaddress.summarize_address_range(
        ipaddress.IPv4Address(first), ipaddress.IPv4Address(last))]
    return sorted_cidrs(str(n) for n in nets)


def _ranges(cidrs: list[str]) -> list[tuple[int, int]]:
    """Sorted, merged (first, last) address ranges of IPv4 CIDRs."""
    spans = sorted((int(n.network_address), int(n.broadcast_address))
                   for n in (ipaddress.ip_network(c, strict=False) for c in cidrs))
    merged: list[list[int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [(a, b) for a, b in merged]
