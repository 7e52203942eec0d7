"""Pieces shared by the nftables renderers (host and edge).

Everything here is pure: plan dict in, text or data out, byte-stable for golden files.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable

from ..ports import port_range as port_expr  # noqa: F401 - nft writes ranges the same way

TABLE_NAME = "vms_deploy"
TABLE_FAMILY = "inet"

# Drops are logged, but rate limited so a port scan cannot flood the log.
LOG_LIMIT = "limit rate 5/second burst 10 packets"
ICMP_LIMIT = "limit rate 10/second burst 20 packets"

_NAME_BAD = re.compile(r"[^a-z0-9_]+")


class RenderError(ValueError):
    """Raised when a plan cannot be expressed as nftables rules; the message says what to fix."""


def set_name(prefix: str, text: str) -> str:
    """A valid, readable nftables set name (letters, digits, underscore; <= 63 chars)."""
    name = _NAME_BAD.sub("_", f"{prefix}_{text}".lower()).strip("_")
    return name[:63]


def _without_covered(nets) -> list:
    """Drop networks another listed network contains (nftables refuses overlapping intervals);
    adjacent networks stay separate so sets read like the inventory."""
    nets = sorted(set(nets), key=lambda n: (n.version, n.prefixlen, int(n.network_address)))
    kept: list = []
    # A kept network covers `net` when masking net's address to the kept prefix gives the kept
    # network: one lookup per distinct kept prefix length, not one comparison per kept network
    # (the edge of a 1000-recorder site collapses lists of thousands).
    kept_keys: set = set()
    kept_lengths: dict[int, list[int]] = {}
    for net in nets:
        bits, address = net.max_prefixlen, int(net.network_address)
        lengths = kept_lengths.setdefault(net.version, [])
        if any((net.version, length, address >> (bits - length)) in kept_keys for length in lengths):
            continue
        kept.append(net)
        kept_keys.add((net.version, net.prefixlen, address >> (bits - net.prefixlen)))
        if net.prefixlen not in lengths:
            lengths.append(net.prefixlen)  # ascending, since nets are sorted by prefix length
    return sorted(kept, key=lambda n: (n.version, int(n.network_address), n.prefixlen))


@functools.lru_cache(maxsize=65536)
def _network(text: str):
    # Memoised: the edge model collapses the same client networks and host addresses for every flow and set.
    return ipaddress.ip_network(text, strict=False)


def collapse(cidrs: Iterable[str]) -> list[str]:
    return [str(n) for n in _without_covered(_network(c) for c in ipv4_only(cidrs))]


def elements(cidrs: Iterable[str]) -> str:
    """Set elements without overlaps, sorted numerically, host routes written as bare addresses."""
    nets = _without_covered(ipaddress.ip_network(c, strict=False) for c in cidrs)
    out = [str(n.network_address) if n.num_addresses == 1 else str(n) for n in nets]
    return ", ".join(out)


def ipv4_only(cidrs: Iterable[str]) -> list[str]:
    return [c for c in cidrs if _network(c).version == 4]


def render_set(name: str, cidrs: Iterable[str], comment: str | None = None) -> list[str]:
    """An interval set of IPv4 sources; an empty set is valid and matches nothing."""
    cidrs = ipv4_only(cidrs)
    lines = [f"\tset {name} {{", "\t\ttype ipv4_addr", "\t\tflags interval"]
    if comment:
        lines.append(f'\t\tcomment "{quote(comment)}"')
    if cidrs:
        lines.append(f"\t\telements = {{ {elements(cidrs)} }}")
    lines.append("\t}")
    return lines


def quote(text: str) -> str:
    """nftables comments are double-quoted, at most 128 bytes, no double quotes inside, one line
    (a newline or other control character would end the statement and let text become rules)."""
    text = _CONTROL.sub(" ", str(text)).replace('"', "'").replace("\\", "/")
    return text.encode("utf-8")[:120].decode("utf-8", "ignore")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


ZONE_ORDER = ["internet", "dmz", "servers", "clients", "cameras", "vpn", "management"]


class SetNamer:
    """Gives one named set per distinct source list.

    A list equal to a zone's networks is named after the zone (src_clients), 0.0.0.0/0 is
    src_anywhere, a single plan host is host_NAME, anything else is named after the first service using it.
    Deterministic as long as callers visit rules in a stable order (the plan's lists are sorted).
    """

    def __init__(self, prefix: str = "src", zones: dict | None = None, hosts: dict | None = None):
        self.prefix = prefix
        self.by_sources: dict[tuple, str] = {}
        self.sets: list[tuple[str, list[str], str]] = []
        self.zone_of: dict[tuple, str] = {}
        zones = zones or {}
        for zone in sorted(zones, key=lambda z: (ZONE_ORDER.index(z) if z in ZONE_ORDER else 99, z)):
            self.zone_of.setdefault(self._key(zones[zone] or []), zone)
        # A list holding exactly one plan host is named after that host, whichever side it is on.
        self.host_of = {(f"{h['address']}/32",): name for name, h in sorted((hosts or {}).items())
                        if h.get("address")}

    @staticmethod
    def _key(sources: Iterable[str]) -> tuple:
        return tuple(collapse(sources))

    def register(self, name: str, sources: Iterable[str], label: str) -> str:
        """Force a name for a list (the edge's zone sets); later identical lists reuse it."""
        key = self._key(sources)
        self.by_sources.setdefault(key, name)
        self.sets.append((name, list(key), label))
        return name

    def name_for(self, sources: Iterable[str], label: str, prefix: str | None = None,
                 comment: str | None = None) -> str:
        """The set for a list: an existing one with the same content, else a new one (`comment`
        replaces the generic "PREFIX of LABEL" comment of a list that is no zone, host or anywhere)."""
        key = self._key(sources)
        if key in self.by_sources:
            return self.by_sources[key]
        prefix = prefix or self.prefix
        if key == ("0.0.0.0/0",):
            base, comment = set_name(prefix, "anywhere"), "anywhere"
        elif key in self.host_of:
            base, comment = set_name("host", self.host_of[key]), f"host {self.host_of[key]}"
        elif key in self.zone_of:
            base, comment = set_name(prefix, self.zone_of[key]), f"zone {self.zone_of[key]}"
        else:
            base, comment = set_name(prefix, label), comment or f"{prefix} of {label}"
        name, n = base, 2
        used = {s[0] for s in self.sets}
        while name in used:
            name = f"{base}_{n}"
            n += 1
        self.by_sources[key] = name
        self.sets.append((name, list(key), comment))
        return name


def input_chain(plan: dict, host: str, namer: SetNamer, mgmt_set: str) -> list[str]:
    """The input chain both renderers use: default drop, state, management, ICMP, plan services."""
    return input_chain_lines(input_rules(plan, host, namer, mgmt_set))


def input_rules(plan: dict, host: str, namer: SetNamer, mgmt_set: str) -> list[dict]:
    """The input chain's accept rules as data, management first so no later rule can shadow it:
    {"kind": "management" | "service", "sources": set name, "protocol", "ports", "comment"}."""
    h = plan["hosts"][host]
    rules: list[dict] = []
    inbound = h.get("inbound", [])
    # Management comes from the plan's management rules only: the compiler gives every host its
    # management rule (SSH or WinRM from vms_management_networks, vms_management_port); nothing is
    # added here (the module keeps the live SSH connection on top, see plugins/modules/vms_nft_table.py).
    # mgmt_set (the registered set of the management networks) is kept for the callers' sake.
    for rule in merged_inbound([r for r in inbound if r.get("component") == "management"]):
        sname = namer.name_for(rule["sources"], "management")
        rules.append({"kind": "management", "sources": sname, "protocol": rule["protocol"],
                      "ports": list(rule["ports"]), "comment": "management"})
    for rule in service_rules(h):
        sname = namer.name_for(rule["sources"], rule["service"])
        rules.append({"kind": "service", "sources": sname, "protocol": rule["protocol"], "ports": list(rule["ports"]),
                      "comment": f'{rule["component"]}/{rule["service"]}'})
    return rules


def input_chain_lines(rules: Iterable[dict]) -> list[str]:
    """The text of an input chain holding `rules` (input_rules' shape; "sources" None: any source):
    default drop, state, the management rules, rate-limited ICMP echo, the other rules, a logged drop."""
    rules = list(rules)
    lines = [
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        '\t\tiif "lo" accept',
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
    ]

    def accept(rule: dict) -> str:
        match = f'ip saddr @{rule["sources"]} ' if rule.get("sources") else ""
        return (f'\t\t{match}{rule["protocol"]} dport {port_expr(rule["ports"])} '
                f'accept comment "{quote(rule["comment"])}"')

    lines += [accept(r) for r in rules if r["kind"] == "management"]
    lines.append(f'\t\ticmp type echo-request {ICMP_LIMIT} accept comment "diagnostics"')
    lines += [accept(r) for r in rules if r["kind"] != "management"]
    lines.append(f'\t\t{LOG_LIMIT} log prefix "vms-deploy drop in: " level info')
    lines.append("\t}")
    return lines


def service_rules(host: dict) -> list[dict]:
    """The host's VMS services (management is rendered separately)."""
    return merged_inbound([r for r in host.get("inbound", []) if r.get("component") != "management"])


def merged_inbound(inbound: list[dict]) -> list[dict]:
    """One rule per (service, protocol, port range): sources of duplicates are merged into one set."""
    merged: dict[tuple, dict] = {}
    for rule in inbound:
        key = (rule.get("component", ""), rule["service"], rule["protocol"], tuple(rule["ports"]))
        if key in merged:
            merged[key]["sources"] = sorted(set(merged[key]["sources"]) | set(rule["sources"]))
        else:
            merged[key] = {**rule, "component": rule.get("component", ""), "sources": sorted(set(rule["sources"]))}
    return sorted(merged.values(), key=lambda r: (r["ports"][0], r["ports"][1], r["protocol"], r["service"]))


def management_sources(plan: dict) -> list[str]:
    return list(plan.get("zones", {}).get("management", []) or [])


def header(kind: str, plan: dict, host: str) -> list[str]:
    return [
        # One comment line whatever the names hold: a newline would turn the rest into rules.
        _CONTROL.sub(" ", f"# vms-deploy {kind} firewall for {host} (site {plan.get('site')}, "
                          f"product {plan.get('product')})"),
        "# Generated from the site plan; do not edit: the next run replaces this table.",
    ]


def check_host(plan: dict, host: str) -> dict:
    hosts = plan.get("hosts", {})
    if host not in hosts:
        known = ", ".join(sorted(hosts)) or "none"
        raise RenderError(f"host {host!r} is not in the plan of site {plan.get('site')!r} (hosts: {known}); "
                          "add it to one of the vms_* groups or run the play on plan hosts only")
    return hosts[host]

