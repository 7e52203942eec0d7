"""Which zone an address or network belongs to: one classifier for the compiler, the evaluator,
the invariants and the report.

The plan's `zones` map names (dmz, servers, clients, cameras, vpn, management) to CIDR lists;
`internet` is every address no other zone holds. The longest prefix containing the source wins; on
a tie the first zone in ZONE_PRIORITY does (a management /24 inside a client /16 is management).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable

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
