"""Optional features: only those the product's catalog offers (phase PRODUCT)."""
from __future__ import annotations

from .context import Context
from .spec import did_you_mean


def check_features(ctx: Context) -> None:
    """Each vms_enabled_features entry is a feature of the product's catalog (optional components and services
    the vendor documents, e.g. XProtect's LPR or DLNA servers).

    From: seed 001 (the optional XProtect components and their ports); the product catalogs."""
    names = sorted(ctx.catalog.features)
    for host in ctx.site.hosts:
        for feat in ctx.site.var(host, "vms_enabled_features", None) or []:
            if ctx.reported(host, "vms_enabled_features"):
                break
            if feat not in names:
                ctx.err(host, "vms_enabled_features", feat,
                        f"is not a {ctx.catalog.title} feature{did_you_mean(str(feat), names)}",
                        f"use one of: {', '.join(names) or '(none for this product)'}")
