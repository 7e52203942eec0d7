"""Security invariants of every site, stated once from the source documents, as an independent oracle.

They say what must never be reachable, whatever the plan's rules and zone flows say. They read only
the site's facts (hosts with their addresses and components, the zones' networks, the public
address, the product's port catalog and which optional features are on) and ask a *judge* whether
a connection gets through: the evaluator over the plan (the default), the kernel over the rendered
nftables rulesets (tests/kernel), or real packets in the container lab (playbooks/verify.yml).

1. internet: from outside every site network nothing reaches a private site address (a host marked
   routed_public, a DMZ host with its own public address, is the one stated exception); on the public
   address only the planned forwards answer, each only from its allow-list, and each forward leads
   to an Internet-facing catalog service (the gateway / Mobile Server, an NVR's forwarded service, a
   declared custom service): seeds 000 and 002, "one gateway, not one forward per device".
2. cameras: a camera reaches only recorders, and only on ports whose catalog service names cameras
   as a source (or a service the inventory declares on that recorder), never a forward through the
   public address (NAT reflection is for clients); only recorders reach cameras (seed 001: devices
   talk to recording servers).
3. management: SSH, WinRM, RDP and SMB only from the management networks.
4. restricted and closed ports: a catalog service marked `restricted` admits only the hosts its
   connects_from names (XProtect Management Server TCP 9000: only recording servers, seed 001);
   local-only ports and ports of disabled-by-default features never open to anyone.
5. vpn: with vms_remote_access vpn there are no forwards; a VPN peer reaches nothing a client on the
   LAN cannot (only client-facing ports when the site has no client network), never management.
6. catalog: every open port on every host is one the catalog (or a declared custom service) names
   for a component the host runs.
7. ingress: a packet whose source does not belong to the zone it enters from (an internal or site
   source arriving from the Internet, or a camera-network packet claiming a client's or server's
   address) never reaches a site host, whatever port or rule it aims at: the managed edge does
   ingress filtering (BCP 38 / RFC 3704; NIST SP 800-53 SC-7 as the seeds cite). A connection
   attempt proves nothing here (no handshake completes with a forged source), so the judge counts
   what arrives at the destination (forged_probes: the lab's verify, the kernel judge).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from .catalog import load_catalog
from .evaluate import evaluate
from .zones import zone_index

Judge = Callable[[str, str, str, int], bool]

# seeds 000/001 and Windows' own services: administration never leaves the management networks.
# Deliberately not vms_deploy.ports: an independent oracle, wider than what the compiler opens (SMB,
# RDP and both WinRM ports too), so a compiler that opened one of them to anyone else is caught.
MANAGEMENT_PORTS = (("tcp", 22), ("tcp", 445), ("tcp", 3389), ("tcp", 5985), ("tcp", 5986))
# Cameras: HTTP/ONVIF, HTTPS, RTSP and ONVIF's WS-Discovery (UDP 3702, ONVIF Core 7.3) from recorders only.
CAMERA_PORTS = (("tcp", 80), ("tcp", 443), ("tcp", 554), ("udp", 3702))
RECORDER_COMPONENTS = {"recorder", "failover_recorder"}
CLIENT_ROLES = {"clients", "vpn"}
# Sources outside every site network: a documentation-free public address, tried when no vantage is given.
INTERNET_SAMPLES = ("8.8.8.8", "100.127.255.254")


def _plan_judge(plan: dict) -> Judge:
    return lambda src, dst, proto, port: evaluate(plan, src, dst, port, proto).allowed


class _Facts:
    """What the invariants may know about a site: never its rules or zone flows."""

    def __init__(self, plan: dict):
        self.plan = plan
        self.hosts = plan.get("hosts") or {}
        self.zones = plan.get("zones") or {}
        self.classify = zone_index(self.zones)
        self.public = (plan.get("edge") or {}).get("public_address")
        self.edge_host = (plan.get("edge") or {}).get("host")
        self.features = set(plan.get("features") or [])
        try:
            self.catalog = load_catalog(plan.get("product"))
        except KeyError:
            self.catalog = None
        self.host_addresses = {h["address"] for h in self.hosts.values() if h.get("address")}
        if plan.get("vpn") and plan["vpn"].get("edge_address"):
            self.host_addresses.add(plan["vpn"]["edge_address"])  # the edge's tunnel address: no peer holds it

    # --- the catalog's view of one host ---------------------------------------------------------
    def services(self, host: str):
        comps = set(self.hosts[host].get("components") or [])
        if not self.catalog:
            return []
        return [svc for cname in comps if cname in self.catalog.components
                for svc in self.catalog.components[cname].services.values()]

    def is_open_kind(self, svc, host: str | None = None) -> bool:
        """Local-only ports never open; a feature port opens with its feature, or on a host whose own
        override enables it (vms_port_overrides {enabled: true}, recorded in the plan as declared input)."""
        if svc.local_only:
            return False
        enabled = set(self.hosts[host].get("enabled_by_override") or []) if host else set()
        return not svc.feature or svc.feature in self.features or svc.name in enabled

    def named_ports(self, host: str) -> list[tuple[str, int, int, str, frozenset]]:
        """(protocol, first, last, service, source roles) the catalog lets this host open; custom
        services and management rules are named by the plan's rules (declared by the inventory)."""
        out = []
        by_name = {svc.name: svc for svc in self.services(host)}
        declared = set(self.hosts[host].get("sources_by_override") or [])
        for rule in self.hosts[host].get("inbound") or []:
            svc = by_name.get(rule.get("service"))
            if svc is not None and self.is_open_kind(svc, host):
                roles = set(svc.connects_from) | set(svc.tls_connects_from or ())
                if svc.name in declared:
                    roles.add("custom")  # the inventory named its sources (the validator keeps seed rules)
                out.append((rule["protocol"], rule["ports"][0], rule["ports"][1], svc.name, frozenset(roles)))
            elif rule.get("component") in ("custom", "management"):
                out.append((rule["protocol"], rule["ports"][0], rule["ports"][1], rule["service"],
                            frozenset({rule["component"]})))
        return out

    def restricted(self, host: str, proto: str, port: int, from_host: str | None) -> str | None:
        """A catalog service marked restricted (seed 001: Management Server 9000 only from recording
        servers) admits only hosts running the components its connects_from names, whatever the
        inventory's overrides say."""
        from .catalog import HOST_ROLES
        for svc in self.services(host):
            if not svc.restricted or proto not in svc.transports() or not svc.ports[0] <= port <= svc.ports[1]:
                continue
            allowed = {HOST_ROLES[r] for r in svc.connects_from if r in HOST_ROLES}
            peer = set(self.hosts[from_host].get("components") or []) if from_host else set()
            if not peer & allowed:
                return (f"4 restricted: {svc.component}/{svc.name} {proto}/{port} only from "
                        f"{', '.join(r for r in svc.connects_from)} (the seed's requirement)")
        return None

    def closed_kinds(self, host: str) -> list[tuple[str, int, str]]:
        """Local-only ports and ports of features that are off: never open (protocol, port, why)."""
        out = []
        for svc in self.services(host):
            if self.is_open_kind(svc, host):
                continue
            why = "local only" if svc.local_only else f"feature {svc.feature} is off"
            for proto in svc.transports():
                out.extend((proto, port, f"{svc.component}/{svc.name} ({why})") for port in set(svc.ports))
        return out

    # --- sample addresses -------------------------------------------------------------------------
    def samples(self, zone: str) -> list[str]:
        """One address per network of `zone` that classifies into it and is no host's address."""
        out = []
        for text in self.zones.get(zone) or []:
            net = ipaddress.ip_network(text, strict=False)
            if net.num_addresses <= 2:
                continue
            for candidate in (net.network_address + 1, net.broadcast_address - 1, net.network_address + 2):
                address = str(candidate)
                if address not in self.host_addresses and self.classify(address) == zone:
                    out.append(address)
                    break
        return out

    def internet_samples(self) -> list[str]:
        out = [a for a in INTERNET_SAMPLES if self.classify(a) == "internet"]
        for fwd in self.plan.get("forwards") or []:
            for text in fwd.get("sources") or []:
                net = ipaddress.ip_network(text, strict=False)
                if net.prefixlen and net.num_addresses > 2:
                    address = str(net.network_address + 1)
                    if self.classify(address) == "internet" and address not in out:
                        out.append(address)
        return out

    def port_universe(self, host: str) -> list[tuple[str, int]]:
        """Every port worth trying on a host: the whole catalog, management, cameras, a stray one."""
        ports = set(MANAGEMENT_PORTS) | set(CAMERA_PORTS) | {("tcp", 4444), ("udp", 4444)}
        if self.catalog:
            for svc in self.catalog.services().values():
                for proto in svc.transports():
                    ports.update((proto, p) for p in set(svc.ports))
        for rule in self.hosts[host].get("inbound") or []:
            ports.update((rule["protocol"], p) for p in set(rule["ports"]))
        return sorted(ports)


