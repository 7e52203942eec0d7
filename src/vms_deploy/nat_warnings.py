"""A public address that is not public: the router is behind another NAT (issue 20 item 3). Plan warnings.

A router whose WAN address is private (RFC 1918), carrier-grade NAT (RFC 6598, 100.64.0.0/10) or a
documentation range (RFC 5737) is itself behind a NAT it does not control: the forwards the router sheet lists
(or the VPN endpoint) are not reachable from the Internet until the upstream device forwards them too.
"""
from __future__ import annotations

import ipaddress

from .model import Site
from .plan_warnings import ROUTER, warning

RANGES = (
    ("private", "RFC 1918", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("CGNAT", "RFC 6598, carrier-grade NAT", ("100.64.0.0/10",)),
    ("documentation", "RFC 5737", ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")),
)


def address_kind(value) -> tuple[str, str] | None:
    """(kind, reference) of the non-public range value is in, or None (public, or not an address)."""
    try:
        address = ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        return None
    for kind, reference, networks in RANGES:
        if any(address in ipaddress.IPv4Network(n) for n in networks):
            return kind, reference
    return None


def double_nat_warnings(site: Site) -> list[dict]:
    """One router warning per distinct vms_public_address in a private, CGNAT or documentation range."""
    out = {}
    for host in sorted(site.hosts):
        value = site.var(host, "vms_public_address", None)
        kind = address_kind(value) if value else None
        if kind is None or str(value) in out:
            continue
        out[str(value)] = warning(
            ROUTER, f"vms_public_address {value} is a {kind[0]} address ({kind[1]}), not one the Internet reaches: "
                    "the router is behind another NAT (double NAT, e.g. the ISP's modem or carrier-grade NAT), so "
                    "its forwards and VPN endpoint are not reachable from outside",
            "set vms_public_address to the address the Internet sees; ask the ISP for a public address or bridge "
            "its modem, or forward the same ports on the upstream device too")
    return list(out.values())
