"""A vendor edge's wiring (vms_edge_interfaces, vms_edge_policy_id_base) for the fortios and routeros
backends (phase PRODUCT, after edge_backend). The renderers (vms_deploy.render.fortios / routeros) refuse
the same cases; these rules say so before anything is compiled, naming the host and the fix."""
from __future__ import annotations

import ipaddress

from .. import checks
from ..errors import MISSING
from ..render.edge_vendor import BOUND_ZONES
from ..render.fortios import POLICY_BLOCK, POLICY_ID_MAX
from ..resolve import platform_of, zone_of
from .context import Context

VENDOR_BACKENDS = {"fortios": "FortiGate", "routeros": "MikroTik"}
EXAMPLE_PORTS = {"fortios": "port", "routeros": "ether"}
# Zone networks declared site-wide (the servers and DMZ zones also hold their hosts' addresses).
ZONE_VARIABLES = (("vms_server_networks", "servers"), ("vms_dmz_networks", "dmz"), ("vms_client_networks", "clients"),
                  ("vms_camera_networks", "cameras"), ("vms_management_networks", "management"))


def _vendor(ctx: Context) -> str | None:
    """The site's vendor backend, when it is one (a bad choice is reported by the variables rules)."""
    if ctx.reported_on_any_host("vms_edge_backend"):
        return None
    name = ctx.site.site_var("vms_edge_backend")
    return name if name in VENDOR_BACKENDS else None


def _zones_in_use(ctx: Context) -> list[str]:
    """internet and every zone the site has networks in, in the renderers' order; a Windows controller address
    outside every declared network is the management zone too (compiler.management_zone)."""
    site = ctx.site
    zones = {"internet"} | {zone_of(site, h) for h in site.hosts} - {"edge"}
    zones |= {zone for variable, zone in ZONE_VARIABLES if site.site_var(variable)}
    if "management" not in zones and _controller_outside_networks(ctx):
        zones.add("management")
    return [z for z in BOUND_ZONES if z in zones]


def _controller_outside_networks(ctx: Context) -> bool:
    site = ctx.site
    nets = []
    for variable, _zone in ZONE_VARIABLES:
        for value in site.site_var(variable) or ():
            try:
                nets.append(ipaddress.ip_network(str(value), strict=False))
            except ValueError:
                continue  # reported by the networks rules
    for host in site.hosts:
        value = site.hosts[host].get("vms_win_controller_address") or site.site_var("vms_win_controller_address")
        if not isinstance(value, str) or platform_of(site, host, site.site_var("vms_product")) != "windows":
            continue
        try:
            address = ipaddress.ip_network(value, strict=False)
        except ValueError:
            continue  # reported by windows_inputs
        if address.version == 4 and not any(address.subnet_of(n) for n in nets if n.version == 4):
            return True
    return False


def _example(backend: str, zones: list[str]) -> str:
    return "{" + ", ".join(f"{z}: {EXAMPLE_PORTS[backend]}{i}" for i, z in enumerate(zones, start=1)) + "}"


def check_edge_device_settings_read(ctx: Context) -> None:
    """vms_edge_interfaces and vms_edge_policy_id_base are set only on the vms_edge host of a site whose edge is a
    FortiGate (both) or a MikroTik (interfaces): anywhere else nothing reads them.

    From: docs/edge.md (the device's wiring comes from the inventory)."""
    site = ctx.site
    backend = site.site_var("vms_edge_backend") if not ctx.reported_on_any_host("vms_edge_backend") else None
    edge = set(site.members("vms_edge"))
    readers = {"vms_edge_interfaces": ("fortios", "routeros"), "vms_edge_policy_id_base": ("fortios",)}
    for host in site.hosts:
        for variable, backends in readers.items():
            if variable not in site.hosts[host] or ctx.reported(host, variable):
                continue
            value = site.hosts[host][variable]
            if host not in edge:
                ctx.err(host, variable, value, "is set on a host that is not the site's edge (group vms_edge)",
                        f"set {variable} on the vms_edge host only, or remove it here")
            elif backend not in backends:
                ctx.err(host, variable, value,
                        f"is read only by vms_edge_backend {' or '.join(backends)}, but the site's is "
                        f"{backend or 'the default'}",
                        f"set vms_edge_backend: {backends[0]}, or remove {variable}")