def _covered(ports: Iterable[tuple[str, int, int, str, frozenset]], proto: str, port: int):
    return [entry for entry in ports if entry[0] == proto and entry[1] <= port <= entry[2]]


def _sources(facts: _Facts, vantages: list[dict] | None) -> list[tuple[str, str]]:
    """(address, zone) of every source to try: the given vantages, or one sample per network."""
    if vantages is not None:
        return [(v["address"], facts.classify(v["address"])) for v in vantages]
    out = [(a, "internet") for a in facts.internet_samples()]
    for zone in ("clients", "cameras", "vpn", "management", "dmz", "servers"):
        out += [(a, zone) for a in facts.samples(zone)]
    out += [(h["address"], h.get("zone") or facts.classify(h["address"])) for name, h in sorted(facts.hosts.items())
            if h.get("address")]
    return out


def probes(plan: dict, vantages: list[dict] | None = None) -> list[dict[str, Any]]:
    """The tuples worth trying, each with `forbidden` (an invariant forbids it) and the invariant.

    vantages: [{name, address}] to source from those addresses only (the lab); None samples every
    zone and every host (the evaluator and the kernel can send from anywhere)."""
    facts = _Facts(plan)
    mgmt_nets = [ipaddress.ip_network(c, strict=False) for c in facts.zones.get("management") or []]
    out: dict[tuple, dict] = {}

    def add(src, dst, proto, port, forbidden, invariant):
        key = (src, dst, proto, port)
        if key not in out or (forbidden and not out[key]["forbidden"]):
            out[key] = {"source": src, "destination": dst, "protocol": proto, "port": port,
                        "forbidden": forbidden, "invariant": invariant}

    sources = _sources(facts, vantages)
    clients = facts.samples("clients")
    src_host = {h["address"]: name for name, h in facts.hosts.items() if h.get("address")}
    for src, src_zone in sources:
        in_mgmt = any(ipaddress.ip_address(src) in n for n in mgmt_nets)
        from_host = src_host.get(src)
        for host, h in sorted(facts.hosts.items()):
            dst = h.get("address")
            if not dst or dst == src:
                continue
            named = facts.named_ports(host)
            closed = {(p, port): why for p, port, why in facts.closed_kinds(host)}
            comps = set(h.get("components") or [])
            for proto, port in facts.port_universe(host):
                rules = _covered(named, proto, port)
                why = None
                vpn = plan.get("vpn")
                if host == facts.edge_host and vpn and (proto, port) == ("udp", int(vpn["listen_port"])):
                    add(src, dst, proto, port, False, "")  # WireGuard: the stated remote-access entry
                    continue
                if src_zone == "internet" and not h.get("routed_public"):
                    why = "1 internet: a private site address is never reachable from outside the site"
                elif (proto, port) in MANAGEMENT_PORTS or any("management" in r[4] for r in rules):
                    if not in_mgmt and not any(r[4] - {"management"} for r in rules):
                        why = "3 management: administration ports only from the management networks"
                elif src_zone == "cameras" and not (comps & RECORDER_COMPONENTS
                                                    and any(r[4] & {"cameras", "custom"} for r in rules)):
                    why = "2 cameras: a camera reaches only recorders, on camera-facing catalog ports"
                elif src_zone == "vpn" and not clients and not any(r[4] & (CLIENT_ROLES | {"custom"}) for r in rules):
                    why = "5 vpn: VPN peers reach only client-facing ports"
                if why is None:
                    why = facts.restricted(host, proto, port, from_host)
                if why is None and (proto, port) in closed and not rules:
                    why = f"4 closed: {closed[(proto, port)]} never opens"
                if why is None and not rules and not (in_mgmt and (proto, port) in MANAGEMENT_PORTS):
                    why = "6 catalog: no catalog or declared service opens this port on this host"
                add(src, dst, proto, port, why is not None, why or "")
                if why is None and src_zone == "vpn" and clients:
                    # A VPN peer gets no more than a client on the LAN: judged relative to a client.
                    out[(src, dst, proto, port)]["not_beyond"] = clients[0]
        # Only recorders reach cameras. The edge routes for them (its own output is not filtered), and
        # a site without a managed edge leaves segmentation to its own router (the plan warns).
        is_recorder = from_host and set(facts.hosts[from_host].get("components") or []) & RECORDER_COMPONENTS
        if facts.edge_host in facts.hosts and not is_recorder and src_zone != "cameras" \
                and from_host != facts.edge_host:
            for cam in facts.samples("cameras"):
                for proto, port in CAMERA_PORTS:
                    add(src, cam, proto, port, True, "2 cameras: only recorders reach cameras")
        # NAT reflection (vms_nat_reflection) serves the client LAN only: a camera never reaches a forward
        # through the public address.
        if facts.public and src_zone == "cameras":
            for fwd in plan.get("forwards") or []:
                add(src, facts.public, fwd["protocol"], fwd["external_ports"][0], True,
                    "2 cameras: a camera never reaches a forward through the public address (no NAT reflection)")
        # The public address: only planned forwards, each from its allow-list.
        if facts.public and src_zone == "internet":
            for proto, port in _public_ports(plan, facts):
                fwd = next((f for f in plan.get("forwards") or [] if f["protocol"] == proto
                            and f["external_ports"][0] <= port <= f["external_ports"][1]), None)
                vpn = plan.get("vpn")
                if vpn and (proto, port) == ("udp", int(vpn["listen_port"])):
                    continue  # WireGuard answers no unauthenticated packet
                if fwd is None:
                    add(src, facts.public, proto, port, True, "1 internet: only planned forwards answer on the public "
                        "address")
                elif not any(ipaddress.ip_address(src) in ipaddress.ip_network(c, strict=False)
                             for c in fwd["sources"]):
                    add(src, facts.public, proto, port, True, f"1 internet: forward {fwd['name']} only from its "
                        "allow-list")
                else:
                    add(src, facts.public, proto, port, False, "")
    return [out[k] for k in sorted(out)]


