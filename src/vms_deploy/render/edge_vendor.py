"""What the vendor edge backends (fortios, routeros) share: ownership marks, the zone-to-interface
binding, port texts and the forwards' port mapping.

A vendor device is the customer's: vms-deploy owns only the objects it marks (a comment that starts
with `vms-deploy SITE: `, a site name holds no space or colon, so one site's mark is never another's
prefix) and removes only those. Its rules are bound to the device's interfaces (vms_edge_interfaces):
a packet counts as from a zone only when it enters on that zone's interface, so a forged source
never gets another zone's rights.
"""
from __future__ import annotations

import hashlib
import re

import yaml

from ..edge.model import EdgeModel, Forward
from .nft_common import RenderError, set_name

# The site zones a vendor edge binds, in a fixed order (the Internet first). vpn is the Linux edge's
# WireGuard (refused here); edge is the device itself.
BOUND_ZONES = ("internet", "servers", "clients", "cameras", "dmz", "management")
MAX_EXPANDED_PORTS = 1024  # as the nftables edge: a shifted range becomes one translation per port
_CONTROL = re.compile(r"[\x00-\x1f\x7f\"'\\`]")


def owner(site: str) -> str:
    """The mark every owned object's comment starts with."""
    return f"vms-deploy {site}: "


def comment(site: str, text: str, limit: int = 255) -> str:
    """An owned object's comment: the owner mark, then one line of text (no quotes, no control characters)."""
    return (owner(site) + _CONTROL.sub(" ", str(text)))[:limit]


def fit(name: str, limit: int) -> str:
    """`name` if it fits the device's limit, else its head and a short digest of the whole (stable, unique)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]
    return f"{name[:limit - 7]}-{digest}"


def site_token(site: str, limit: int = 16) -> str:
    """The site's name in object names (short enough for a FortiGate policy name of 35 characters)."""
    return fit(site, limit)


def ports_text(pair, sep: str = "-") -> str:
    first, last = pair
    return str(first) if first == last else f"{first}{sep}{last}"


def zones_with_networks(model: EdgeModel) -> list[str]:
    """The bound zones the site has networks in (the internet always)."""
    out = ["internet"]
    names = {s.name: s for s in model.sets}
    for zone in BOUND_ZONES[1:]:
        entry = names.get(set_name("zone", zone))
        if entry is not None and entry.cidrs:
            out.append(zone)
    return out


def _zone_order(zone: str) -> tuple:
    return (BOUND_ZONES.index(zone) if zone in BOUND_ZONES else len(BOUND_ZONES), zone)


def interfaces(model: EdgeModel, backend: str) -> dict[str, str]:
    """site zone -> device interface for every zone the site uses; a RenderError naming the variable when
    one is missing (the validator says the same before anything is compiled)."""
    given = dict(model.interfaces)
    if model.vpn is not None or model.remote_access == "vpn":
        raise RenderError(
            f"site {model.site!r}: vms_remote_access vpn runs WireGuard on the Linux edge, which the {backend} "
            "backend does not manage; set vms_remote_access: port_forward or none and use the device's own VPN, "
            "or use vms_edge_backend: nftables")
    needed = zones_with_networks(model)
    for zone in sorted({z for f in model.flows for z in (f.from_zone, f.to_zone)}
                       | {f.to_zone or "servers" for f in model.forwards}, key=_zone_order):
        if zone not in needed:
            needed.append(zone)  # a zone a rule names: bound too (the model's flows never name an empty zone)
    missing = [z for z in needed if not given.get(z)]
    if missing:
        example = ", ".join(f"{z}: {given.get(z) or 'PORT'}" for z in needed)
        raise RenderError(
            f"site {model.site!r}: the {backend} edge needs the device interface of zone(s) {', '.join(missing)}; "
            f"set vms_edge_interfaces on the vms_edge host, e.g. {{{example}}}")
    shared = sorted(z for z in needed[1:] if given[z] == given["internet"])
    if shared:
        raise RenderError(
            f"site {model.site!r}: vms_edge_interfaces gives zone(s) {', '.join(shared)} the Internet's interface "
            f"{given['internet']!r}; a site zone needs an interface of its own (the rules tell the Internet from the "
            "site by the interface a packet enters on)")
    return {z: given[z] for z in needed}


def port_pairs(fwd: Forward) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(external ports, internal ports) translations of one forward, each keeping the port offset: the
    same range on both sides is one translation, a shifted range one per port (as the nftables edge)."""
    ext, dst = tuple(fwd.external_ports), tuple(fwd.to_ports)
    if ext == dst or (ext[0] == ext[1] and dst[0] == dst[1]):
        return [(ext, dst)]
    width = ext[1] - ext[0]
    if width != dst[1] - dst[0] or width + 1 > MAX_EXPANDED_PORTS:
        raise RenderError(
            f"forward {fwd.name!r}: external ports {list(ext)} cannot be mapped onto internal ports {list(dst)}; "
            f"use the same range on both sides or ranges of equal length up to {MAX_EXPANDED_PORTS} ports")
    return [((ext[0] + i, ext[0] + i), (dst[0] + i, dst[0] + i)) for i in range(width + 1)]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:  # the same list in two calls is written out twice, never as *id001
        return True

    def increase_indent(self, flow=False, indentless=False):  # lists indented under their key (yamllint)
        return super().increase_indent(flow, False)


def yaml_text(head: str, payload: dict) -> str:
    """The module data as YAML (key order kept, byte-stable), after a comment header."""
    return head + yaml.dump(payload, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=200,
                            explicit_start=True)
