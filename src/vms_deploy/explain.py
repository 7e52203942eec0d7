"""Answer two review questions from a plan, without touching any host.

* `explain_port`: why is PORT open on HOST? Every inbound rule covering it, with component,
  service, purpose, whether it comes from a vendor document (seed) and which inventory variable
  (and, when the inventory is at hand, which file and line) produced each allowed source.
* `check_flow`: would traffic from A to B:PORT be allowed? That is vms_deploy.evaluate, the one
  evaluator (it mirrors aerleon's AclCheck, but over the whole site plan instead of one ACL).
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any

from vms_deploy.claims import host_claims
from vms_deploy.diff import fmt_cidrs, fmt_ports
from vms_deploy.evaluate import LookupFailed, Verdict, evaluate  # noqa: F401 - re-exported for callers
from vms_deploy.zones import zone_index

# The inventory variable that feeds each zone (docs/architecture.md, "Inventory contract").
ZONE_VARIABLES = {
    "clients": "vms_client_networks",
    "cameras": "vms_camera_networks",
    "servers": "vms_server_networks",
    "dmz": "vms_dmz_networks",
    "management": "vms_management_networks",
    "internet": "vms_remote_allowlist",
    "vpn": "vms_vpn_network",
}
_INVENTORY_SUFFIXES = ("", ".yml", ".yaml", ".ini", ".json")


# ----------------------------------------------------------------------------- address helpers
def _net(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def _covers(ports: list[int], port: int) -> bool:
    return ports[0] <= port <= ports[1]


def zone_of_address(plan: dict[str, Any], address: str) -> str:
    """The most specific zone whose networks contain `address`; 'internet' when none does."""
    return zone_index(plan.get("zones", {}))(address)


def host_by_address(plan: dict[str, Any], address: str) -> str | None:
    for name, hv in plan.get("hosts", {}).items():
        if hv.get("address") == address:
            return name
    return None


# ----------------------------------------------------------------------------- explain
@dataclass
class SourceOrigin:
    cidr: str
    zone: str
    variable: str
    locations: list[str] = field(default_factory=list)

    def describe(self) -> str:
        where = f"; set at {', '.join(self.locations)}" if self.locations else ""
        return f"{fmt_cidrs([self.cidr])} (zone {self.zone}, from {self.variable}{where})"


@dataclass
class RuleExplanation:
    host: str
    rule: dict[str, Any]
    origins: list[SourceOrigin]
    notes: list[str]


def _grep_inventory(inventory_path: str | None, needle: str) -> list[str]:
    """'file:line' of every inventory line that mentions `needle` (a CIDR or an address).

    Ansible's inventory loader keeps no line numbers, so this is a text search over the inventory
    files; it answers "which line do I edit" for the usual case of literal CIDRs in YAML/INI.
    """
    if not inventory_path:
        return []
    if os.path.isfile(inventory_path):
        files = [inventory_path]
    else:
        files = []
        for root, dirs, names in os.walk(inventory_path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [os.path.join(root, n) for n in sorted(names) if n.endswith(_INVENTORY_SUFFIXES[1:])
                      or "." not in n]
    found = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as fh:
                for number, line in enumerate(fh, 1):
                    if _mentions(line, needle):
                        found.append(f"{path}:{number}")
        except (OSError, UnicodeDecodeError):
            continue  # vault-encrypted or binary files cannot hold a readable CIDR anyway
    return found


def _mentions(line: str, needle: str) -> bool:
    """True when `needle` occurs in `line` as a whole token (10.40.1.1 must not match 10.40.1.10)."""
    pattern = r"(?<![\w.])" + re.escape(needle) + r"(?![\w]|\.\d)"
    return re.search(pattern, line) is not None


def variables_holding(data: dict[str, Any] | None, cidr: str) -> list[str]:
    """Inventory variables (vms_*) whose value mentions `cidr`, with the hosts that have them.

    `data` is the plain inventory dict ({hosts: {name: vars}, groups}) the compiler reads; a
    group_vars/all value shows up on every host, which is reported as "all hosts".
    """
    if not data:
        return []
    bare = cidr.removesuffix("/32")
    holders: dict[str, list[str]] = {}
    hosts = data.get("hosts", {})
    for host, hvars in sorted(hosts.items()):
        for name, value in sorted((hvars or {}).items()):
            if name.startswith("vms_") and _value_mentions(value, cidr, bare):
                holders.setdefault(name, []).append(host)
    out = []
    for name, names in holders.items():
        who = "all hosts" if len(names) == len(hosts) and len(hosts) > 1 else ", ".join(names)
        out.append(f"{name} ({who})")
    return out


def _value_mentions(value: Any, cidr: str, bare: str) -> bool:
    if isinstance(value, str):
        return value.strip() in (cidr, bare)
    if isinstance(value, dict):
        return any(_value_mentions(v, cidr, bare) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_value_mentions(v, cidr, bare) for v in value)
    return False


def origin_of(plan: dict[str, Any], cidr: str, inventory_path: str | None = None,
              data: dict[str, Any] | None = None) -> SourceOrigin:
    """Which inventory variable produced one allowed source (exact when the inventory is given)."""
    net = _net(cidr)
    needle = cidr if net.num_addresses > 1 else str(net.network_address)
    locations = _grep_inventory(inventory_path, needle)
    if net.num_addresses == 1:
        host = host_by_address(plan, str(net.network_address))
        if host:
            zone = plan["hosts"][host].get("zone", "?")
            return SourceOrigin(cidr, zone, f"address of host {host} (vms_address / ansible_host)", locations)
    zone = "internet" if net.prefixlen == 0 else zone_of_address(plan, str(net.network_address))
    found = variables_holding(data, cidr)
    if found:
        variable = ", ".join(found)
    elif net.prefixlen == 0:
        variable = "vms_remote_allowlist (default 0.0.0.0/0)" if zone == "internet" else "anywhere"
    elif cidr in plan.get("zones", {}).get(zone, []):
        variable = ZONE_VARIABLES.get(zone, f"zone {zone}")
    else:
        variable = "not a zone network: see vms_custom_services / vms_port_overrides connects_from"
    return SourceOrigin(cidr, zone, variable, locations)


def _override(data: dict[str, Any] | None, host: str, service: str | None) -> dict[str, Any] | None:
    """The host's vms_port_overrides entry for `service` (None without an inventory, {} when none)."""
    if data is None:
        return None
    overrides = ((data.get("hosts") or {}).get(host) or {}).get("vms_port_overrides") or {}
    entry = overrides.get(service) if isinstance(overrides, dict) else None
    return entry if isinstance(entry, dict) else {}