def _public_ports(plan: dict, facts: _Facts) -> list[tuple[str, int]]:
    ports = set(MANAGEMENT_PORTS) | {("tcp", 4444), ("udp", 4444)}
    for fwd in plan.get("forwards") or []:
        ports.update((fwd["protocol"], p) for p in set(fwd["external_ports"]))
    for host in facts.hosts:
        for rule in facts.hosts[host].get("inbound") or []:
            ports.add((rule["protocol"], rule["ports"][0]))
    return sorted(ports)


def static_violations(plan: dict) -> list[str]:
    """What the plan's own data must satisfy, whatever a judge says (invariants 1, 5, 6)."""
    facts = _Facts(plan)
    found = []
    forwards = plan.get("forwards") or []
    if plan.get("remote_access") == "vpn" and forwards:
        found.append(f"5 vpn: remote access is vpn but the plan has {len(forwards)} forward(s)")
    for fwd in forwards:
        host = fwd.get("to_host")
        if host not in facts.hosts:
            found.append(f"1 internet: forward {fwd['name']} leads to {host!r}, which is no site host")
            continue
        named = {entry[3]: entry for entry in facts.named_ports(host)}
        entry = named.get(fwd.get("service"))
        if entry is None:
            found.append(f"1 internet: forward {fwd['name']} leads to {host} {fwd.get('service')!r}, which no "
                         "catalog or declared service of that host names")
        elif not ({"internet", "custom"} & entry[4]) and not _forwardable(facts, host, fwd.get("service")):
            found.append(f"1 internet: forward {fwd['name']} leads to {host} {fwd['service']}, which is not an "
                         "Internet-facing service (one gateway, not one forward per device)")
    for host in sorted(facts.hosts):
        names = {entry[3] for entry in facts.named_ports(host)}
        for rule in facts.hosts[host].get("inbound") or []:
            if rule.get("service") not in names:
                found.append(f"6 catalog: {host} opens {rule['protocol']}/{rule['ports'][0]} for "
                             f"{rule.get('component')}/{rule.get('service')}, which the {plan.get('product')} catalog "
                             "does not name for the host's components (or names as local-only / off)")
    return found


