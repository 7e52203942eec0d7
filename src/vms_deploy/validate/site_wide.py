"""Site-wide settings: one value for the whole site, a product, a site name (phase FORM)."""
from __future__ import annotations

from typing import Any

from .. import checks
from ..catalog import PRODUCTS
from ..errors import MISSING, show_value
from .context import Context
from .spec import SITE_VARS


def check_site_consistency(ctx: Context) -> None:
    """A site-wide variable (SITE_VARS) has the same value on every host that carries it: a value set on one
    host would silently be taken, or ignored, for the whole site.

    From: docs/inventory.md (site-wide variables belong in group_vars/all); issue 23, class 3."""
    for name in SITE_VARS:
        by_object: dict[Any, tuple[Any, list[str]]] = {}  # repr() each distinct value once
        for host, hvars in ctx.site.hosts.items():
            if name in hvars and not ctx.reported(host, name):
                value = hvars[name]
                key = ctx.content_key(value) or ("object", id(value))
                by_object.setdefault(key, (value, []))[1].append(host)
        values: dict[str, list[str]] = {}
        shown: dict[str, str] = {}
        for value, hosts in by_object.values():
            values.setdefault(repr(value), []).extend(hosts)
            # a list holding a secret (a VPN peer's key) is never quoted (issue 23, class 7)
            shown.setdefault(repr(value), show_value(value, name))
        if len(values) > 1:
            detail = "; ".join(f"{', '.join(sorted(h))}: {shown[v]}" for v, h in sorted(values.items()))
            for host in sorted(h for hs in values.values() for h in hs):
                ctx.err(host, name, ctx.site.hosts[host][name],
                        f"differs between hosts ({detail}); it is site-wide",
                        f"set {name} once, in group_vars/all/main.yml (or group_vars/all.yml), and remove it from "
                        "host and group variables")


# Reported as missing by their own rules (check_product_set, check_site_name).
REQUIRED_SITE_VARS = ("vms_product", "vms_site")
MAX_HOSTS_SHOWN = 5


def check_site_vars_on_every_host(ctx: Context) -> None:
    """A site-wide variable (SITE_VARS) is carried by every host or by none: one set on some hosts only (in
    host_vars or a group's variables) would silently be taken for the whole site (the first host carrying it
    wins) or ignored.

    From: docs/inventory.md (site-wide variables belong in group_vars/all); issue 23, class 3."""
    every = len(ctx.site.hosts)
    for name in SITE_VARS:
        if name in REQUIRED_SITE_VARS or ctx.reported_on_any_host(name):
            continue
        carriers = [h for h, hvars in ctx.site.hosts.items() if name in hvars]
        if not carriers or len(carriers) == every:
            continue
        missing = sorted(set(ctx.site.hosts) - set(carriers))
        shown = ", ".join(missing[:MAX_HOSTS_SHOWN]) + (", ..." if len(missing) > MAX_HOSTS_SHOWN else "")
        for host in sorted(carriers):
            ctx.err(host, name, ctx.site.hosts[host][name],
                    f"is set on {len(carriers)} of {every} hosts only (not on {shown}); it is site-wide and would "
                    "be taken for the whole site, or ignored",
                    f"set {name} once, in group_vars/all/main.yml (or group_vars/all.yml), and remove it from "
                    "host and group variables")


# Groups whose hosts the edge zone may hold: the edge itself (docs/inventory.md, vms_zone).
EDGE_GROUPS = ("vms_edge",)
RECORDER_GROUPS = ("vms_recorders", "vms_failover_recorders")


def check_edge_zone_only_edge(ctx: Context) -> None:
    """vms_zone: edge is only for a host of vms_edge: the edge zone is the router's, between the Internet and the
    site, and a server (a recorder above all) put there by an override is judged and filtered as the router.

    From: docs/inventory.md (vms_zone: default edge for vms_edge hosts); seed 001 (the recording servers sit on
    the server network, and the cameras talk only to them)."""
    for host in ctx.site.hosts:
        if ctx.site.var(host, "vms_zone", None) != "edge" or ctx.reported(host, "vms_zone"):
            continue
        groups = set(ctx.site.host_groups(host))
        if groups & set(EDGE_GROUPS):
            continue
        what = ("a recorder (" + ", ".join(sorted(groups & set(RECORDER_GROUPS))) + ")"
                if groups & set(RECORDER_GROUPS) else "not in vms_edge")
        ctx.err(host, "vms_zone", "edge", f"puts {host} in the edge zone, but it is {what}",
                "remove vms_zone (servers is the default), or use vms_zone: servers or dmz; only the edge host "
                "(vms_edge) is in zone edge")


def check_product_set(ctx: Context) -> None:
    """Every host has vms_product (the product's catalog decides ports, groups and traits).

    From: docs/inventory.md (vms_product: valerus, xprotect or generic_nvr, the products of seeds 000-002)."""
    for host in ctx.site.hosts:
        if ctx.site.hosts[host].get("vms_product") is None:
            ctx.err(host, "vms_product", MISSING, "is not set",
                    f"set vms_product to one of {', '.join(PRODUCTS)} in group_vars/all/main.yml (or "
                    "group_vars/all.yml)")


def valid_product(ctx: Context) -> str | None:
    """The site's product when every host names the same known one and nothing reported it, else None
    (then the rules of phase PRODUCT, which read its catalog, do not run)."""
    site = ctx.site
    if any(site.hosts[h].get("vms_product") is None for h in site.hosts) or ctx.reported_on_any_host("vms_product"):
        return None
    product = site.product()
    return product if product in PRODUCTS else None


def check_site_name(ctx: Context) -> None:
    """vms_site is set and a safe name: it names directories (build/plan/SITE) and the site lock.

    From: docs/security.md, Hostile input class 4 (names are data)."""
    for host, hvars in ctx.site.hosts.items():
        if ctx.reported(host, "vms_site"):
            continue
        value = hvars.get("vms_site", MISSING)
        if value is MISSING or value is None:
            ctx.err(host, "vms_site", MISSING, "is not set",
                    "set vms_site (the site's short name, e.g. vms_site: hq) in group_vars/all/main.yml (or "
                    "group_vars/all.yml)")
        elif checks.safe_name_problem(value):
            ctx.err(host, "vms_site", value, "is not a valid site name (it names a directory)",
                    f"use {checks.SAFE_NAME_RULE} (e.g. hq-01); a YAML block scalar (|) adds a newline: "
                    "write vms_site: hq-01 on one line")
