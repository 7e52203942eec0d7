"""Address lists in words, as people think of them; the one function every output calls.

An allow-list of 0.0.0.0/0 minus the camera network 172.28.14.0/24 is 25 CIDRs in plan.json
(0.0.0.0/1, 128.0.0.0/3, ...), exact and what the rulesets load. People read it as "anywhere
except the camera network 172.28.14.0/24". `sources(cidrs, zones)` writes that form whenever it is
shorter, and always describes exactly the same set of addresses (tests/property/test_describe.py
parses the words back and compares with ipaddress):

    WORDS   := "nobody" | LIST [" except " HOLES]
    LIST    := ITEM (", " ITEM)*        ITEM := "anywhere" | CIDR | ADDRESS (a /32 without "/32")
    HOLES   := PART (" and " PART)*     PART := "the " ZONE " network" ["s"] " " LIST | LIST

"LIST except HOLES" is the addresses of LIST that are in no hole; the holes never overlap the
described set, so the words hold exactly `cidrs`. A hole is named after a zone of the plan
(`zones`, plan.json's) only when it is that zone's network, whole (never a single address: the
servers zone of a site without vms_server_networks is its hosts' addresses).
"""
from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

ANYWHERE = "0.0.0.0/0"
# Which zone's networks are tried as holes first, and how a hole of each is named.
HOLE_ZONES = ("cameras", "clients", "servers", "dmz", "management", "vpn")
ZONE_WORDS = {"cameras": "camera", "clients": "client", "servers": "server", "dmz": "DMZ",
              "management": "management", "vpn": "VPN"}

Net = ipaddress.IPv4Network


def _nets(cidrs: Iterable[str]) -> list[Net]:
    return list(ipaddress.collapse_addresses(ipaddress.ip_network(c, strict=False) for c in cidrs))


def _item(net: Net) -> str:
    if net.prefixlen == 0:
        return "anywhere"
    return str(net.network_address) if net.prefixlen == 32 else str(net)


def listed(nets: Iterable[Net]) -> str:
    """The networks as a plain list: "anywhere", CIDRs, single addresses without /32."""
    return ", ".join(_item(n) for n in nets)


def _span(nets: list[Net]) -> Net:
    """The smallest network holding every one of `nets` (sorted)."""
    first = int(nets[0].network_address)
    length = 32 - (first ^ int(nets[-1].broadcast_address)).bit_length()
    return ipaddress.ip_network((first >> (32 - length) << (32 - length), length)) if length else \
        ipaddress.ip_network(ANYWHERE)


def _gaps(span: Net, nets: list[Net], limit: int) -> list[Net] | None:
    """`span` minus the sorted, collapsed `nets`, or None once it takes `limit` networks or more."""
    out: list[Net] = []
    cursor = int(span.network_address)
    for net in [*nets, None]:
        start = int(span.broadcast_address) + 1 if net is None else int(net.network_address)
        if start > cursor:
            out.extend(ipaddress.summarize_address_range(ipaddress.IPv4Address(cursor),
                                                         ipaddress.IPv4Address(start - 1)))
            if len(out) >= limit:
                return None
        if net is not None:
            cursor = int(net.broadcast_address) + 1
    return out


def _disjoint(net: Net, nets: list[Net]) -> bool:
    return not any(net.overlaps(n) for n in nets)


def _zone_holes(nets: list[Net], zones: dict) -> list[tuple[str, Net]]:
    """Whole zone networks that, left out of a wider base, describe `nets` in fewer words (greedy)."""
    holes: list[tuple[str, Net]] = []
    base = nets
    for zone in HOLE_ZONES:
        for text in zones.get(zone) or []:
            hole = ipaddress.ip_network(text, strict=False)
            if hole.version != 4 or not _disjoint(hole, nets) or any(hole.overlaps(h) for _, h in holes):
                continue
            wider = list(ipaddress.collapse_addresses([*base, hole]))
            if len(wider) + len(holes) + 1 < len(base) + len(holes):
                holes.append((zone if hole.prefixlen < 32 else None, hole))
                base = wider
    return holes


def _hole_words(holes: list[tuple[str | None, Net]]) -> str:
    parts, named = [], {}
    for zone, net in holes:
        named.setdefault(zone, []).append(net)
    for zone in [*HOLE_ZONES, None]:
        if zone not in named:
            continue
        nets = sorted(named[zone])
        if zone is None:
            parts.append(listed(nets))
        else:
            parts.append(f"the {ZONE_WORDS[zone]} network{'s' if len(nets) > 1 else ''} {listed(nets)}")
    return " and ".join(parts)


def sources(cidrs: Iterable[str], zones: dict | None = None) -> str:
    """Exact words for a list of IPv4 CIDRs: "nobody", a plain list, or "BASE except HOLES" when
    that is shorter; `zones` (plan.json's) names holes that are a zone's whole network. A list that
    is not IPv4 CIDRs (a hand-edited plan) is shown as written."""
    key = tuple(cidrs)
    zone_key = tuple(sorted((z, tuple(v or ())) for z, v in (zones or {}).items() if z in HOLE_ZONES))
    try:
        return _sources(key, zone_key)
    except (TypeError, ValueError):
        return ", ".join("anywhere" if c == ANYWHERE else str(c).removesuffix("/32") for c in key) or "nobody"


@functools.lru_cache(maxsize=4096)
def _sources(cidrs: tuple[str, ...], zone_key: tuple) -> str:
    # Memoised: every recorder's rules carry the same source lists, and the report, diff and port
    # matrix describe each of them many times.
    nets = _nets(cidrs)
    if not nets:
        return "nobody"
    # The list as written (hosts stay single addresses: 10.0.0.20, 10.0.0.21, never 10.0.0.20/31).
    written = list(dict.fromkeys(ipaddress.ip_network(c, strict=False) for c in cidrs))
    best, cost = listed(written), len(written)
    # A base and a hole are two items: worth it only at half the list or less. Hosts stay hosts:
    # people read a list of addresses as those machines, never as a range with holes.
    if cost < 4 or all(n.prefixlen == 32 for n in written):
        return best
    cost = cost // 2 + 1
    zones = dict(zone_key)
    candidates: list[tuple[list[Net], list[tuple[str | None, Net]]]] = []
    holes = _zone_holes(nets, zones)
    if holes:
        candidates.append((list(ipaddress.collapse_addresses([*nets, *(h for _, h in holes)])), holes))
    span = _span(nets)
    gaps = _gaps(span, nets, cost - 1)
    if gaps:
        candidates.append(([span], [(_zone_named(gap, zones), gap) for gap in gaps]))
    for base, found in candidates:
        if len(base) + len(found) < cost:
            cost = len(base) + len(found)
            best = f"{listed(base)} except {_hole_words(found)}"
    return best


def _zone_named(net: Net, zones: dict | None) -> str | None:
    """The zone whose whole network `net` is, if any (a single address is a host, not a network)."""
    if net.prefixlen == 32:
        return None
    for zone in HOLE_ZONES:
        if any(ipaddress.ip_network(t, strict=False) == net for t in (zones or {}).get(zone) or []):
            return zone
    return None


def addresses(cidrs: Iterable[str]) -> list[str]:
    """The collapsed CIDRs of a list (what `sources` describes), for tests and callers that compare."""
    return [str(n) for n in _nets(cidrs)]
