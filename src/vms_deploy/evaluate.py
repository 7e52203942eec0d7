"""The one evaluator: would a new connection be allowed by a site plan, and by which rules?

`vms-deploy check`, the probes (`vms-deploy probe`, the lab's verify stage) and the report ask
this function; nothing else in the project decides "allowed". It walks the path a packet takes
through what the renderers enforce (the edge model and its nftables backend, render/nftables_host.py,
the Windows rule group), not through the compiler's intentions:

1. To the edge's public address from outside the site: a forward whose allow-list holds the
   source is DNAT'ed to its host (internal sources are not DNAT'ed, except the client LAN's with
   vms_nat_reflection on the nftables edge: then the connection goes as the client's direct one to
   the forward's host); without a forward the packet is for the edge itself (its input chain).
2. To a site address: inside one zone (one L2 network) only the destination's firewall filters.
   Between zones the edge's forward chain must have a zone flow whose sources and destinations
   hold the packet's addresses; a flow from the Internet zone matches only sources outside every
   site network (`ip saddr != @internal`).
3. The destination's host firewall: an inbound rule for the protocol and port whose sources hold
   the source address (the edge masquerades only traffic leaving toward the Internet, so hosts
   see real source addresses). An address that is no plan host is not filtered by vms-deploy.
   On a Windows host only the vms-deploy rule group is evaluated: a denial there carries a caveat
   (`Verdict.caveats`, vms_deploy.claims), since rules outside the group may admit the packet.

Assumption, stated once: each zone is one network segment, so traffic between two addresses of
the same zone does not cross the edge (docs/architecture.md, "zone flows").
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .claims import denial_caveat
from .diff import fmt_cidrs, fmt_ports
from .edge.model import crosses_edge
from .zones import internal_networks, zone_index

PROTOCOLS = ("tcp", "udp")


class LookupFailed(ValueError):
    """A host, address or port the user asked about is not usable; the message says what to use."""


@dataclass
class Verdict:
    allowed: bool
    summary: str
    steps: list[str]
    rules: list[dict] = field(default_factory=list)  # the plan rules that admitted the packet
    caveats: list[str] = field(default_factory=list)  # what the verdict could not evaluate (vms_deploy.claims)

    def render(self) -> str:
        head = ("ALLOWED: " if self.allowed else "DENIED by the plan: " if self.caveats else "DENIED: ") + self.summary
        return "\n".join([head] + [f"  {s}" for s in self.steps] + [f"  {c}" for c in self.caveats]) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "summary": self.summary, "steps": self.steps, "rules": self.rules,
                "caveats": self.caveats}


def _covers(ports, port: int) -> bool:
    return ports[0] <= port <= ports[1]


class _Site:
    """Plan lookups built once per plan (the lab and the property tests ask thousands of tuples)."""

    def __init__(self, plan: dict[str, Any]):
        self.plan = plan
        self.hosts = plan.get("hosts") or {}
        self.by_address = {h.get("address"): name for name, h in sorted(self.hosts.items()) if h.get("address")}
        edge = plan.get("edge") or {}
        self.edge_host = edge.get("host")
        self.public = edge.get("public_address")
        zones = plan.get("zones") or {}
        self.classify = zone_index(zones)
        self.internal = internal_networks(zones)
        self._nets: dict[str, Any] = {}
        # What the edge's forward chain holds (the edge model's `crosses_edge`, vms_deploy.edge.model).
        self.edge_flows = [f for f in plan.get("zone_flows") or [] if crosses_edge(f, self.edge_host)]

    def net(self, cidr: str):
        got = self._nets.get(cidr)
        if got is None:
            got = self._nets[cidr] = ipaddress.ip_network(cidr, strict=False)
        return got

    def contains(self, cidrs, address: str) -> str | None:
        ip = ipaddress.ip_address(address)
        return next((c for c in cidrs if ip in self.net(c)), None)

    def is_internal(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in net for net in self.internal)

    def zone(self, address: str, host: str | None) -> str:
        if host and self.hosts[host].get("zone"):
            return self.hosts[host]["zone"]
        return self.classify(address + "/32")

    def resolve(self, value: str, role: str) -> tuple[str, str | None]:
        if value in self.hosts:
            return self.hosts[value]["address"], value
        try:
            ip = ipaddress.ip_address(str(value).strip())
        except ValueError:
            known = ", ".join(sorted(self.hosts)) or "none"
            raise LookupFailed(f"--{role} {value!r} is neither a host of site {self.plan.get('site')!r} nor an IPv4 "
                               f"address; use one of: {known}, or an address such as 10.40.2.15") from None
        if ip.version != 4:
            raise LookupFailed(f"--{role} {value!r} is IPv6; vms-deploy plans are IPv4 only")
        return str(ip), self.by_address.get(str(ip))

    def host_rule(self, host: str, src: str, port: int, protocol: str) -> tuple[dict | None, list[dict]]:
        """(inbound rule admitting src, rules that open the port for other sources)."""
        near = []
        for rule in self.hosts[host].get("inbound", []):
            if rule["protocol"] == protocol and _covers(rule["ports"], port):
                if self.contains(rule["sources"], src):
                    return rule, []
                near.append(rule)
        return None, near

    def edge_rule(self, src: str, dst: str, port: int, protocol: str) -> dict | None:
        outside = not self.is_internal(src)
        for flow in self.edge_flows:
            if flow["protocol"] != protocol or not _covers(flow["ports"], port):
                continue
            if flow["from"] == "internet" and not outside:
                continue
            if self.contains(flow["sources"], src) and self.contains(flow["destinations"], dst):
                return flow
        return None


_cache: dict[int, tuple[dict, _Site]] = {}


def _site(plan: dict) -> _Site:
    """One _Site per plan object (plans are not mutated once compiled)."""
    got = _cache.get(id(plan))
    if got is None or got[0] is not plan:
        if len(_cache) > 64:
            _cache.clear()
        got = _cache[id(plan)] = (plan, _Site(plan))
    return got[1]


def describe_rule(rule: dict[str, Any]) -> str:
    return (f"{rule['protocol']}/{fmt_ports(rule['ports'])} from {fmt_cidrs(rule['sources'])} "
            f"({rule.get('component')}: {rule.get('purpose') or rule.get('service')})")


def _host_verdict(site: _Site, host: str, src: str, port: int, protocol: str, label: str, steps: list[str],
                  rules: list[dict], settings: dict | None) -> Verdict:
    """The last step: the destination's host firewall (what the plan's rules for it say)."""
    rule, near = site.host_rule(host, src, port, protocol)
    if rule is None:
        reason = (f"open only for {'; '.join(describe_rule(r) for r in near)}" if near
                  else f"no rule opens {protocol}/{port}")
        steps.append(f"host firewall on {host}: {reason}")
        caveat = denial_caveat(site.plan, host, bool(near), settings)
        return Verdict(False, label, steps, rules, [caveat] if caveat else [])
    steps.append(f"host firewall on {host}: {describe_rule(rule)}")
    rules.append(rule)
    return Verdict(True, label, steps, rules)


def _edge_input(site: _Site, src: str, label: str, port: int, protocol: str, steps: list[str],
                rules: list[dict], settings: dict | None) -> Verdict:
    """The packet is for the edge itself: its input chain (plan rules, plus the VPN listen port)."""
    vpn = site.plan.get("vpn")
    if vpn and protocol == "udp" and port == int(vpn["listen_port"]):
        steps.append(f"edge {site.edge_host}: WireGuard listens on udp/{port} for every source")
        return Verdict(True, label, steps, rules)
    if not site.edge_host or site.edge_host not in site.hosts:
        steps.append("the edge is not managed by this plan: its own ports are not evaluated")
        return Verdict(False, label, steps, rules)
    return _host_verdict(site, site.edge_host, src, port, protocol, label, steps, rules, settings)


def _reflection(site: _Site, src: str, src_host: str | None, port: int, protocol: str, label: str,
                settings: dict | None) -> Verdict | None:
    """vms_nat_reflection on the nftables edge: a client-LAN source to a forward's external port is
    DNAT'ed to the forward's host and then goes exactly as its direct connection would (no source
    NAT). None when reflection does not apply (off, another zone, no forward, a host on the client LAN)."""
    edge = site.plan.get("edge") or {}
    if not (edge.get("nat_reflection") and site.edge_host and edge.get("backend", "nftables") == "nftables"):
        return None
    if site.zone(src, src_host) != "clients":
        return None
    fwd = next((f for f in site.plan.get("forwards") or []
                if f["protocol"] == protocol and _covers(f["external_ports"], port)), None)
    if fwd is None or site.zone(fwd["to_address"], fwd["to_host"] if fwd["to_host"] in site.hosts else None) \
            == "clients":
        return None
    inner = fwd["to_ports"][0] + (port - fwd["external_ports"][0])
    direct = evaluate(site.plan, src, fwd["to_address"], inner, protocol, settings)
    steps = [f"edge {site.edge_host}: NAT reflection of forward {fwd['name']} for the client LAN -> "
             f"{fwd['to_host']} ({fwd['to_address']}) {protocol}/{inner}, then as the direct connection:",
             *direct.steps]
    return Verdict(direct.allowed, label, steps, [fwd, *direct.rules], direct.caveats)


def _to_public(site: _Site, src: str, src_host: str | None, port: int, protocol: str,
               settings: dict | None) -> Verdict:
    label = f"{src}{f' ({src_host})' if src_host else ''} -> public {site.public} {protocol}/{port}"
    steps: list[str] = []
    rules: list[dict] = []
    if site.is_internal(src):
        reflected = _reflection(site, src, src_host, port, protocol, label, settings)
        if reflected is not None:
            return reflected
        steps.append(f"{src} is a site address: forwards serve the Internet only (no hairpin NAT), so the "
                     f"packet is for the edge itself")
        return _edge_input(site, src, label, port, protocol, steps, rules, settings)
    forwards = [f for f in site.plan.get("forwards") or []
                if f["protocol"] == protocol and _covers(f["external_ports"], port)]
    fwd = next((f for f in forwards if site.contains(f["sources"], src)), None)
    if fwd is None:
        if forwards:
            steps.append(f"edge: forward {forwards[0]['name']} only accepts {fmt_cidrs(forwards[0]['sources'])} "
                         "(vms_remote_allowlist)")
        else:
            steps.append(f"edge: no port forward for {protocol}/{port} (remote access: "
                         f"{site.plan.get('remote_access')})")
        return _edge_input(site, src, label, port, protocol, steps, rules, settings)
    inner = fwd["to_ports"][0] + (port - fwd["external_ports"][0])
    steps.append(f"edge: forward {fwd['name']} {protocol}/{port} from {fmt_cidrs(fwd['sources'])} -> "
                 f"{fwd['to_host']} ({fwd['to_address']}) {protocol}/{inner}")
    rules.append(fwd)
    host = fwd["to_host"]
    if host not in site.hosts:
        steps.append(f"host firewall: {fwd['to_address']} is not managed by this plan")
        return Verdict(True, label, steps, rules)
    return _host_verdict(site, host, src, inner, protocol, label, steps, rules, settings)


def evaluate(plan: dict[str, Any], source: str, destination: str, port: int, protocol: str = "tcp",
             settings: dict | None = None) -> Verdict:
    """Would a new connection from `source` to `destination`:`port`/`protocol` be allowed?

    source/destination: a plan host name or an IPv4 address; destination may be the public address.
    settings: the per-host inventory settings the caveats depend on (claims.settings_from_inventory).
    """
    if protocol not in PROTOCOLS:
        raise LookupFailed(f"--protocol {protocol!r} is not supported; use tcp or udp")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise LookupFailed(f"--port {port!r} is not a port number; use 1-65535")
    site = _site(plan)
    src, src_host = site.resolve(source, "from")
    if site.public and str(destination).strip() == site.public and site.public not in site.by_address:
        return _to_public(site, src, src_host, port, protocol, settings)
    dst, dst_host = site.resolve(destination, "to")
    label = (f"{src}{f' ({src_host})' if src_host else ''} -> "
             f"{f'{dst_host} ({dst})' if dst_host else dst} {protocol}/{port}")
    src_zone, dst_zone = site.zone(src, src_host), site.zone(dst, dst_host)
    steps = [f"source zone {src_zone}, destination zone {dst_zone}"]
    rules: list[dict] = []
    if dst_host and dst_host == site.edge_host:
        return _edge_input(site, src, label, port, protocol, steps, rules, settings)
    if src_host and src_host == site.edge_host:
        steps.append("from the edge itself: its output is not filtered")
    elif src_zone == dst_zone:
        steps.append("same network: the edge is not on the path")
    elif not site.edge_host and src_zone == "internet" and not site.is_internal(src):
        steps.append(f"{dst} is a private site address: the site's router (not managed by vms-deploy) does not "
                     "route the Internet to it; it forwards only what the router sheet lists")
        return Verdict(False, label, steps, rules)
    elif not site.edge_host:
        steps.append(f"no managed edge between {src_zone} and {dst_zone}: only host firewalls filter")
    else:
        flow = site.edge_rule(src, dst, port, protocol)
        if flow is None:
            why = ""
            if src_zone == "internet" and not site.is_internal(src):
                why = " (the Internet reaches site hosts only through the public address's forwards"
                fwd = next((f for f in site.plan.get("forwards") or [] if f.get("to_host") == dst_host
                            and f["protocol"] == protocol and _covers(f["to_ports"], port)), None)
                why += (f": reach it as {site.public} {protocol}/{fmt_ports(fwd['external_ports'])}, router forward "
                        f"{fwd['name']})" if fwd else ")")
            steps.append(f"edge {site.edge_host}: no zone flow lets {src} reach {dst} {protocol}/{port}{why}")
            return Verdict(False, label, steps, rules)
        steps.append(f"edge {site.edge_host}: zone flow {flow['from']} -> {flow['to']} "
                     f"{protocol}/{fmt_ports(flow['ports'])} from {fmt_cidrs(flow['sources'])} "
                     f"({flow.get('component')}: {flow.get('purpose')})")
        rules.append(flow)
    if not dst_host:
        steps.append(f"host firewall: {dst} is not a host of this plan, so vms-deploy does not filter it")
        return Verdict(True, label, steps, rules)
    return _host_verdict(site, dst_host, src, port, protocol, label, steps, rules, settings)