def check_edge_interfaces(ctx: Context) -> None:
    """A FortiGate or MikroTik edge names its interface for the Internet and for every zone the site has
    networks in (vms_edge_interfaces on the vms_edge host), each a valid name, no zone on the Internet's.

    From: docs/edge.md (the site's rules are bound to the device's interfaces: a forged source never gets
    another zone's rights)."""
    backend = _vendor(ctx)
    edge = ctx.site.members("vms_edge")
    if backend is None or not edge:
        return  # no edge host: edge_backend's rule says so
    host, device = edge[0], VENDOR_BACKENDS[backend]
    zones = _zones_in_use(ctx)
    given = ctx.site.hosts[host].get("vms_edge_interfaces")
    if ctx.reported(host, "vms_edge_interfaces"):
        return
    if not given:
        ctx.err(host, "vms_edge_interfaces", given if given is not None else MISSING,
                f"is required with vms_edge_backend: {backend} (which {device} interface is which site zone)",
                f"set vms_edge_interfaces on {host}, e.g. {_example(backend, zones)}")
        return
    for zone, name in given.items():
        variable = f"vms_edge_interfaces.{zone}"
        if zone not in BOUND_ZONES:
            ctx.err(host, variable, name, f"names {zone!r}, which is not a zone the {device} binds "
                    f"({', '.join(BOUND_ZONES)})", f"remove {zone} or write one of {', '.join(BOUND_ZONES)}")
            continue
        problem = checks.device_interface_problem(name)
        if problem:
            ctx.err(host, variable, name, problem, f"write the {device}'s interface name, e.g. "
                    f"{zone}: {EXAMPLE_PORTS[backend]}{BOUND_ZONES.index(zone) + 1}")
        elif zone != "internet" and name == given.get("internet"):
            ctx.err(host, variable, name, "is the Internet's interface too (the rules tell the Internet from the "
                    "site by the interface a packet enters on)", f"give zone {zone} an interface of its own")
    missing = [z for z in zones if z not in given]
    if missing:
        ctx.err(host, "vms_edge_interfaces", given, f"lacks zone(s) {', '.join(missing)}, which the site has "
                "networks in", "add " + ", ".join(f"{z}: {EXAMPLE_PORTS[backend]}{BOUND_ZONES.index(z) + 1}"
                                                  for z in missing) + " (the device's interface names)")


def check_vendor_edge_remote_access(ctx: Context) -> None:
    """A FortiGate or MikroTik edge offers no WireGuard remote access (vms_remote_access vpn is the Linux
    edge's WireGuard).

    From: docs/edge.md (vms_remote_access vpn with the vendor backends)."""
    backend = _vendor(ctx)
    if backend is None or ctx.reported_on_any_host("vms_remote_access"):
        return
    if ctx.site.site_var("vms_remote_access") == "vpn":
        ctx.err("all", "vms_remote_access", "vpn", f"needs the Linux edge (WireGuard), but vms_edge_backend is "
                f"{backend}", f"set vms_remote_access: port_forward or none and use the {VENDOR_BACKENDS[backend]}'s "
                "own VPN, or set vms_edge_backend: nftables")


def check_edge_policy_id_base(ctx: Context) -> None:
    """vms_edge_policy_id_base leaves room for the site's block of 1000 FortiGate policy ids (1 to 4294967294).

    From: docs/edge.md (the site's policy ids)."""
    for host in ctx.site.members("vms_edge"):
        value = ctx.site.hosts[host].get("vms_edge_policy_id_base")
        if value is None or ctx.reported(host, "vms_edge_policy_id_base"):
            continue
        top = POLICY_ID_MAX - POLICY_BLOCK + 1
        if not 1 <= value <= top:
            ctx.err(host, "vms_edge_policy_id_base", value, f"leaves no room for {POLICY_BLOCK} policy ids",
                    f"use a number from 1 to {top}, e.g. 100000")
