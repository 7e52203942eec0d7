"""The camera list and the camera audit's variables (vms_deploy.cameras; docs/cameras.md)."""
from __future__ import annotations

from .. import checks
from ..cameras.checks import version_key
from ..cameras.inventory import CAMERA_KEYS, MAX_CLOCK_TOLERANCE
from ..model import parse_cidr, parse_ipv4
from .context import Context
from .spec import did_you_mean

SECRET_KEYS = ("password", "pass", "passwd", "secret")


def _entries(ctx: Context):
    """(index, entry) of each vms_cameras dict, once its type was judged fine (check_list_items reports others)."""
    if ctx.reported_on_any_host("vms_cameras"):
        return []
    value = ctx.site.site_var("vms_cameras")
    return [(i, e) for i, e in enumerate(value or []) if isinstance(e, dict)] if isinstance(value, list) else []


def _camera_networks(ctx: Context) -> list:
    nets = []
    for text in ctx.site.site_var("vms_camera_networks") or []:
        try:
            nets.append(parse_cidr(text))
        except ValueError:
            continue  # reported by networks.check_network_entries
    return nets


def check_camera_keys(ctx: Context) -> None:
    """A vms_cameras entry has only the keys address, name, model, username, onvif_port; a password is never
    one of them (the recorders' camera password is vms_camera_password, in Ansible Vault).

    From: docs/security.md, Hostile input class 5 (unknown keys in every list-of-dict variable); seed 002
    (strong, unique passwords: kept as secrets)."""
    for i, entry in _entries(ctx):
        for key in sorted(set(entry) - set(CAMERA_KEYS), key=str):
            if str(key).lower() in SECRET_KEYS:
                ctx.err("all", f"vms_cameras[{i}]", key, "holds a password in the camera list",
                        "remove it and set vms_camera_password in Ansible Vault (ansible-vault encrypt_string)")
            else:
                ctx.err("all", f"vms_cameras[{i}]", key, f"is an unknown key{did_you_mean(str(key), CAMERA_KEYS)}",
                        f"use only: {', '.join(CAMERA_KEYS)}")


def check_camera_addresses(ctx: Context) -> None:
    """Every named camera has its own usable IPv4 address inside a camera network (vms_camera_networks).

    From: seed 001 ("connect the camera subnet to the recording server subnet only"; device whitelisting)."""
    nets = _camera_networks(ctx)
    seen: dict[str, int] = {}
    for i, entry in _entries(ctx):
        var = f"vms_cameras[{i}].address"
        value = entry.get("address")
        try:
            addr = parse_ipv4(value)
        except ValueError:
            ctx.err("all", var, value, "is not an IPv4 address", "give the camera's address, e.g. 10.20.0.11")
            continue
        inside = [n for n in nets if addr in n]
        if not inside:
            ctx.err("all", var, value, "is outside every camera network",
                    "add the camera's network to vms_camera_networks or correct the address")
        elif any(n.prefixlen < 31 and addr in (n.network_address, n.broadcast_address) for n in inside):
            ctx.err("all", var, value, "is the network or broadcast address of its camera network",
                    "give the camera's own address")
        if str(addr) in seen:
            ctx.err("all", var, value, f"is also vms_cameras[{seen[str(addr)]}]", "name each camera once")
        seen.setdefault(str(addr), i)


def check_camera_fields(ctx: Context) -> None:
    """A camera's name and username are safe names (they go into reports and requests), its onvif_port a port.

    From: docs/security.md, Hostile input class 4 (names are data)."""
    names: dict[str, int] = {}
    for i, entry in _entries(ctx):
        for key in ("name", "username"):
            if key in entry and checks.safe_name_problem(entry[key]):
                ctx.err("all", f"vms_cameras[{i}].{key}", entry[key], checks.safe_name_problem(entry[key]),
                        f"use {checks.SAFE_NAME_RULE}")
        if isinstance(entry.get("name"), str) and entry["name"] in names:
            ctx.err("all", f"vms_cameras[{i}].name", entry["name"], f"is also vms_cameras[{names[entry['name']]}]",
                    "give every camera its own name")
        if isinstance(entry.get("name"), str):
            names.setdefault(entry["name"], i)
        if "model" in entry and checks.free_text_problem(entry["model"]):
            ctx.err("all", f"vms_cameras[{i}].model", entry["model"], checks.free_text_problem(entry["model"]),
                    "use plain printable text")
        port = entry.get("onvif_port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
            ctx.err("all", f"vms_cameras[{i}].onvif_port", port, "is not a port (1-65535)",
                    "give the camera's ONVIF port, e.g. 80, or leave it out")


def check_camera_audit_settings(ctx: Context) -> None:
    """vms_camera_firmware_minimums maps model names to versions with a number; vms_camera_clock_tolerance is
    1 to 3600 seconds; named cameras need vms_camera_username (the audit logs in with it).

    From: seed 002 ("keep firmware updated"); docs/cameras.md."""
    table = ctx.site.site_var("vms_camera_firmware_minimums")
    if isinstance(table, dict) and not ctx.reported_on_any_host("vms_camera_firmware_minimums"):
        for model, version in table.items():
            if not isinstance(model, str) or not isinstance(version, (str, int, float)) or not version_key(version):
                ctx.err("all", "vms_camera_firmware_minimums", f"{model}: {version}",
                        "is not a model name and a version", 'give e.g. {"AXIS P3245-LV": "10.12.0"}')
    tolerance = ctx.site.site_var("vms_camera_clock_tolerance")
    if isinstance(tolerance, int) and not isinstance(tolerance, bool) and not 1 <= tolerance <= MAX_CLOCK_TOLERANCE:
        ctx.err("all", "vms_camera_clock_tolerance", tolerance, f"is not 1 to {MAX_CLOCK_TOLERANCE} seconds",
                "give the seconds a camera clock may be off, e.g. 30")
    needs_user = any(not e.get("username") for _, e in _entries(ctx))
    if needs_user and not ctx.site.site_var("vms_camera_username") and ctx.site.site_var("vms_camera_password"):
        ctx.err("all", "vms_camera_username", None, "is missing while vms_camera_password is set",
                "set vms_camera_username to the recorders' ONVIF account")