def _forwardable(facts: _Facts, host: str, service: str) -> bool:
    """Generic NVRs forward the services the inventory lists (seed 002); gateways their own."""
    svc = next((s for s in facts.services(host) if s.name == service), None)
    listed = bool(facts.catalog and facts.catalog.traits["forwarding"] == "listed_services")
    return bool(svc and (svc.forward_external or listed))


def violations(plan: dict, judge: Judge | None = None, vantages: list[dict] | None = None) -> list[str]:
    """Every broken invariant (empty when the site is safe). judge(source, destination, protocol, port)
    -> bool decides reachability: the plan's evaluator by default."""
    judge = judge or _plan_judge(plan)
    found = static_violations(plan)
    for probe in probes(plan, vantages):
        if probe["forbidden"] and judge(probe["source"], probe["destination"], probe["protocol"], probe["port"]):
            found.append(f"{probe['invariant']}: {probe['source']} -> {probe['destination']} "
                         f"{probe['protocol']}/{probe['port']} is reachable")
        elif probe.get("not_beyond") and judge(probe["source"], probe["destination"], probe["protocol"],
                                               probe["port"]) \
                and not judge(probe["not_beyond"], probe["destination"], probe["protocol"], probe["port"]):
            found.append(f"5 vpn: VPN peer {probe['source']} reaches {probe['destination']} {probe['protocol']}/"
                         f"{probe['port']}, which a client ({probe['not_beyond']}) cannot")
    return found


