"""Networks: every network variable is a list of IPv4 CIDRs, no list but the allow-list covers the whole
Internet, however spelled, and the zones the seeds keep apart do not overlap."""
from __future__ import annotations

import functools
import ipaddress

from .. import checks
from ..model import parse_cidr
from .context import Context
from .spec import NETWORK_VARS

# A management network may hold at most this many Internet addresses (an office's public /24).
MAX_PUBLIC_MANAGEMENT_ADDRESSES = 256
# (left, right, why): networks the seeds keep apart. An empty vms_remote_allowlist is valid: the forwards then
# admit nobody.
SEPARATE = (("vms_client_networks", "vms_camera_networks", "the camera network must hold only cameras"),
            ("vms_management_networks", "vms_camera_networks", "a camera must never reach SSH/WinRM"),
            ("vms_management_networks", "vms_client_networks",
             "every client would reach SSH/WinRM; administrators get their own network"),
            ("vms_server_networks", "vms_camera_networks", "cameras may reach only the recorders"),
            ("vms_dmz_networks", "vms_server_networks", "the DMZ must be separate from the server zone"),
            ("vms_dmz_networks", "vms_camera_networks", "cameras may reach only the recorders"),
            ("vms_dmz_networks", "vms_client_networks", "the DMZ must be separate from the client network"))


def host_networks(ctx: Context, host: str) -> dict[str, tuple[ipaddress.IPv4Network, ...] | None]:
    """name -> the host's parsed list of each network variable (None when unset or reported). Parsed and
    reported once per host (first by check_network_entries); each distinct list is parsed once per run."""
    table = ctx.table("host_networks")
    if host not in table:
        table[host] = {name: _networks(ctx, host, name) for name in NETWORK_VARS}
    return table[host]


def _networks(ctx: Context, host: str, name: str):
    value = ctx.site.var(host, name, None)
    if value is None or ctx.reported(host, name):
        return None
    # A list of strings is keyed by its items (content_key, once per object: the same group_vars object as
    # another host's costs a lookup); anything else is parsed per object (and reported per host).
    key = ctx.content_key(value)
    if key is None:
        return ctx.identity_memo("networks").get(lambda v: _parsed(ctx, host, name, v), value)
    lists = ctx.table("parsed_lists")
    if key in lists:
        return lists[key]
    return _parsed(ctx, host, name, value)


def _parsed(ctx: Context, host: str, name: str, value):
    # The parsed tuple is one object per distinct list, so the pair checks below key on identity.
    lists = ctx.table("parsed_lists")
    key = ctx.content_key(value)
    nets = []
    for item in value:
        try:
            nets.append(_parse_cidr_cached(item) if isinstance(item, str) else parse_cidr(item))
        except ValueError as exc:
            ctx.err(host, name, item, str(exc),
                    f"write every entry of {name} as an IPv4 CIDR such as 10.20.0.0/24 (a single address is "
                    "x.x.x.x/32)")
            return None
    if key is None:
        return tuple(nets)
    lists[key] = tuple(nets)
    return lists[key]


@functools.lru_cache(maxsize=65536)
def _parse_cidr_cached(text: str):
    """parse_cidr for strings, memoised: every host carries the same site-wide network lists."""
    return parse_cidr(text)


def check_network_entries(ctx: Context) -> None:
    """Every entry of a network variable is an IPv4 CIDR without host bits (a single address is /32).

    From: docs/inventory.md (networks are IPv4 CIDRs); docs/security.md, Hostile input class 7."""
    for host in ctx.site.hosts:
        host_networks(ctx, host)


