"""A host's address against the site's networks: a usable address inside its zone's networks, out of the
camera networks, and a routed public address only for a DMZ host."""
from __future__ import annotations

from .. import checks
from ..model import parse_ipv4
from ..resolve import zone_of
from .context import Context
from .networks import host_networks


def _addressed_hosts(ctx: Context):
    """(host, variable, address, parsed networks) of each host whose address parses (one that does not is
    reported by the address rules); parsed once per host for the rules below."""
    return ctx.memo("addressed_hosts", lambda: list(_with_address(ctx)))


def _with_address(ctx: Context):
    for host in ctx.site.hosts:
        variable, value = ctx.site.address_source(host)
        try:
            addr = parse_ipv4(value)
        except ValueError:
            continue
        yield host, variable, addr, host_networks(ctx, host)


def _zone(ctx: Context, host: str) -> str:
    """resolve.zone_of, once per host for the rules below."""
    table = ctx.table("zones")
    if host not in table:
        table[host] = zone_of(ctx.site, host)
    return table[host]


def check_address_not_network_edge(ctx: Context) -> None:
    """A host's address is not the network or broadcast address of a declared server, DMZ, client, camera or
    management network (/31 and /32 have neither).

    From: docs/security.md, Hostile input class 2 (a host on its network's network or broadcast address)."""
    edges = ctx.identity_memo("network_edges")
    for host, variable, addr, nets in _addressed_hosts(ctx):
        for name in ("vms_server_networks", "vms_dmz_networks", "vms_client_networks", "vms_camera_networks",
                     "vms_management_networks"):
            # checks.edge_of_network, indexed once per distinct list instead of walked per host.
            problem = edges.get(checks.network_edges, nets.get(name) or ()).get(int(addr))
            if problem:
                ctx.err(host, variable, str(addr), f"{problem} ({name})",
                        "give the host a usable address inside the network (not its first or last address)")


def check_host_in_zone_networks(ctx: Context) -> None:
    """A host in zone servers or dmz has its address inside vms_server_networks / vms_dmz_networks when those
    are declared (the edge filters by those networks).

    From: seed 001 (the Mobile Server alone in a DMZ, the other servers behind the inner firewall)."""
    for host, variable, addr, nets in _addressed_hosts(ctx):
        zone = _zone(ctx, host)
        declared = {"servers": nets.get("vms_server_networks"), "dmz": nets.get("vms_dmz_networks")}.get(zone)
        if declared and not any(addr in net for net in declared):
            var = "vms_server_networks" if zone == "servers" else "vms_dmz_networks"
            ctx.err(host, variable, str(addr), f"is in zone {zone} but outside {var} {[str(n) for n in declared]}",
                    f"add the host's network to {var}, correct the address, or set vms_zone for the host")


def check_routed_public(ctx: Context) -> None:
    """vms_routed_public (the Internet routed to the host's own address) only on a DMZ host with a public
    address: every other host is reached from the Internet only through the edge's forwards.

    From: seed 001 (only the Mobile Server reachable from the Internet, in a DMZ)."""
    for host, _variable, addr, _nets in _addressed_hosts(ctx):
        zone = _zone(ctx, host)
        routed = ctx.site.var(host, "vms_routed_public", None)
        if routed and zone != "dmz":
            ctx.err(host, "vms_routed_public", routed, f"is set on a host in zone {zone}; only a DMZ host may have "
                    "its own public address routed to it", "remove vms_routed_public, or put the host in the DMZ "
                    "(vms_zone: dmz)")
        elif routed and addr.is_private:
            ctx.err(host, "vms_routed_public", routed, f"is set but the host's address {addr} is private, so the "
                    "Internet cannot be routed to it", "give the host its public address, or remove "
                    "vms_routed_public and reach it through the edge's forwards")


def check_servers_outside_camera_networks(ctx: Context) -> None:
    """No site host has an address inside a camera network: the camera network holds only cameras.

    From: seed 001 (the camera subnet connected only to the recording server subnet)."""
    index = ctx.identity_memo("network_index")
    for host, variable, addr, nets in _addressed_hosts(ctx):
        cameras = index.get(checks.network_index, nets.get("vms_camera_networks") or ())
        for net in checks.networks_holding(cameras, addr):
            zone = _zone(ctx, host)
            ctx.err(host, variable, str(addr), f"is in the camera network {net} (host in zone {zone})",
                    "keep servers out of the camera network: give the host an address on the server or client "
                    "network, or correct vms_camera_networks")
