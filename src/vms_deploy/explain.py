"""Answer two review questions from a plan, without touching any host.

* `explain_port`: why is PORT open on HOST? Every inbound rule covering it, with component,
  service, purpose, whether it comes from a vendor document (seed) and which inventory variable
  (and, when the inventory is at hand, which file and line) produced each allowed source.
* `check_flow`: would traffic from A to B:PORT be allowed? Walks the same path a packet takes:
  the edge (port forward for Internet sources, zone flow between zones) and then the host
  firewall of the destination, and reports the matching rule or the reason it is dropped.
  This mirrors aerleon's AclCheck, but over the whole site plan instead of one ACL.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any

from vms_deploy.diff import fmt_cidrs, fmt_ports

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
# Which source document each product's catalog follows (shared/seeds/README.md); catalog entries say
# seed: true when their port is in that document, false when it is a project default.
SEED_DOCUMENTS = {
    "valerus": "seed 000, Vicon Valerus remote access guide (ports to configure, router forwarding)",
    "xprotect": "seed 001, Milestone XProtect ports used by the system",
    "generic_nvr": "seed 002, generic NVR port forwarding guide",
}
_INVENTORY_SUFFIXES = ("", ".yml", ".yaml", ".ini", ".json")


class LookupFailed(ValueError):
    """A host, address or port the user asked about is not usable; the message says what to use."""


# ----------------------------------------------------------------------------- address helpers
def _net(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def _covers(ports: list[int], port: int) -> bool:
    return ports[0] <= port <= ports[1]


def _in_any(address: str, cidrs: list[str]) -> str | None:
    """The first CIDR in `cidrs` that contains `address`, or None."""
    ip = ipaddress.ip_address(address)
    for cidr in cidrs:
        if ip.version == _net(cidr).version and ip in _net(cidr):
            return cidr
    return None


def zone_of_address(plan: dict[str, Any], address: str) -> str:
    """The most specific zone whose networks contain `address`; 'internet' when none does."""
    ip = ipaddress.ip_address(address)
    best, best_len = "internet", -1
    for zone, cidrs in plan.get("zones", {}).items():
        for cidr in cidrs:
            net = _net(cidr)
            if net.version == ip.version and ip in net and net.prefixlen > best_len and zone != "internet":
                best, best_len = zone, net.prefixlen
    return best


def host_by_address(plan: dict[str, Any], address: str) -> str | None:
    for name, hv in plan.get("hosts", {}).items():
        if hv.get("address") == address:
            return name
    return None


def _resolve_endpoint(plan: dict[str, Any], value: str, role: str) -> tuple[str, str | None]:
    """Turn a host name or an IP address into (address, host name or None)."""
    hosts = plan.get("hosts", {})
    if value in hosts:
        return hosts[value]["address"], value
    try:
        address = str(ipaddress.ip_address(value))
    except ValueError:
        known = ", ".join(sorted(hosts)) or "none"
        raise LookupFailed(f"--{role} {value!r} is neither a host of site {plan.get('site')!r} nor an IP address; "
                           f"use one of: {known}, or an address such as 10.40.2.15") from None
    return address, host_by_address(plan, address)


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


def catalog_facts(plan: dict[str, Any], rule: dict[str, Any], inventory_path: str | None = None) -> list[str]:
    """What the product's port catalog says about the rule's service (seed or project default)."""
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
    document = SEED_DOCUMENTS.get(plan.get("product"), "the vendor documents")
    notes = [f"catalog {plan.get('product')}.yml service {service.name}: "
             + (f"documented by the vendor ({document})" if service.seed
                else f"a project default, not in {document} (check it; change with vms_port_overrides)")]
    if service.connects_from:
        notes.append(f"catalog connects_from: {', '.join(service.connects_from)} (each role becomes the sources "
                     "below: host roles are host addresses, network roles are inventory variables)")
    if tuple(rule["ports"]) != tuple(service.ports):
        where = _grep_inventory(inventory_path, service.name)
        notes.append(f"port changed from the catalog's {fmt_ports(list(service.ports))} by vms_port_overrides"
                     + (f" (set at {', '.join(where)})" if where else ""))
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
            found.append(RuleExplanation(host, rule, origins, _rule_notes(rule) + catalog_facts(plan, rule, inventory_path)))
    return found


def forwards_to(plan: dict[str, Any], host: str, port: int, protocol: str | None) -> list[dict[str, Any]]:
    return [f for f in plan.get("forwards", []) if f.get("to_host") == host and _covers(f["to_ports"], port)
            and (not protocol or f["protocol"] == protocol)]


def render_explanation(plan: dict[str, Any], host: str, port: int, protocol: str | None,
                       found: list[RuleExplanation]) -> str:
    hv = plan["hosts"].get(host) or plan["hosts"][host_by_address(plan, host)]
    what = f"{protocol}/{port}" if protocol else f"port {port}"
    label = f"{host} ({hv.get('address')})"
    if not found:
        keys = sorted({(r["protocol"], tuple(r["ports"])) for r in hv.get("inbound", [])}, key=lambda k: (k[1], k[0]))
        open_ports = ", ".join(f"{proto}/{fmt_ports(ports)}" for proto, ports in keys)
        return (f"CLOSED: {what} on {label} is not opened by any rule of site {plan.get('site')}.\n"
                f"  open on {host}: {open_ports or 'nothing'}\n")
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
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- check
@dataclass
class Verdict:
    allowed: bool
    summary: str
    steps: list[str]

    def render(self) -> str:
        return "\n".join([("ALLOWED: " if self.allowed else "DENIED: ") + self.summary]
                         + [f"  {s}" for s in self.steps]) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "summary": self.summary, "steps": self.steps}


def _host_firewall(plan: dict[str, Any], host: str, src: str, port: int, protocol: str) -> tuple[dict | None, list]:
    """(matching rule, rules that open the port but not for this source)."""
    near = []
    for rule in plan["hosts"][host].get("inbound", []):
        if rule["protocol"] == protocol and _covers(rule["ports"], port):
            if _in_any(src, rule["sources"]):
                return rule, []
            near.append(rule)
    return None, near


def _describe_rule(rule: dict[str, Any]) -> str:
    return (f"{rule['protocol']}/{fmt_ports(rule['ports'])} from {fmt_cidrs(rule['sources'])} "
            f"({rule.get('component')}: {rule.get('purpose') or rule.get('service')})")


def _edge_flow(plan: dict[str, Any], src: str, src_zone: str, dst: str, dst_host: str | None, dst_zone: str,
               port: int, protocol: str) -> dict[str, Any] | None:
    for flow in plan.get("zone_flows", []):
        if flow["from"] != src_zone or flow["to"] != dst_zone or flow["protocol"] != protocol:
            continue
        if not _covers(flow["ports"], port) or not _in_any(src, flow["sources"]):
            continue
        if (dst_host and flow.get("to_host") == dst_host) or _in_any(dst, flow.get("destinations", [])):
            return flow
    return None


def _check_forward(plan: dict[str, Any], src: str, port: int, protocol: str) -> Verdict:
    """Traffic from outside to the public address: the router forward, then the target's host firewall."""
    public = plan["edge"]["public_address"]
    candidates = [f for f in plan.get("forwards", []) if f["protocol"] == protocol and _covers(f["external_ports"], port)]
    if not candidates:
        return Verdict(False, f"{src} -> public {public} {protocol}/{port}",
                       [f"edge/router: no port forward for {protocol}/{port} (remote access: {plan.get('remote_access')})"])
    fwd = next((f for f in candidates if _in_any(src, f["sources"])), None)
    if fwd is None:
        return Verdict(False, f"{src} -> public {public} {protocol}/{port}",
                       [f"edge/router: forward {candidates[0]['name']} only accepts {fmt_cidrs(candidates[0]['sources'])} "
                        f"(vms_remote_allowlist)"])
    inner = fwd["to_ports"][0] + (port - fwd["external_ports"][0])
    steps = [f"edge/router: forward {fwd['name']} {protocol}/{port} from {fmt_cidrs(fwd['sources'])} "
             f"-> {fwd['to_host']} ({fwd['to_address']}) {protocol}/{inner}"]
    host = fwd["to_host"]
    rule, near = _host_firewall(plan, host, src, inner, protocol) if host in plan["hosts"] else (None, [])
    if rule is None and plan.get("edge", {}).get("host") in plan["hosts"]:
        # An edge that masquerades presents its own address to the inside host.
        edge_addr = plan["hosts"][plan["edge"]["host"]]["address"]
        rule, near2 = _host_firewall(plan, host, edge_addr, inner, protocol)
        if rule is not None:
            steps.append(f"(the edge presents its own address {edge_addr} to {host})")
        near = near or near2
    if host not in plan["hosts"]:
        steps.append(f"host firewall: {fwd['to_address']} is not managed by this plan")
        return Verdict(True, f"{src} -> public {public} {protocol}/{port}", steps)
    if rule is None:
        steps.append(f"host firewall on {host}: no rule lets {src} reach {protocol}/{inner}"
                     + (f"; open only for {'; '.join(_describe_rule(r) for r in near)}" if near else ""))
        return Verdict(False, f"{src} -> public {public} {protocol}/{port}", steps)
    steps.append(f"host firewall on {host}: {_describe_rule(rule)}")
    return Verdict(True, f"{src} -> public {public} {protocol}/{port}", steps)


