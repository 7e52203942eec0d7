"""Ports that are well-formed but land where they must not (issue 23, class 2): a service on a local-only or a
management port, a forward whose sources no longer hold the Internet, one service forwarded twice, the VPN's port
taken by another edge service, two VPN peers with one key.

The rules of phase CLEAN read the resolved services (conflicts' Resolver, shared); the others read the inventory.
"""
from __future__ import annotations

from ..catalog import port_pair
from ..inventory import VAULTED
from ..ports import SSH_PORT, WINRM_PORTS, WIREGUARD_PORT, port_range
from .conflicts import _resolver
from .context import Context
from .remote_access import remote_access
from .vpn import _peers


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return not (a[1] < b[0] or b[1] < a[0])


def _moved_ports(ctx: Context, host: str):
    """(variable, value, ports, transports, service) of every port the inventory places on the host: each custom
    service's port and each override's new port."""
    services = ctx.catalog.services()
    for i, entry in enumerate(ctx.site.var(host, "vms_custom_services", None) or []):
        if isinstance(entry, dict) and "port" in entry:
            proto = entry.get("protocol", "tcp")
            yield (f"vms_custom_services[{i}].port", entry["port"], port_pair(entry["port"]),
                   ("tcp", "udp") if proto == "tcp+udp" else (proto,), str(entry.get("name")))
    for name, ovr in sorted((ctx.site.var(host, "vms_port_overrides", None) or {}).items(), key=lambda kv: str(kv[0])):
        if isinstance(ovr, dict) and "port" in ovr and name in services and ovr.get("enabled") is not False:
            yield (f"vms_port_overrides.{name}.port", ovr["port"], port_pair(ovr["port"]),
                   services[name].transports(), name)


def check_local_only_ports(ctx: Context) -> None:
    """No custom service or moved port lands on a local-only port of the host's own components (a tray icon, an
    internal API, driver events): those ports are never opened, and opening one exposes what the product keeps on
    the host itself. An override of a local-only service itself (port, connects_from) is refused too: it is never
    opened, so the override would silently do nothing.

    From: seed 001 (ports 6473, 8080, 8966, 65101 ... "local connection only"); docs/policy.md (local_only ports
    are never opened)."""
    comp = _resolver(ctx)
    for host in ctx.site.hosts:
        local = [svc for cname in comp.comps.get(host, ()) for svc in
                 (ctx.catalog.components[cname].services.values() if cname in ctx.catalog.components else ())
                 if svc.local_only]
        if not local:
            continue
        for var, value, ports, transports, name in _moved_ports(ctx, host):
            hit = next((s for s in local if s.name != name and set(s.transports()) & set(transports)
                        and _overlaps(s.ports, ports)), None)
            if hit and not ctx.reported(host, var):
                ctx.err(host, var, value,
                        f"is the local-only port of {hit.component}.{hit.name} ({hit.protocol} "
                        f"{port_range(hit.ports)}, local connection only): it must never be opened to the network",
                        f"choose another port for {name} (one no component of {host} uses)")
        overrides = ctx.site.var(host, "vms_port_overrides", None) or {}
        for svc in local:
            ovr = overrides.get(svc.name)
            if isinstance(ovr, dict) and {"port", "connects_from", "external_port", "forward"} & set(ovr):
                ctx.err(host, f"vms_port_overrides.{svc.name}", ovr,
                        "overrides a local-only service (local connection only): it is never opened, so the "
                        "override does nothing", f"remove vms_port_overrides.{svc.name}")


def check_management_ports_kept(ctx: Context) -> None:
    """No custom service or moved port lands on the host's management port nor on the ports of its remote
    management protocol (WinRM 5985/5986 on Windows, SSH 22 on Linux): it would open management to that
    service's sources instead of vms_management_networks only.

    From: docs/security.md, Threat model (management ports only from vms_management_networks); docs/policy.md
    (management access, SSH 22 or WinRM HTTPS 5986, or vms_management_port)."""
    comp = _resolver(ctx)
    for host in ctx.site.hosts:
        if ctx.reported(host, "ports"):
            continue  # check_port_claims named the collision with the management port
        windows = comp.platform(host) == "windows"
        kept = {comp.management_port(host): "the management port (vms_management_port)"}
        for number in (WINRM_PORTS if windows else (SSH_PORT,)):
            kept.setdefault(number, "WinRM (Windows remote management)" if windows else "SSH")
        for var, value, ports, transports, name in _moved_ports(ctx, host):
            if "tcp" not in transports or ctx.reported(host, var):
                continue
            number = next((n for n in sorted(kept) if ports[0] <= n <= ports[1]), None)
            if number is not None:
                ctx.err(host, var, value,
                        f"lands on tcp {number}, {kept[number]} of {host}: {name} would open management to its "
                        "sources", f"choose another port for {name} (not {', '.join(map(str, sorted(kept)))})")