def _where(inventory_path: str | None, host: str, variable: str, data: dict[str, Any] | None) -> str:
    if not inventory_path:
        return ""
    from vms_deploy.inventory import variable_origins

    groups = [g for g, members in ((data or {}).get("groups") or {}).items() if host in (members or [])]
    found = variable_origins(inventory_path, host, variable, groups)
    return f" (set at {', '.join(found)})" if found else ""


def catalog_facts(plan: dict[str, Any], rule: dict[str, Any], inventory_path: str | None = None,
                  data: dict[str, Any] | None = None, host: str | None = None) -> list[str]:
    """What the product's port catalog says about the rule's service (seed or project default), and which
    vms_port_overrides entry changed its sources or port, with file and line (issue 24 item 8)."""
    try:
        from vms_deploy.catalog import load_catalog
        catalog = load_catalog(plan.get("product"))
    except Exception:  # noqa: BLE001 - the catalog is optional context; a plan.json alone still explains
        return []
    services = catalog.services() if callable(catalog.services) else catalog.services
    service = services.get(rule.get("service"))
    if service is None:
        return ["not in the product catalog: a custom service (vms_custom_services)"] \
            if rule.get("component") == "custom" else []
    document = catalog.traits.get("seed_document") or "the vendor documents"
    notes = [f"catalog {plan.get('product')}.yml service {service.name}: "
             + (f"documented by the vendor ({document})" if service.seed
                else f"a project default, not in {document} (check it; change with vms_port_overrides)")]
    override = _override(data, host, service.name) if host else None
    variable = f"vms_port_overrides.{service.name}"
    if override and "connects_from" in override:
        notes.append(f"sources set by {variable}.connects_from = {list(override['connects_from'])!r}"
                     f"{_where(inventory_path, host, variable + '.connects_from', data)}, not the catalog's "
                     f"connects_from ({', '.join(service.connects_from) or 'none'})")
    elif service.connects_from:
        notes.append(f"catalog connects_from: {', '.join(service.connects_from)} (each role becomes the sources "
                     "below: host roles are host addresses, network roles are inventory variables)")
        if override is None:
            notes.append("an override (vms_port_overrides) may have changed them: explain the inventory to see "
                         "(this is a plan.json)")
    if tuple(rule["ports"]) != tuple(service.ports):
        if override and "port" in override:
            notes.append(f"port changed from the catalog's {fmt_ports(list(service.ports))} by {variable}.port = "
                         f"{override['port']}{_where(inventory_path, host, variable + '.port', data)}")
        else:
            notes.append(f"port changed from the catalog's {fmt_ports(list(service.ports))} by vms_port_overrides")
    return notes


