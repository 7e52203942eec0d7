"""Networks that are well-formed but contradict each other or the seeds (phase ALWAYS; issue 23, class 1).

Each rule reads the parsed network lists of networks.host_networks (parsed and reported once) and judges each
distinct combination once (the lists are site-wide: every host carries the same objects).
"""
from __future__ import annotations

import ipaddress

from .context import Context
from .networks import MAX_PUBLIC_MANAGEMENT_ADDRESSES, host_networks

# RFC 6598 shared address space: the carrier's, shared with its other customers (the examples use it for
# the site's Internet side), so for who may manage the site it counts as the Internet.
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
# Sources of XProtect components that are not recorders (catalog roles analytics/events/ONVIF clients).
NOT_RECORDER_SOURCES = ("vms_event_source_networks", "vms_analytics_source_networks", "vms_onvif_client_networks",
                        "vms_dlna_device_networks")
SITE_NETWORKS = ("vms_client_networks", "vms_camera_networks", "vms_server_networks", "vms_dmz_networks",
                 "vms_management_networks")


def _overlap(first, second):
    return next(((a, b) for a in first or () for b in second or () if a.overlaps(b)), None)


def check_management_apart_from_dmz(ctx: Context) -> None:
    """Management networks do not overlap the DMZ: the DMZ holds the hosts the Internet reaches, so SSH/WinRM to
    every server would be open from an Internet-facing host.

    From: seed 000 and 001 (the DMZ between two firewalls, only the gateway/mobile server reachable from the
    Internet); docs/security.md, Threat model (management ports only from vms_management_networks)."""
    for host in ctx.site.hosts:
        nets = host_networks(ctx, host)
        hit = _overlap(nets.get("vms_management_networks"), nets.get("vms_dmz_networks"))
        if hit and not ctx.reported(host, "vms_management_networks"):
            ctx.err(host, "vms_management_networks", str(hit[0]),
                    f"overlaps vms_dmz_networks entry {hit[1]}: SSH/WinRM would be open from the DMZ",
                    "list the administrators' own network, apart from the DMZ")


def check_management_shared_space(ctx: Context) -> None:
    """A management network holds at most MAX_PUBLIC_MANAGEMENT_ADDRESSES addresses of the carrier's shared
    space (100.64.0.0/10, carrier-grade NAT): those addresses are the carrier's other customers.

    From: docs/security.md, Hostile input class 3 (management networks holding more than 256 Internet
    addresses); RFC 6598."""
    for host in ctx.site.hosts:
        for net in host_networks(ctx, host).get("vms_management_networks") or ():
            if not net.overlaps(SHARED_ADDRESS_SPACE):
                continue
            count = (net if net.subnet_of(SHARED_ADDRESS_SPACE) else SHARED_ADDRESS_SPACE).num_addresses
            if count > MAX_PUBLIC_MANAGEMENT_ADDRESSES and not ctx.reported(host, "vms_management_networks"):
                ctx.err(host, "vms_management_networks", str(net),
                        f"holds {count} carrier-grade NAT addresses (100.64.0.0/10, shared with the carrier's other "
                        "customers): SSH/WinRM would be open to them",
                        "list the administrators' own addresses (a /24 or smaller of that space at most)")


def check_sources_not_cameras(ctx: Context) -> None:
    """The sources of components that are not recorders (event sources, analytics, ONVIF clients, DLNA devices)
    are not camera networks: a host that is not a recorder would open ports to the cameras.

    From: seed 001 ("the cameras ... need to communicate only with the recording servers")."""
    for host in ctx.site.hosts:
        nets = host_networks(ctx, host)
        for name in NOT_RECORDER_SOURCES:
            hit = _overlap(nets.get(name), nets.get("vms_camera_networks"))
            if hit and not ctx.reported(host, name):
                ctx.err(host, name, str(hit[0]),
                        f"overlaps vms_camera_networks entry {hit[1]}: a server that is not a recorder would accept "
                        "connections from the cameras",
                        f"list the event/analytics/client machines' own network in {name}, apart from the cameras")


def check_public_address_outside_site(ctx: Context) -> None:
    """The edge's public address (vms_public_address) is not inside one of the site's own networks: it is the
    Internet side of the router, so an address of the LAN there forwards the site to itself.

    From: seed 000 and 002 (the router forwards from its public address to the gateway/NVR)."""
    for host in ctx.site.hosts:
        value = ctx.site.hosts[host].get("vms_public_address")
        if not isinstance(value, str) or ctx.reported(host, "vms_public_address"):
            continue
        try:
            address = ipaddress.IPv4Address(value)
        except ValueError:
            continue
        nets = host_networks(ctx, host)
        for name in SITE_NETWORKS:
            if ctx.reported(host, name):
                continue
            inside = next((n for n in nets.get(name) or () if address in n), None)
            if inside is not None:
                ctx.err(host, "vms_public_address", value, f"is inside {name} ({inside}), a network of the site",
                        "set the router's Internet-side (WAN) address, as the ISP gives it")
                break


# A campus's own public range at most; more is part of the Internet, which reaches the site only through the
# gateway's forwards and their allow-list.
MAX_PUBLIC_CLIENT_ADDRESSES = 65536
CLIENT_SOURCES = ("vms_client_networks", *NOT_RECORDER_SOURCES)


def check_clients_not_internet(ctx: Context) -> None:
    """Client networks (and the other sources of servers' ports) hold at most MAX_PUBLIC_CLIENT_ADDRESSES Internet
    addresses: the servers open their client ports to those networks directly, and the Internet may reach only the
    gateway or mobile server (through the forwards and vms_remote_allowlist).

    From: seed 000 and 001 (only the Internet Gateway / Mobile Server is reachable from the Internet)."""
    from .. import checks

    judged: dict[tuple, tuple] = ctx.table("clients_not_internet")
    for host in ctx.site.hosts:
        nets = host_networks(ctx, host)
        for name in CLIENT_SOURCES:
            value = nets.get(name)
            if not value or ctx.reported(host, name):
                continue
            key = (name, id(value))  # the parsed tuple is shared by every host (host_networks): judged once
            if key not in judged or judged[key][0] is not value:
                judged[key] = (value, next(((n, checks.public_addresses(n)) for n in value
                                            if checks.public_addresses(n) > MAX_PUBLIC_CLIENT_ADDRESSES), None))
            hit = judged[key][1]
            if hit:
                ctx.err(host, name, str(hit[0]),
                        f"holds {hit[1]} Internet addresses: the servers would open their ports to that part of the "
                        "Internet, which may reach only the gateway through its forwards",
                        "list the site's own client networks; remote clients come through the gateway "
                        "(vms_remote_allowlist)")
