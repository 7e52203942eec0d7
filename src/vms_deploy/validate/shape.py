"""The inventory's shape: hosts, groups, and hosts in the site's groups (phase SHAPE).

Each rule runs only when the ones before it passed, and any failure ends the validation: without
hosts in vms-deploy groups there is no site to judge.
"""
from __future__ import annotations

from ..errors import MISSING
from ..model import Site
from .context import Context


def check_hosts_given(ctx: Context) -> None:
    """The inventory has hosts: a mapping of host names to their variables, not empty.

    From: docs/inventory.md (topology is group membership; hosts come from the inventory)."""
    data = ctx.data
    if not isinstance(data, dict) or not isinstance(data.get("hosts"), dict) or not data["hosts"]:
        ctx.err("", "hosts", MISSING, "is empty: the inventory has no hosts",
                "check the inventory path and that its YAML parses (ansible-inventory -i PATH --graph), then "
                "list the site's hosts in the groups vms_app_servers, vms_recorders, ...")


def check_groups_mapping(ctx: Context) -> None:
    """Groups are a mapping of group names to member hosts.

    From: docs/inventory.md (topology is group membership)."""
    data = ctx.data
    if not isinstance(data.get("groups") or {}, dict):
        ctx.err("", "groups", data.get("groups"), "is not a mapping of group names to hosts",
                "pass groups as {group: [hosts]}")


def check_hosts_grouped(ctx: Context) -> None:
    """At least one host is in a vms-deploy group (only those hosts are the site; this rule builds ctx.site).

    From: docs/inventory.md (groups vms_app_servers, vms_recorders, vms_gateways, vms_edge)."""
    ctx.site = Site.from_dict(ctx.data)
    if not ctx.site.hosts:
        ctx.err("", "hosts", sorted(map(str, ctx.data["hosts"])), "are in no vms-deploy group",
                "put the site's hosts in vms_app_servers, vms_recorders, vms_gateways, vms_edge (see "
                "docs/inventory.md)")