def check_flow(plan: dict[str, Any], source: str, destination: str, port: int, protocol: str = "tcp") -> Verdict:
    """Would a new connection from `source` to `destination`:`port`/`protocol` be allowed by the plan?"""
    if protocol not in ("tcp", "udp"):
        raise LookupFailed(f"--protocol {protocol!r} is not supported; use tcp or udp")
    if not 0 < port < 65536:
        raise LookupFailed(f"--port {port} is not a port number; use 1-65535")
    src, src_host = _resolve_endpoint(plan, source, "from")
    public = (plan.get("edge") or {}).get("public_address")
    if destination == public:
        return _check_forward(plan, src, port, protocol)
    dst, dst_host = _resolve_endpoint(plan, destination, "to")
    src_zone = plan["hosts"][src_host]["zone"] if src_host else zone_of_address(plan, src)
    dst_zone = plan["hosts"][dst_host]["zone"] if dst_host else zone_of_address(plan, dst)
    label = f"{src}{f' ({src_host})' if src_host else ''} -> {dst_host + ' (' + dst + ')' if dst_host else dst} {protocol}/{port}"
    steps = [f"source zone {src_zone}, destination zone {dst_zone}"]

    if src_zone == "internet" and dst_zone != "internet":
        fwds = forwards_to(plan, dst_host, port, protocol) if dst_host else []
        hint = (f"; reach it as {public} {protocol}/{fmt_ports(fwds[0]['external_ports'])} (router forward {fwds[0]['name']})"
                if fwds else "")
        steps.append(f"{src} is outside every site network: private addresses are not reachable from the "
                     f"Internet{hint}")
        return Verdict(False, label, steps)

    edge_host = (plan.get("edge") or {}).get("host")
    crosses_edge = src_zone != dst_zone and edge_host not in (src_host, dst_host)
    if crosses_edge and edge_host:
        flow = _edge_flow(plan, src, src_zone, dst, dst_host, dst_zone, port, protocol)
        if flow is None:
            steps.append(f"edge {edge_host}: no zone flow {src_zone} -> {dst_zone} for {protocol}/{port} from {src}")
            return Verdict(False, label, steps)
        steps.append(f"edge {edge_host}: zone flow {src_zone} -> {dst_zone} {protocol}/{fmt_ports(flow['ports'])} "
                     f"from {fmt_cidrs(flow['sources'])} ({flow.get('component')}: {flow.get('purpose')})")
    elif crosses_edge:
        steps.append(f"no managed edge firewall between {src_zone} and {dst_zone}: only host firewalls filter")
    else:
        steps.append("same network or the edge itself: only the destination's host firewall filters")

    if not dst_host:
        steps.append(f"host firewall: {dst} is not a host of this plan, so vms-deploy does not filter it")
        return Verdict(True, label, steps)
    rule, near = _host_firewall(plan, dst_host, src, port, protocol)
    if rule is None:
        reason = (f"open only for {'; '.join(_describe_rule(r) for r in near)}" if near
                  else f"no rule opens {protocol}/{port}")
        steps.append(f"host firewall on {dst_host}: {reason}")
        return Verdict(False, label, steps)
    steps.append(f"host firewall on {dst_host}: {_describe_rule(rule)}")
    return Verdict(True, label, steps)