FORGED_OFFSET = 77  # a forged source is this address of a zone's network (no host holds it), else a sample


def _forged_sources(facts: _Facts, ingress_zone: str, outside: list[str]) -> list[tuple[str, str]]:
    """(address, zone it claims) for every zone other than the one the packet enters from."""
    out = []
    for zone in ("servers", "clients", "cameras", "dmz", "management", "vpn"):
        if zone == ingress_zone:
            continue
        for text in facts.zones.get(zone) or []:
            net = ipaddress.ip_network(text, strict=False)
            candidate = str(net.network_address + FORGED_OFFSET) if net.num_addresses > FORGED_OFFSET + 1 else None
            if candidate is None or candidate in facts.host_addresses or facts.classify(candidate) != zone:
                candidate = next(iter(facts.samples(zone)), None)
            if candidate and all(candidate != a for a, _ in out):
                out.append((candidate, zone))
    if ingress_zone != "internet":
        out += [(a, "internet") for a in outside if facts.classify(a) == "internet"]
    return out


def forged_probes(plan: dict, vantages: list[dict], outside: list[str] | None = None) -> list[dict[str, Any]]:
    """Invariant 7's tuples: from each vantage (the zone it sends from), one forged source per other
    zone (and an Internet address from inside zones) to every private address of every site host
    except the edge's own, on each port the host's plan rules open (the ports a forged source
    would be let in on, were it believed) and a stray one, TCP and UDP. Every one is forbidden.
    A destination in the vantage's own zone is left out: that traffic never crosses the edge.

    vantages: [{name, address}]; outside: Internet addresses to claim from inside zones (default
    the invariants' samples; the lab passes its own Internet network so no reply leaves the lab)."""
    facts = _Facts(plan)
    outside = list(outside if outside is not None else facts.internet_samples())
    out = []
    for v in vantages:
        zone = facts.classify(v["address"])
        sources = _forged_sources(facts, zone, outside)
        for host, h in sorted(facts.hosts.items()):
            dst = h.get("address")
            if not dst or host == facts.edge_host or (h.get("zone") or facts.classify(dst)) == zone:
                continue
            ports = {(r["protocol"], r["ports"][0]) for r in h.get("inbound") or []} | {("tcp", 4444), ("udp", 4444)}
            for src, claims in sources:
                for proto, port in sorted(ports):
                    out.append({"vantage": v.get("name", v["address"]), "ingress": zone, "source": src,
                                "claims": claims, "destination": dst, "host": host, "protocol": proto,
                                "port": port, "forbidden": True,
                                "invariant": f"7 ingress: a {claims} source entering from {zone} is forged"})
    return out
