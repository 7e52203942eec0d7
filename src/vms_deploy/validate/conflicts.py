"""Port conflicts: two services on one port of a host, one router port forwarded twice (phase CLEAN: it
resolves every host's services with resolve.Resolver, which assumes valid ports, overrides and addresses,
and would otherwise crash or report a consequence of an earlier error)."""
from __future__ import annotations

from ..ports import free_management_port, port_range
from ..resolve import Resolver
from .context import Context


def _resolver(ctx: Context) -> Resolver:
    return ctx.memo("resolver", lambda: Resolver(ctx.site))


def check_port_claims(ctx: Context) -> None:
    """No two services of a host, nor a service and the management port, claim one port of one protocol (one
    web server serving two components, IIS, shares it).

    From: seeds 000-002 (each component's ports); docs/security.md, Hostile input class 9 (a management port
    collision names vms_management_port and a free port)."""
    comp = _resolver(ctx)
    for host in ctx.site.hosts:
        claims = []
        for svc in comp.host_services(host):
            if not comp.is_open(svc):
                continue
            ports = comp.instance_ports(host, svc)
            for proto in svc.transports():
                claims.append((proto, ports, svc.component, svc.name, svc.shared))
        management = comp.management_rule(host)
        if management:
            claims.append(("tcp", tuple(management["ports"]), "management", "management", None))
        for i, a in enumerate(claims):
            for b in claims[i + 1:]:
                if a[0] != b[0] or a[1][1] < b[1][0] or b[1][1] < a[1][0]:
                    continue
                if a[4] and a[4] == b[4]:
                    continue  # one web server (IIS) serving both components
                if "management" in (a[2], b[2]):
                    other = b if a[2] == "management" else a
                    fix = (f"set vms_management_port for {host} to a free port (e.g. vms_management_port: "
                           f"{free_management_port(c[1] for c in claims)}), or move {other[3]} with "
                           f"vms_port_overrides ({{{other[3]}: {{port: N}}}})")
                else:
                    fix = (f"move one of them with vms_port_overrides (e.g. {{{b[3]}: {{port: N}}}}) "
                           "or disable it with {enabled: false}")
                ctx.err(host, "ports", f"{a[0]} {port_range(a[1])} / {port_range(b[1])}",
                        f"is claimed by two services: {a[2]}.{a[3]} and {b[2]}.{b[3]}", fix)


def check_forward_collisions(ctx: Context) -> None:
    """Every router forward ends at or below port 65535, and no external port is forwarded twice.

    From: seed 002 (port forwarding rules: one external port to one internal IP and port); seed 000 (router
    port forwarding to the gateway)."""
    comp = _resolver(ctx)
    seen: dict[tuple, str] = {}
    for (host, name), ext in sorted(comp.forwarded().items()):
        svc = next(s for s in comp.host_services(host) if s.name == name)
        first, last = comp.instance_ports(host, svc)
        for proto in svc.transports():
            for number in range(ext, ext + last - first + 1):
                if not 1 <= number <= 65535:
                    ctx.err(host, "external_port", ext, f"makes forward {name} end past 65535",
                            "choose a lower external_port")
                    break
                key = (proto, number)
                if key in seen and seen[key] != f"{host}.{name}":
                    ctx.err(host, "external_port", number,
                            f"is forwarded twice on the router ({proto}): {seen[key]} and {host}.{name}",
                            "give each forward its own external_port (vms_port_overrides or "
                            "vms_forwarded_services)")
                    break
                seen[key] = f"{host}.{name}"
