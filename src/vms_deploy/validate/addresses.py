"""Host addresses: each host has its own usable IPv4 address; the public address is not a LAN one."""
from __future__ import annotations

from .. import checks
from ..errors import MISSING
from ..model import parse_ipv4
from .context import Context


def usable_addresses(ctx: Context) -> dict[str, list[str]]:
    """address -> hosts, of every host whose address is a usable unicast IPv4 address. Parsed and reported
    once (the first call, by check_host_addresses); later rules read the same table."""
    return ctx.memo("usable_addresses", lambda: _parse_addresses(ctx))


def _parse_addresses(ctx: Context) -> dict[str, list[str]]:
    by_address: dict[str, list[str]] = {}
    for host in ctx.site.hosts:
        variable, value = ctx.site.address_source(host)
        if ctx.reported(host, variable):
            continue
        if value is MISSING:
            ctx.err(host, "vms_address", MISSING, "is not set and the host has no ansible_host (no IP address)",
                    f"set vms_address (or ansible_host) for {host} to its IPv4 address")
            continue
        try:
            addr = parse_ipv4(value)
        except ValueError as exc:
            ctx.err(host, variable, value, str(exc), "set vms_address (or ansible_host) to the host's IPv4 address")
            continue
        problem = checks.host_address_problem(addr)
        if problem:
            ctx.err(host, variable, value, problem, "set vms_address (or ansible_host) to the host's own unicast "
                    "IPv4 address on the site network")
            continue
        by_address.setdefault(str(addr), []).append(host)
    return by_address


def check_host_addresses(ctx: Context) -> None:
    """Every host has an IPv4 address (vms_address, ansible_host or an address as its name) that a host can
    have: not loopback, multicast, link-local, 0.0.0.0, 255.255.255.255 or 240.0.0.0/4.

    From: docs/security.md, Hostile input class 2 (addresses that cannot be hosts)."""
    usable_addresses(ctx)


def check_duplicate_addresses(ctx: Context) -> None:
    """No two hosts share an address: one machine with several roles is one host in several groups.

    From: docs/inventory.md (a host in several groups is all-in-one); docs/security.md, class 2."""
    for addr, hosts in sorted(usable_addresses(ctx).items()):
        if len(hosts) > 1:
            for host in hosts:
                others = ", ".join(h for h in hosts if h != host)
                ctx.err(host, ctx.site.address_source(host)[0], addr,
                        f"is also the address of {others} (two hosts with one address)",
                        "give every host its own address; one machine with several roles is one host in several "
                        "groups")


def check_public_address(ctx: Context) -> None:
    """vms_public_address is a usable IPv4 address and not another host's LAN address (the edge may be
    managed on its own WAN address).

    From: seed 000 (router port forwarding to the gateway from the site's public address); seed 002
    (port forwarding, static IP/DDNS); docs/security.md, class 2."""
    by_address = usable_addresses(ctx)
    for host in ctx.site.hosts:
        value = ctx.site.var(host, "vms_public_address", None)
        if value is None or ctx.reported(host, "vms_public_address"):
            continue
        try:
            public = parse_ipv4(value)
        except ValueError as exc:
            ctx.err(host, "vms_public_address", value, str(exc),
                    "set vms_public_address to the site's public IPv4 address (as the router sees it)")
            continue
        problem = checks.host_address_problem(public)
        lan = [h for h in by_address.get(str(public), []) if h not in ctx.site.members("vms_edge")]
        if not problem and lan:
            problem = f"is the LAN address of {', '.join(lan)}, not the site's public address"
        if problem:
            ctx.err(host, "vms_public_address", value, problem,
                    "set vms_public_address to the address the Internet reaches the router on (its WAN address)")
