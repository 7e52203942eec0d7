"""Router forwards a site lists itself: vms_forwarded_services on a generic NVR's recorder (phase PRODUCT)."""
from __future__ import annotations

from ..catalog import PRODUCTS, load_catalog
from .context import Context
from .ports import external_port
from .spec import did_you_mean


def check_forwarded_services(ctx: Context) -> None:
    """vms_forwarded_services is only for recorders of a product that forwards listed services (a generic NVR
    behind a home router); each entry names one of the host's services, with known keys and one
    external_port. A product with a gateway forwards only the gateway's ports.

    From: seed 002 (port forwarding rules: name, external/internal port, internal IP, protocol); seed 000
    (one gateway, not one forward per device)."""
    catalog = ctx.catalog
    services = catalog.services()
    for host in ctx.site.hosts:
        entries = ctx.site.var(host, "vms_forwarded_services", None)
        if not entries or ctx.reported(host, "vms_forwarded_services"):
            continue
        if catalog.traits["forwarding"] != "listed_services" or "vms_recorders" not in ctx.site.host_groups(host):
            listed = [p for p in PRODUCTS if load_catalog(p).traits["forwarding"] == "listed_services"]
            ctx.err(host, "vms_forwarded_services", entries,
                    f"is only used for recorders of products that forward listed services ({', '.join(listed)})",
                    f"remove it; {catalog.title} forwards its gateway's ports (change them with "
                    "vms_port_overrides)"
                    if catalog.traits["forwarding"] == "gateway" else
                    "remove it, or move it to a host in vms_recorders")
            continue
        custom = {e.get("name") for e in ctx.site.var(host, "vms_custom_services", None) or [] if isinstance(e, dict)}
        for i, entry in enumerate(entries):
            var = f"vms_forwarded_services[{i}]"
            if isinstance(entry, dict):
                unknown = sorted(set(entry) - {"service", "external_port"}, key=str)
                for key in unknown:
                    ctx.err(host, var, key, f"is an unknown key{did_you_mean(str(key), ['service', 'external_port'])}",
                            "use only service and external_port")
                name = entry.get("service")
                if "external_port" in entry:
                    external_port(ctx, host, f"{var}.external_port", entry["external_port"])
            else:
                name = entry
            if not isinstance(name, str) or (name not in services and name not in custom):
                ctx.err(host, var, name, f"names no NVR service{did_you_mean(str(name), list(services))}",
                        f"use one of: {', '.join(services)} (or a vms_custom_services name)")
