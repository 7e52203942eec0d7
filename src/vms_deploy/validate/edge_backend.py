"""The edge backend (vms_edge_backend) against the vms_edge group (phase PRODUCT)."""
from __future__ import annotations

from .context import Context


def check_edge_backend(ctx: Context) -> None:
    """vms_edge_backend fits the vms_edge group: a backend that manages the edge needs its host, the router
    sheet (a router vms-deploy does not manage) cannot stand in for one.

    From: seed 001 (a firewall on both sides of the DMZ: the plan's zone flows need a managed edge);
    seed 002 (a consumer router's forwards, typed by hand)."""
    site = ctx.site
    name = site.site_var("vms_edge_backend")
    if name is None or ctx.reported_on_any_host("vms_edge_backend"):
        return  # unset: the default fits (vms_deploy.edge.default_backend); a bad choice is reported already
    from ..edge import backend as edge_backend

    managed = edge_backend(name).MANAGED_EDGE
    edge = site.members("vms_edge")
    setters = sorted(h for h in site.hosts if "vms_edge_backend" in site.hosts[h])
    holder = "all" if len(setters) == len(site.hosts) else setters[0]
    if managed and not edge:
        ctx.err(holder, "vms_edge_backend", name,
                "needs the site's edge host, but group vms_edge is empty",
                "add the edge host (the Linux router, FortiGate or MikroTik) to group vms_edge, or set "
                "vms_edge_backend: router_sheet "
                "(or remove it: router_sheet is the default without a vms_edge host)")
    elif not managed and edge:
        ctx.err(holder, "vms_edge_backend", name,
                f"is a router vms-deploy does not manage, but {', '.join(edge)} in vms_edge is the site's "
                "managed edge (the plan's zone flows would go unenforced)",
                "set vms_edge_backend: nftables (or remove it: nftables is the default with a vms_edge host), "
                f"or take {', '.join(edge)} out of vms_edge")


def check_nat_reflection(ctx: Context) -> None:
    """vms_nat_reflection needs the Linux nftables edge (the one edge vms-deploy renders hairpin NAT for)
    and a client network (reflection serves the client LAN only, never cameras).

    From: issue 21 item 6 (clients, never cameras); seed 001 (cameras reach only recorders)."""
    site = ctx.site
    if site.site_var("vms_nat_reflection") is not True or ctx.reported_on_any_host("vms_nat_reflection"):
        return
    from ..edge import default_backend
    backend = site.site_var("vms_edge_backend") or default_backend(bool(site.members("vms_edge")))
    setters = sorted(h for h in site.hosts if "vms_nat_reflection" in site.hosts[h])
    holder = "all" if len(setters) == len(site.hosts) else setters[0]
    if backend != "nftables":
        ctx.err(holder, "vms_nat_reflection", True,
                f"needs the Linux nftables edge, but the site's edge backend is {backend}",
                "remove it and use split DNS (the site's public name resolves to the gateway's private address on "
                "the LAN: docs/edge.md), or set up NAT reflection on the router or firewall by hand")
    elif not site.site_var("vms_client_networks"):
        ctx.err(holder, "vms_nat_reflection", True,
                "serves the client LAN only, but vms_client_networks is empty",
                "set vms_client_networks to the operators' networks, or remove vms_nat_reflection")