def check_network_coverage(ctx: Context) -> None:
    """A list whose union is 0.0.0.0/0 without the literal 0.0.0.0/0 entry (0/1 + 128/1, ...) is refused,
    so "the whole Internet" is judged the same however it is spelled.

    From: docs/security.md, Hostile input class 3 (coverage, not spelling)."""
    covering = ctx.identity_memo("covering")
    for host in ctx.site.hosts:
        for name, nets in host_networks(ctx, host).items():
            if not nets or ctx.reported(host, name):
                continue
            # Each distinct list is judged once, not once per host: the answer is kept as (answer,), so a
            # False is kept too. A literal 0.0.0.0/0 is check_whole_internet's (or the allow-list's) case.
            if covering.get(lambda found: (not any(n.prefixlen == 0 for n in found)
                                           and checks.covers_everything(found),), nets)[0]:
                fix = (f"list only the networks that need access, or write {name}: [0.0.0.0/0] to allow everyone "
                       "openly (the plan then warns)" if name == "vms_remote_allowlist"
                       else f"list the real networks in {name}; Internet access goes through vms_remote_allowlist")
                ctx.err(host, name, [str(n) for n in nets],
                        "covers the whole Internet (0.0.0.0/0) as several networks", fix)


def check_whole_internet(ctx: Context) -> None:
    """0.0.0.0/0 is allowed only in vms_remote_allowlist: in the management networks it opens SSH/WinRM to the
    Internet, in any other network variable it makes the whole Internet a site zone.

    From: seed 001 (only the Mobile Server exposed to the Internet, in a DMZ); docs/policy.md (management
    access only from vms_management_networks; 0.0.0.0/0 there is an error)."""
    zero_nets = ctx.identity_memo("zero_nets")
    for host in ctx.site.hosts:
        for name, nets in host_networks(ctx, host).items():
            if name == "vms_remote_allowlist":
                continue
            for net in zero_nets.get(lambda found: [n for n in found if n.prefixlen == 0], nets or ()):
                if name == "vms_management_networks":
                    ctx.err(host, name, str(net), "opens the management port (SSH/WinRM) to the whole Internet",
                            "list only the administrators' networks, e.g. [10.0.99.0/24]")
                else:
                    ctx.err(host, name, str(net), "covers the whole Internet (only vms_remote_allowlist may)",
                            f"list the real networks in {name}; Internet access goes through vms_remote_allowlist")


# A single admin address (/32) may sit inside the client network (docs/inventory.md, "Flat LAN"): the
# management rules then open SSH/WinRM to that one PC, not to every client.
ADMIN_HOST_PAIR = ("vms_management_networks", "vms_client_networks")


def check_separate_networks(ctx: Context) -> None:
    """Networks the seeds keep apart do not overlap (SEPARATE): cameras apart from clients, servers and the
    DMZ; management apart from cameras and clients (one admin address, a /32, may sit inside the client
    network: docs/inventory.md, "Flat LAN"); the DMZ apart from servers and clients.

    From: seed 001 (the camera subnet connected only to the recording server subnet; the Mobile Server in a
    DMZ with firewalls on both sides); docs/security.md, Hostile input class 3."""
    overlaps = ctx.identity_memo("overlaps")
    for host in ctx.site.hosts:
        nets = host_networks(ctx, host)
        for left, right, why in SEPARATE:
            # Site-wide lists are the same on every host: each pair of lists is compared once.
            pairs = overlaps.get(checks.overlapping_pairs, nets.get(left) or (), nets.get(right) or ())
            for a, b in pairs:
                if (left, right) == ADMIN_HOST_PAIR and a.prefixlen == a.max_prefixlen:
                    continue  # one admin PC on the client LAN (a flat LAN): only it reaches SSH/WinRM
                ctx.err(host, left, str(a), f"overlaps {right} entry {b} ({why})",
                        f"make {left} and {right} separate networks, or correct the CIDR")


def check_public_management(ctx: Context) -> None:
    """A management network holds at most MAX_PUBLIC_MANAGEMENT_ADDRESSES Internet addresses (an office's
    public /24): SSH/WinRM is never open to a part of the Internet.

    From: docs/security.md, Hostile input class 3 (management networks holding more than 256 Internet
    addresses)."""
    for host in ctx.site.hosts:
        for net in host_networks(ctx, host).get("vms_management_networks") or ():
            count = checks.public_addresses(net)
            if count > MAX_PUBLIC_MANAGEMENT_ADDRESSES:
                ctx.err(host, "vms_management_networks", str(net),
                        f"holds {count} Internet addresses: SSH/WinRM would be open to that part of the Internet",
                        "list the administrators' own networks only (private ranges, or public addresses as "
                        "a /24 or smaller)")
