"""Ports and services of each host: the management port, recorder instances, port overrides, custom
services and camera ports (phase PRODUCT: service names come from the product's catalog).

The helpers `port`, `external_port`, `sources` and `entry_fields` judge one field and report it; the
forwards and VPN rules use them too.
"""
from __future__ import annotations

import re

from .. import checks
from ..catalog import CUSTOM_SERVICE_KEYS, OVERRIDE_KEYS, PROTOCOLS, SOURCE_ROLES, port_pair
from ..errors import MISSING
from ..model import parse_cidr
from .context import Context
from .spec import did_you_mean

MAX_INSTANCES = 99
# Keys of one vms_camera_ports entry (a misspelled protocol must not silently become tcp).
CAMERA_PORT_KEYS = ("protocol", "port", "purpose")


# --- helpers: one field, judged and reported --------------------------------------------------------
def port(ctx: Context, host, variable, value, what="port") -> tuple[int, int] | None:
    """A port number or [first, last] range; a quoted number is refused (YAML made it a string)."""
    if isinstance(value, str) and value.strip().isdigit():
        ctx.err(host, variable, value, "is a quoted number (a string), not a port number",
                f"write the number without quotes, e.g. {variable.rsplit('.', 1)[-1]}: {value.strip()}")
        return None
    try:
        return port_pair(value)
    except ValueError as exc:
        ctx.err(host, variable, value, f"{exc}" if what == "port" else f"({what}) {exc}",
                "use a port number 1-65535, or [first, last] with first <= last")
        return None


def external_port(ctx: Context, host, variable, value):
    """The router-side port: one number (a range forward keeps the internal range's length)."""
    if isinstance(value, (list, tuple)):
        first = value[0] if value and isinstance(value[0], int) and not isinstance(value[0], bool) else 8443
        ctx.err(host, variable, value, "is a list; external_port is one number (the first external port of "
                "the forward)", f"write external_port: {first}")
        return None
    return port(ctx, host, variable, value)


def sources(ctx: Context, host, variable, roles) -> None:
    """connects_from: source roles or CIDRs, never the whole Internet (0.0.0.0/0 however spelled)."""
    if not isinstance(roles, list):
        ctx.err(host, variable, roles, "is not a list of sources",
                f"use a list of roles ({', '.join(SOURCE_ROLES)}) or CIDRs")
        return
    nets = []
    for role in roles:
        if isinstance(role, str) and role in SOURCE_ROLES:
            continue
        try:
            net = parse_cidr(role)
        except ValueError:
            ctx.err(host, variable, role,
                    f"is neither a source role nor a CIDR{did_you_mean(str(role), SOURCE_ROLES)}",
                    f"use a role ({', '.join(SOURCE_ROLES)}) or an IPv4 CIDR")
            continue
        if net.prefixlen == 0:
            ctx.err(host, variable, role, "opens the service to the whole Internet",
                    "name the 'internet' role (limited by vms_remote_allowlist) or a narrower CIDR")
        else:
            nets.append(net)
    if checks.covers_everything(nets):
        ctx.err(host, variable, [str(n) for n in nets],
                "opens the service to the whole Internet (0.0.0.0/0) as several networks",
                "name the 'internet' role (limited by vms_remote_allowlist) or the real networks")


def entry_fields(ctx: Context, host, var, entry, allowed) -> None:
    """Fields shared by a vms_port_overrides entry and a vms_custom_services entry."""
    for key in sorted(set(entry) - set(allowed), key=str):
        ctx.err(host, var, key, f"is an unknown key{did_you_mean(str(key), allowed)}",
                f"use only: {', '.join(allowed)}")
    if "port" in entry:
        port(ctx, host, f"{var}.port", entry["port"])
    if "external_port" in entry:
        external_port(ctx, host, f"{var}.external_port", entry["external_port"])
    for key in ("enabled", "forward"):
        if key in entry and not isinstance(entry[key], bool):
            ctx.err(host, f"{var}.{key}", entry[key], "is not true or false", f"use {key}: true or false")
    if "connects_from" in entry:
        sources(ctx, host, f"{var}.connects_from", entry["connects_from"])


# --- rules ------------------------------------------------------------------------------------------
def check_management_port(ctx: Context) -> None:
    """vms_management_port (SSH/WinRM) is a port number.

    From: docs/policy.md (management access, SSH 22 or WinRM HTTPS 5986, or vms_management_port)."""
    for host in ctx.site.hosts:
        value = ctx.site.var(host, "vms_management_port", None)
        if value is not None and not ctx.reported(host, "vms_management_port"):
            port(ctx, host, "vms_management_port", value)


def check_recorder_instances(ctx: Context) -> None:
    """vms_recorder_instances is 1-MAX_INSTANCES (each instance gets its own ports).

    From: seed 001 ("if multiple Recording Server instances are in use, every instance needs its own port")."""
    for host in ctx.site.hosts:
        inst = ctx.site.var(host, "vms_recorder_instances", None)
        if inst is not None and not ctx.reported(host, "vms_recorder_instances") and not 1 <= inst <= MAX_INSTANCES:
            ctx.err(host, "vms_recorder_instances", inst, f"is outside 1-{MAX_INSTANCES}",
                    "set the number of Recording Server instances on the host (usually 1)")