def check_forward_keeps_internet(ctx: Context) -> None:
    """A service the router forwards keeps 'internet' in its sources: an override that drops it leaves the forward
    on the router while the host's firewall refuses what it forwards (or the reverse, once someone 'fixes' it).

    From: seed 000 (router port forwarding to the gateway, reached from the Internet); seed 002 (port forwarding
    rules)."""
    comp = _resolver(ctx)
    for host, name in sorted(comp.forwarded()):
        ovr = (ctx.site.var(host, "vms_port_overrides", None) or {}).get(name)
        var = f"vms_port_overrides.{name}.connects_from"
        if isinstance(ovr, dict) and "connects_from" in ovr and "internet" not in ovr["connects_from"] \
                and not ctx.reported(host, var):
            ctx.err(host, var, ovr["connects_from"],
                    f"drops 'internet' while the router still forwards {name} from the Internet",
                    "keep 'internet' in connects_from (vms_remote_allowlist limits it), or disable the service with "
                    "{enabled: false}, or set vms_remote_access to vpn or none")


def check_forwarded_once(ctx: Context) -> None:
    """vms_forwarded_services names each service once: a second entry (another external port) is silently
    dropped, so the router sheet and the plan disagree with the inventory.

    From: seed 002 (port forwarding rules: one external port to one internal IP and port)."""
    for host in ctx.site.hosts:
        entries = ctx.site.var(host, "vms_forwarded_services", None)
        if not entries or ctx.reported(host, "vms_forwarded_services"):
            continue
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            name = entry.get("service") if isinstance(entry, dict) else entry
            if not isinstance(name, str):
                continue
            if name in seen:
                ctx.err(host, f"vms_forwarded_services[{i}]", entry,
                        f"forwards {name} again (already vms_forwarded_services[{seen[name]}]): one of them would "
                        "be silently dropped", f"list {name} once, with the one external_port the router uses")
            else:
                seen[name] = i


def check_vpn_port_free(ctx: Context) -> None:
    """The VPN's listen port (vms_vpn_listen_port, UDP, default 51820) is not also a UDP port of another service
    of the edge: the router would deliver one to the other.

    From: docs/inventory.md (vms_vpn_listen_port); seed 002 (a VPN instead of direct forwarding)."""
    if remote_access(ctx) != "vpn" or ctx.reported_on_any_host("vms_vpn_listen_port"):
        return
    comp = _resolver(ctx)
    value = ctx.site.site_var("vms_vpn_listen_port")
    number = WIREGUARD_PORT if value is None else port_pair(value)[0]
    for host in ctx.site.members("vms_edge"):
        for svc in comp.host_services(host):
            if comp.is_open(svc) and "udp" in svc.transports() and _overlaps(svc.ports, (number, number)):
                ctx.err(host, "vms_vpn_listen_port", number,
                        f"is also udp {port_range(svc.ports)} of {svc.component}.{svc.name} on the edge {host}",
                        f"set vms_vpn_listen_port to a free UDP port, or move {svc.name}")


def check_vpn_peer_keys_unique(ctx: Context) -> None:
    """Every VPN peer has its own public key: WireGuard routes by key, so two peers with one key are one peer
    (the second's address takes the first's traffic, or one of them never connects).

    From: WireGuard's cryptokey routing (a peer is its public key, wireguard.com/protocol); docs/inventory.md
    (vms_vpn_peers)."""
    seen: dict[str, str] = {}
    for i, peer in _peers(ctx):
        key = peer.get("public_key")
        var = f"vms_vpn_peers[{i}].public_key"
        if not isinstance(key, str) or key == VAULTED or ctx.reported("all", var):
            continue
        if key in seen:
            ctx.err("all", var, key, f"is also the public key of peer {seen[key]}",
                    "give every device its own key pair (remove public_key and let vms-deploy generate one)")
        else:
            seen[key] = str(peer.get("name"))
