"""Zone boundaries: which ones vms-deploy enforces, and what is reachable across the others.

A site's zones (dmz, servers, clients, cameras, management, vpn) are separate networks, so traffic
from one to another crosses whatever routes between them. A managed edge (an edge backend with
MANAGED_EDGE, the nftables edge) filters every such boundary: default drop, the plan's zone flows
allowed. Without one (the router_sheet backend) nothing vms-deploy runs stands on the boundary:
the host firewalls filter what reaches the managed hosts, and the rest of the zone (cameras,
client PCs, servers vms-deploy does not manage) is reachable on every port unless the customer's
own firewall between the zones denies it. That is the residual risk of the boundary.

`boundaries(plan)` lists every ordered pair of zones A -> B that the plan has networks for, and
for each asks the one evaluator (vms_deploy.evaluate, as `vms-deploy check` does), from sample
addresses of A:
- `unmanaged`: the addresses of B that no managed host holds and that the evaluator lets A reach
  with no rule of vms-deploy admitting it (so: on every port);
- `planned`: the zone flows A -> B, merged as the edge model merges them (vms_deploy.edge.model):
  the rows of the firewall request the customer's firewall must allow.
A boundary `depends_on_customer` when there is no managed edge and `unmanaged` is not empty: the
plan warns once per such boundary (compiler) and the report says what is reachable. The Internet is
no such zone: a NAT router routes in only the forwards it is given (the router sheet), which the
evaluator says for any Internet source.

Sample addresses: one per network of a zone (its first usable address that the zone classifier puts
in the zone) and the zone's first managed hosts. The evaluator decides for each; which samples are
tried never decides a verdict.
"""
from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass

from .edge import backend, backend_of, build
from .edge.model import EdgeModel, Flow
from .evaluate import evaluate
from .zones import without, zone_index

ZONES = ("dmz", "servers", "clients", "cameras", "management", "vpn")  # the internal zones, in reading order
MAX_SAMPLES = 4  # sample source addresses per zone
PROBE = (("tcp", 3389), ("udp", 161))  # ports no VMS service uses: allowed with no rule = nothing filters


@dataclass(frozen=True)
class Boundary:
    from_zone: str
    to_zone: str
    managed_edge: str | None          # the edge host that filters this boundary, None without one
    unmanaged: tuple[str, ...]        # CIDRs of to_zone reachable from from_zone with no vms-deploy filter
    planned: tuple[Flow, ...]         # the edge model's merged flows across it (the firewall request's rows)

    @property
    def name(self) -> str:
        return f"{self.from_zone} -> {self.to_zone}"

    @property
    def label(self) -> str:
        """How warnings and documents name it: "zone boundary dmz -> servers"."""
        return f"zone boundary {self.name}"

    @property
    def depends_on_customer(self) -> bool:
        return self.managed_edge is None and bool(self.unmanaged)


def present_zones(plan: dict) -> list[str]:
    """The internal zones the plan has networks for, in ZONES order."""
    zones = plan.get("zones") or {}
    return [z for z in ZONES if zones.get(z)]


def managed_edge(plan: dict) -> str | None:
    """The edge host that filters between zones, or None (a router vms-deploy does not manage)."""
    host = (plan.get("edge") or {}).get("host")
    try:
        managed = backend(backend_of(plan)).MANAGED_EDGE
    except ValueError:  # a hand-edited plan naming no known backend: nothing known to filter
        return None
    return host if managed and host in (plan.get("hosts") or {}) else None


def _first_address(net: ipaddress.IPv4Network) -> str:
    return str(net.network_address + (1 if net.num_addresses > 2 else 0))


def _samples(plan: dict, zone: str, classify) -> list[str]:
    """Addresses of `zone` to evaluate from: its networks' first addresses, then its managed hosts."""
    out: list[str] = []
    for text in (plan.get("zones") or {}).get(zone) or []:
        net = ipaddress.ip_network(text, strict=False)
        for address in (_first_address(net), str(net.broadcast_address - (1 if net.num_addresses > 2 else 0))):
            if classify(address + "/32") == zone and address not in out:
                out.append(address)
                break
        if len(out) >= MAX_SAMPLES:
            return out
    hosts = [h["address"] for _, h in sorted((plan.get("hosts") or {}).items())
             if h.get("zone") == zone and h.get("address")]
    for address in hosts[:MAX_SAMPLES]:
        if address not in out:
            out.append(address)
    return out