def check_device_count(ctx: Context) -> None:
    """vms_device_count (IP devices on the site) is not negative.

    From: seed 000 (more than 150 IP devices: a separate Application Server)."""
    for host in ctx.site.hosts:
        count = ctx.site.var(host, "vms_device_count", None)
        if count is not None and not ctx.reported(host, "vms_device_count") and count < 0:
            ctx.err(host, "vms_device_count", count, "is negative", "set the number of IP devices (0 or more)")


def check_port_overrides(ctx: Context) -> None:
    """vms_port_overrides names services of the product's catalog, each a mapping of known keys (port,
    external_port, enabled, forward, connects_from) with values of their kind.

    From: docs/policy.md (each port and its seed); docs/security.md, Hostile input class 5 and 7."""
    services = ctx.catalog.services()
    for host in ctx.site.hosts:
        overrides = ctx.site.var(host, "vms_port_overrides", None)
        if not overrides or ctx.reported(host, "vms_port_overrides"):
            continue
        for name, ovr in sorted(overrides.items(), key=lambda kv: str(kv[0])):
            var = f"vms_port_overrides.{name}"
            if name not in services:
                ctx.err(host, "vms_port_overrides", name,
                        f"names no {ctx.catalog.title} service{did_you_mean(str(name), services)}",
                        "use a service name from docs/policy.md, or vms_custom_services for a new service")
                continue
            if not isinstance(ovr, dict):
                ctx.err(host, var, ovr, "is not a mapping", "write e.g. {port: 9080} or {enabled: false}")
                continue
            entry_fields(ctx, host, var, ovr, OVERRIDE_KEYS)


def check_custom_services(ctx: Context) -> None:
    """Each vms_custom_services entry has known keys, a unique lower-case name, a protocol (tcp, udp, tcp+udp),
    a port and a plain description.

    From: docs/security.md, Hostile input class 4 (names and descriptions are data) and 5 (unknown keys)."""
    services = ctx.catalog.services()
    for host in ctx.site.hosts:
        entries = ctx.site.var(host, "vms_custom_services", None)
        if not entries or ctx.reported(host, "vms_custom_services"):
            continue
        names = set()
        for i, entry in enumerate(entries):
            var = f"vms_custom_services[{i}]"
            entry_fields(ctx, host, var, entry, CUSTOM_SERVICE_KEYS)
            name = entry.get("name")
            if "purpose" in entry and checks.free_text_problem(entry["purpose"]):
                ctx.err(host, f"{var}.purpose", entry["purpose"], checks.free_text_problem(entry["purpose"]),
                        f"describe the service in {checks.FREE_TEXT_RULE}")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
                ctx.err(host, f"{var}.name", name, "is missing or not a lower-case identifier",
                        "give each custom service a name such as backup_agent")
            elif name in names or name in services:
                ctx.err(host, f"{var}.name", name, "is already used by another service",
                        "give the custom service a unique name")
            else:
                names.add(name)
            if entry.get("protocol", "tcp") not in PROTOCOLS:
                ctx.err(host, f"{var}.protocol", entry.get("protocol"), "is not tcp, udp or tcp+udp",
                        "set protocol to tcp, udp or tcp+udp")
            if "port" not in entry:
                ctx.err(host, f"{var}.port", MISSING, "is not set", "give port: N or port: [first, last]")


def check_camera_ports(ctx: Context) -> None:
    """Each vms_camera_ports entry has known keys (a misspelled protocol must not silently become tcp), a
    protocol, a port and a plain description.

    From: seed 002 (RTSP 554, media port ranges, ONVIF); docs/security.md, Hostile input class 5."""
    for host in ctx.site.hosts:
        entries = ctx.site.var(host, "vms_camera_ports", None)
        if not entries or ctx.reported(host, "vms_camera_ports"):
            continue
        for i, entry in enumerate(entries):
            var = f"vms_camera_ports[{i}]"
            for key in sorted(set(entry) - set(CAMERA_PORT_KEYS), key=str):
                ctx.err(host, var, key, f"is an unknown key{did_you_mean(str(key), CAMERA_PORT_KEYS)}",
                        f"use only: {', '.join(CAMERA_PORT_KEYS)}")
            if "purpose" in entry and checks.free_text_problem(entry["purpose"]):
                ctx.err(host, f"{var}.purpose", entry["purpose"], checks.free_text_problem(entry["purpose"]),
                        f"describe the port in {checks.FREE_TEXT_RULE}")
            if entry.get("protocol", "tcp") not in PROTOCOLS:
                ctx.err(host, f"{var}.protocol", entry.get("protocol"), "is not tcp, udp or tcp+udp",
                        "set protocol to tcp, udp or tcp+udp")
            if "port" not in entry:
                ctx.err(host, f"{var}.port", MISSING, "is not set", "give port: N or port: [first, last]")
            else:
                port(ctx, host, f"{var}.port", entry["port"])
