"""The public address the router forwards from (issue 20 item 3; phase PRODUCT).

With port forwarding through a gateway the router sheet names the site's public address; without one the
sheet said "no port is forwarded" after a mere warning. The template's placeholder is a real-looking CGNAT
address, so a site planned without editing it would produce a router sheet for an address nobody owns.
"""
from __future__ import annotations

from .context import Context
from .remote_access import remote_access

# The public address `vms-deploy new-site` writes (templates/newsite_*.yml.j2): to be replaced by the site's own.
PLACEHOLDER_PUBLIC_ADDRESS = "100.64.0.10"


def _public_address(ctx: Context):
    for host in ctx.site.members("vms_edge"):
        if ctx.site.var(host, "vms_public_address", None):
            return ctx.site.var(host, "vms_public_address")
    return ctx.site.site_var("vms_public_address")


def check_forward_public_address(ctx: Context) -> None:
    """port_forward with a gateway needs vms_public_address: the address the Internet reaches the router on,
    which the router sheet and the remote clients use.

    From: seed 000 (router port forwarding to the Internet Gateway from the site's public address); seed 002
    (port forwarding with a static IP or DDNS)."""
    if remote_access(ctx) != "port_forward" or ctx.catalog.traits["gateway_host"] == "none" \
            or not ctx.site.members("vms_gateways") or ctx.reported_on_any_host("vms_public_address"):
        return
    if _public_address(ctx) in (None, ""):
        edge = ctx.site.members("vms_edge")
        where = f"on the edge host {edge[0]}" if edge else "in group_vars/all/main.yml"
        ctx.err("all", "vms_public_address", "(unset)",
                "is not set, but vms_remote_access is port_forward through a gateway: the router sheet cannot name "
                "the address its forwards are reached on",
                f"set vms_public_address {where} to the router's WAN address (static IP; with a DDNS name also "
                "vms_public_name), or set vms_remote_access: vpn or none")


def check_placeholder_public_address(ctx: Context) -> None:
    """vms_public_address is not the placeholder `vms-deploy new-site` writes.

    From: docs/inventory.md, "Public address" (the new-site placeholder is replaced by the router's WAN address)."""
    for host in sorted(ctx.site.hosts):
        value = ctx.site.var(host, "vms_public_address", None)
        if value == PLACEHOLDER_PUBLIC_ADDRESS and not ctx.reported(host, "vms_public_address"):
            ctx.err(host, "vms_public_address", value,
                    "is the placeholder that vms-deploy new-site writes, not the site's public address",
                    "replace it with the router's WAN address as the Internet sees it")