def unmanaged_networks(plan: dict, zone: str) -> list[str]:
    """The addresses of `zone` that no managed host holds and no more specific zone takes."""
    zones = plan.get("zones") or {}
    own = [ipaddress.ip_network(c, strict=False) for c in zones.get(zone) or []]
    taken = [f"{h['address']}/32" for h in (plan.get("hosts") or {}).values() if h.get("address")]
    spans = sorted((int(n.network_address), int(n.broadcast_address), n.prefixlen) for n in own)
    firsts = [first for first, _, _ in spans]
    for other, cidrs in zones.items():
        if other in (zone, "internet"):
            continue
        for text in cidrs or []:
            net = ipaddress.ip_network(text, strict=False)
            low, high = int(net.network_address), int(net.broadcast_address)
            # Longest prefix wins: a network of another zone strictly inside one of ours takes its addresses.
            if any(first <= low and high <= last and length < net.prefixlen
                   for first, last, length in spans[:bisect.bisect_right(firsts, low)]):
                taken.append(str(net))
    return without([str(n) for n in own], taken)


def _unfiltered(plan: dict, sources: list[str], target: str) -> bool:
    """Does the evaluator let a sample source reach `target` with no plan rule admitting it (so on
    any port: nothing vms-deploy runs filters it)?"""
    for source in sources:
        verdicts = [evaluate(plan, source, target, port, protocol) for protocol, port in PROBE]
        if all(v.allowed and not v.rules for v in verdicts):
            return True
    return False


def _reachable(plan: dict, zone: str, sources: list[str], pieces: list[str], classify) -> tuple[str, ...]:
    """The unmanaged pieces of `zone` the evaluator lets `sources` reach: one verdict per network of
    the zone (its pieces share it: same zone, no managed host), on the first address of its first piece."""
    out: list[str] = []
    nets = [ipaddress.ip_network(c, strict=False) for c in (plan.get("zones") or {}).get(zone) or []]
    by_net: dict[int, list[str]] = {}
    for piece in pieces:
        net = ipaddress.ip_network(piece)
        index = next((i for i, own in enumerate(nets) if net.subnet_of(own)), 0)
        by_net.setdefault(index, []).append(piece)
    for _, group in sorted(by_net.items()):
        target = _first_address(ipaddress.ip_network(group[0]))
        if classify(target + "/32") != zone:
            continue
        if _unfiltered(plan, [s for s in sources if classify(s + "/32") != zone], target):
            out.extend(group)
    return tuple(out)


def _nested(inner: list, outer: list) -> bool:
    """Every network of one zone lies inside the other's: one network segment, no boundary to filter
    (a host given its own zone inside the client LAN, as a home NVR is)."""
    return all(any(n.subnet_of(o) for o in outer) for n in inner)


def boundaries(plan: dict, rows: bool = True, model: EdgeModel | None = None) -> list[Boundary]:
    """Every ordered pair of the plan's zones that are different networks (neither inside the
    other), with what crosses it. rows=False leaves `planned` empty (the compiler's warnings need
    only the residual risk: building the edge model of a 1000-recorder site costs seconds); model:
    the plan's edge model when the caller has built it (build(plan, None))."""
    zones = present_zones(plan)
    classify = zone_index(plan.get("zones") or {})
    edge = managed_edge(plan)
    flows: dict[tuple[str, str], list[Flow]] = {}
    for flow in (model or build(plan, None)).flows if rows else ():
        flows.setdefault((flow.from_zone, flow.to_zone), []).append(flow)
    samples = {z: _samples(plan, z, classify) for z in zones}
    unmanaged = {z: unmanaged_networks(plan, z) for z in zones}
    out = []
    nets = {z: [ipaddress.ip_network(c, strict=False) for c in (plan.get("zones") or {})[z]] for z in zones}
    for a in zones:
        for b in zones:
            if a == b or not samples[a] or _nested(nets[a], nets[b]) or _nested(nets[b], nets[a]):
                continue
            reachable = () if edge else _reachable(plan, b, samples[a], unmanaged[b], classify)
            out.append(Boundary(a, b, edge, reachable, tuple(flows.get((a, b), ()))))
    return out


def unenforced(plan: dict) -> list[Boundary]:
    """The boundaries whose security depends on the customer's firewall (the residual risk), without
    their rows; none behind a managed edge (asked first: the compiler asks this of every plan)."""
    if managed_edge(plan):
        return []
    return [b for b in boundaries(plan, rows=False) if b.depends_on_customer]