def _rule_notes(rule: dict[str, Any]) -> list[str]:
    notes = []
    if "seed" in rule:
        notes.append("from the vendor's port documentation (seed)" if rule["seed"]
                     else "not in the vendor documents: added by the project or the inventory")
    for key in ("source", "reference", "seed_ref"):
        if rule.get(key):
            notes.append(f"reference: {rule[key]}")
    if rule.get("override") or rule.get("overridden"):
        notes.append("port changed by vms_port_overrides")
    if rule.get("component") == "custom" or rule.get("custom"):
        notes.append("declared in vms_custom_services")
    return notes


def explain_port(plan: dict[str, Any], host: str, port: int, protocol: str | None = None,
                 inventory_path: str | None = None, data: dict[str, Any] | None = None) -> list[RuleExplanation]:
    """Every inbound rule on `host` that opens `port` (any protocol unless one is given)."""
    hosts = plan.get("hosts", {})
    if host not in hosts:
        address_match = host_by_address(plan, host)
        if not address_match:
            raise LookupFailed(f"--host {host!r} is not a host of site {plan.get('site')!r}; "
                               f"use one of: {', '.join(sorted(hosts)) or 'none'}")
        host = address_match
    if not 0 < port < 65536:
        raise LookupFailed(f"--port {port} is not a port number; use 1-65535")
    found = []
    for rule in hosts[host].get("inbound", []):
        if protocol and rule["protocol"] != protocol:
            continue
        if _covers(rule["ports"], port):
            origins = [origin_of(plan, c, inventory_path, data) for c in rule["sources"]]
            found.append(RuleExplanation(host, rule, origins,
                                         _rule_notes(rule) + catalog_facts(plan, rule, inventory_path, data, host)))
    return found


def forwards_to(plan: dict[str, Any], host: str, port: int, protocol: str | None) -> list[dict[str, Any]]:
    return [f for f in plan.get("forwards", []) if f.get("to_host") == host and _covers(f["to_ports"], port)
            and (not protocol or f["protocol"] == protocol)]


def _ownership(claims, opened: bool) -> list[str]:
    """The lines that say what the verdict covers on this host (vms_deploy.claims, as the report says it)."""
    lines = [f"  vms-deploy owns on this host: {claims.owned}"]
    if not opened:
        lines.append(f"  a port no rule opens is {claims.unlisted}")
    lines.append("  not owned by vms-deploy here:")
    lines.extend(f"    - {text}" for text in claims.not_owned)
    return lines


def render_explanation(plan: dict[str, Any], host: str, port: int, protocol: str | None,
                       found: list[RuleExplanation], settings: dict[str, Any] | None = None) -> str:
    host = host if host in plan["hosts"] else host_by_address(plan, host)
    hv = plan["hosts"][host]
    claims = host_claims(plan, host, settings)
    what = f"{protocol}/{port}" if protocol else f"port {port}"
    label = f"{host} ({hv.get('address')})"
    if not found:
        keys = sorted({(r["protocol"], tuple(r["ports"])) for r in hv.get("inbound", [])}, key=lambda k: (k[1], k[0]))
        open_ports = ", ".join(f"{proto}/{fmt_ports(ports)}" for proto, ports in keys)
        return "\n".join([f"{claims.verdict_word()}: {what} on {label} is not opened by any rule of site "
                          f"{plan.get('site')}.", f"  open on {host}: {open_ports or 'nothing'}",
                          *_ownership(claims, False)]) + "\n"
    lines = [f"OPEN: {what} on {label}, by {len(found)} rule(s):"]
    for item in found:
        rule = item.rule
        lines.append(f"- {rule['protocol']}/{fmt_ports(rule['ports'])}: component {rule.get('component')}, "
                     f"service {rule.get('service')}: {rule.get('purpose', '')}")
        for note in item.notes:
            lines.append(f"    {note}")
        lines.append("    allowed sources:")
        lines.extend(f"      {o.describe()}" for o in item.origins)
    for fwd in forwards_to(plan, host, port, protocol):
        lines.append(f"- router forward {fwd['name']}: public {fwd['protocol']}/{fmt_ports(fwd['external_ports'])} "
                     f"from {fmt_cidrs(fwd['sources'])} -> {host} {fwd['protocol']}/{fmt_ports(fwd['to_ports'])}")
    lines.extend(_ownership(claims, True))
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- check
# `vms-deploy check` is the one evaluator (vms_deploy.evaluate); the name stays for callers.
check_flow = evaluate
