"""How the Internet reaches the site: vms_remote_access (phase PRODUCT)."""
from __future__ import annotations

from .context import Context


def remote_access(ctx: Context):
    """The site's vms_remote_access, or None when it was reported (then no rule judges what follows from it)."""
    if ctx.reported_on_any_host("vms_remote_access"):
        return None
    return ctx.site.site_var("vms_remote_access")


def check_gateway_for_port_forward(ctx: Context) -> None:
    """port_forward needs the gateway (Internet Gateway / Mobile Server) the router forwards to, when the
    product has one.

    From: seed 000 (connecting from the Internet through one Internet Gateway); seed 001 (only the Mobile
    Server exposed, in a DMZ)."""
    remote = remote_access(ctx)
    if remote == "port_forward" and ctx.catalog.traits["gateway_host"] != "none" \
            and not ctx.site.members("vms_gateways"):
        ctx.err("all", "vms_remote_access", remote, "needs a gateway, but vms_gateways is empty",
                "add the Internet Gateway / Mobile Server host to vms_gateways, or set vms_remote_access: none")
