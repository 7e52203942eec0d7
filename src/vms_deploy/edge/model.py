"""The neutral edge model: what every edge backend renders, built once from the plan.

`build(plan, host=None)` shapes the plan's edge part into plain data a backend only has to write
in its own syntax (nftables, a router sheet, later RouterOS address lists or OPNsense aliases):

- named address sets (`AddressSet`): the management networks, one set per zone, `internal` (every
  zone but the internet), each forward's allow-list and each merged flow's sources and destinations;
  identical lists share one set, a list of several plan hosts is named after them (`hosts_recorder`);
- the edge's own input services (`InputService`): management, the services the plan opens on the
  edge host, the WireGuard listen port (only when the plan has an edge host);
- the port forwards (`Forward`): DNAT from the public address, for sources outside the site only
  (`internal` is never DNAT'ed: no hairpin NAT, except the client zone with `nat_reflection`),
  limited to the forward's allow-list;
- the zone flows that cross the edge (`Flow`), merged by destination: flows that differ only in
  their destination become one flow whose destination set is the union. Only flows with the same
  (collapsed) source list are merged, so sources x union(destinations) is exactly the union of the
  flows, never a wider cross product. A flow from the internet zone is for sources outside the site
  only (`outside_only`) and exists only towards `routed_public` hosts;
- `routed_public`: the hosts the Internet is routed to directly (vms_routed_public).

The model refuses a plan that breaks the edge's contract (see vms_deploy.edge): an Internet flow to
a host that is not routed_public, a flow into the camera zone from anything but a recorder.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..render.nft_common import (
    RenderError,
    SetNamer,
    collapse,
    input_rules,
    management_sources,
    set_name,
)
from .backends import backend_of

INTERNAL_SET = "internal"
MANAGEMENT_SET = "mgmt_sources"
CAMERA_CLIENTS = ("recorder", "failover_recorder")  # the only components that may reach the cameras


@dataclass(frozen=True)
class AddressSet:
    """A named list of IPv4 networks (collapsed: no network inside another)."""
    name: str
    cidrs: tuple[str, ...]
    comment: str


@dataclass(frozen=True)
class InputService:
    """A port of the edge itself. kind: management | service | vpn; sources: a set name, None for any."""
    kind: str
    protocol: str
    ports: tuple[int, int]
    sources: str | None
    comment: str


@dataclass(frozen=True)
class Forward:
    """A DNAT port forward from the public address, for sources outside the site only.

    sources: the set holding the allow-list; allowed_sources: the plan's list as written (a router
    sheet shows it)."""
    name: str
    protocol: str
    external_ports: tuple[int, int]
    to_host: str
    to_address: str
    to_ports: tuple[int, int]
    sources: str
    allowed_sources: tuple[str, ...]
    component: str
    service: str
    purpose: str
    to_zone: str = ""  # the destination host's zone (a vendor edge picks the egress interface by it)


@dataclass(frozen=True)
class Flow:
    """A merged zone flow the edge routes: sources x destinations on protocol/ports.

    outside_only: a flow from the internet zone matches only sources outside every site zone
    (its sources are often 0.0.0.0/0, which must not let cameras or clients in)."""
    from_zone: str
    to_zone: str
    protocol: str
    ports: tuple[int, int]
    sources: str
    destinations: str
    source_cidrs: tuple[str, ...]
    destination_cidrs: tuple[str, ...]
    to_hosts: tuple[str, ...]
    component: str
    service: str
    outside_only: bool
    purpose: str = ""  # the plan's words for it (a firewall request shows them)

    @property
    def comment(self) -> str:
        return f"{self.from_zone}->{self.to_zone} {self.component}/{self.service}"


@dataclass(frozen=True)
class Vpn:
    listen_port: int
    network: str
    edge_address: str | None


@dataclass(frozen=True)
class EdgeModel:
    site: str
    product: str
    backend: str
    host: str | None  # the managed edge host, None for a router vms-deploy does not manage
    public_address: str | None
    remote_access: str
    sets: tuple[AddressSet, ...]
    internal: str
    management: str
    input_services: tuple[InputService, ...]
    forwards: tuple[Forward, ...]
    flows: tuple[Flow, ...]
    routed_public: tuple[str, ...]
    vpn: Vpn | None
    warnings: tuple[str, ...]
    # site zone -> the edge device's interface (or FortiGate zone) for it, from vms_edge_interfaces on the
    # edge host (plan edge.interfaces); what a vendor backend binds its rules to. Empty for the others.
    interfaces: tuple[tuple[str, str], ...] = ()
    policy_id_base: int | None = None  # a FortiGate's first policy id (vms_edge_policy_id_base), when set
    # vms_nat_reflection: clients on the LAN reach the forwards through the public address (nftables only).
    nat_reflection: bool = False

    def address_set(self, name: str) -> AddressSet:
        for entry in self.sets:
            if entry.name == name:
                return entry
        raise KeyError(f"no address set {name!r} in the edge model of site {self.site!r}")


# --- Flow shaping (plain dicts, as in the plan) ----------------------------------------------

def crosses_edge(flow: dict, edge_host: str | None) -> bool:
    """Does the edge's forward chain hold this zone flow? Same-zone flows never cross the edge (host
    firewalls enforce them); flows to the edge itself belong to its input chain. The evaluator asks
    this too (vms_deploy.evaluate)."""
    return not (flow["from"] == flow["to"] or flow["to"] == "edge"
                or (flow.get("to_host") and flow.get("to_host") == edge_host))


def dedup_flows(flows: list[dict], edge_host: str | None) -> list[dict]:
    """The flows that cross the edge, each once, in a stable order."""
    seen, out = set(), []
    for f in flows:
        if not crosses_edge(f, edge_host):
            continue
        key = (f["from"], f["to"], tuple(sorted(f["sources"])), tuple(sorted(f["destinations"])),
               f["protocol"], tuple(f["ports"]), f.get("service", ""))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=lambda f: (f["from"], f["to"], f["ports"][0], f["ports"][1], f["protocol"],
                                      f.get("service", ""), sorted(f["destinations"])))


def merge_flows(flows: list[dict]) -> list[dict]:
    """One flow per (zones, component, service, protocol, ports, source list): destinations are united.

    The key holds the collapsed source list (what the source set will contain), so two flows are
    merged only when they accept the same sources: sources x (D1 | D2) == (sources x D1) | (sources x D2).
    A merged flow lists its destination hosts in "to_hosts"; "to_host" is None when there are several.
    """
    merged: dict[tuple, dict] = {}
    collapsed: dict[tuple, tuple] = {}  # every recorder's flows carry the same source lists
    for f in flows:
        sources = tuple(f["sources"])
        if sources not in collapsed:
            collapsed[sources] = tuple(collapse(sources))
        key = (f["from"], f["to"], f.get("component", ""), f.get("service", ""), f["protocol"], tuple(f["ports"]),
               collapsed[sources])
        if key in merged:
            merged[key]["destinations"].extend(f["destinations"])  # collapsed once, below
            if f.get("to_host"):
                merged[key]["to_hosts"].append(f["to_host"])
            if merged[key].get("to_host") != f.get("to_host"):  # several hosts: name the set after the service
                merged[key]["to_host"] = None
                merged[key]["dst_label"] = f.get("component") or f.get("service") or f["to"]
        else:
            merged[key] = {**f, "destinations": list(f["destinations"]),
                           "to_hosts": [f["to_host"]] if f.get("to_host") else []}
    for flow in merged.values():
        flow["destinations"] = collapse(flow["destinations"])
        flow["to_hosts"] = sorted(set(flow["to_hosts"]))
    return sorted(merged.values(), key=lambda f: (f["from"], f["to"], f["ports"][0], f["ports"][1], f["protocol"],
                                                  f.get("service", ""), f["sources"], f["destinations"]))


class HostSets:
    """Names the sets of several plan hosts (what merging per-host flows produces), so that a
    ruleset reads like the inventory: every host running a component is `hosts_<component>`
    (`hosts_recorder`), a short list is named after its hosts (`hosts_rec1_rec2`), a long one after
    the flow's component; the comment names the hosts. Zones, single hosts and anywhere keep
    SetNamer's names."""

    def __init__(self, namer: SetNamer, hosts: dict):
        self.namer = namer
        self.by_addr = {f"{h['address']}/32": name for name, h in sorted(hosts.items()) if h.get("address")}
        self.by_component: dict[str, set] = {}
        for name, h in sorted(hosts.items()):
            for comp in h.get("components") or []:
                self.by_component.setdefault(comp, set()).add(name)

    def name_for(self, cidrs: list[str], flow: dict, fallback: str, prefix: str) -> str:
        key = collapse(cidrs)
        names = sorted(self.by_addr.get(c) or "" for c in key)
        if len(key) < 2 or not all(names):
            return self.namer.name_for(cidrs, fallback, prefix)
        exact = [c for c in sorted(self.by_component) if self.by_component[c] == set(names)]
        if exact:
            label = exact[0]
        elif len("_".join(names)) <= 40:
            label = "_".join(names)
        else:
            label = "managed" if flow.get("component") == "management" else (flow.get("component") or fallback)
        shown = names[:1]
        for name in names[1:]:  # as many names as fit a comment, then how many more
            if len(", ".join(shown + [name])) > 80:
                break
            shown.append(name)
        more = f", ... ({len(names) - len(shown)} more)" if len(shown) < len(names) else ""
        return self.namer.name_for(key, label, "hosts", f"{len(names)} hosts: {', '.join(shown)}{more}")


# --- The contract, checked on the plan's flows ---------------------------------------------

def _check_contract(flows: list[dict], hosts: dict) -> None:
    recorders = {f"{h['address']}/32" for h in hosts.values()
                 if h.get("address") and set(CAMERA_CLIENTS) & set(h.get("components") or [])}
    for f in flows:
        what = f"zone flow {f['from']}->{f['to']} {f.get('component', '')}/{f.get('service', '')}"
        if f["from"] == "internet":
            target = hosts.get(f.get("to_host") or "") or {}
            if not target.get("routed_public"):
                raise RenderError(
                    f"{what} to {f.get('to_host') or ', '.join(f['destinations'])}: the Internet is routed only to "
                    "hosts with vms_routed_public: true; reach this host through a port forward of the public "
                    "address, or set vms_routed_public: true on it if its own address is public")
        if f["to"] == "cameras":
            strangers = [c for c in collapse(f["sources"]) if c not in recorders]
            if strangers:
                raise RenderError(
                    f"{what}: only recorders may reach the camera networks, but the flow admits "
                    f"{', '.join(strangers[:5])}; remove these sources (cameras are reached by recorders only)")


# --- The model ----------------------------------------------------------------------------------

def _pair(ports) -> tuple[int, int]:
    first, last = ports
    return int(first), int(last)


def build(plan: dict, host: str | None = None, backend: str | None = None) -> EdgeModel:
    """The edge model of `plan`. host: the managed edge host (plan.edge.host for a backend that
    manages it, None for a router vms-deploy does not manage); the edge's own input services are in
    the model only with a host. backend: recorded in the model (default the plan's).

    Set names are given in one fixed order (management, zones, internal, the edge's input services,
    forwards by name, merged flows), so a backend's output is byte-stable."""
    edge = plan.get("edge") or {}
    hosts = plan.get("hosts") or {}
    if host is not None and host not in hosts:
        known = ", ".join(sorted(hosts)) or "none"
        raise RenderError(f"host {host!r} is not in the plan of site {plan.get('site')!r} (hosts: {known}); "
                          "add it to one of the vms_* groups or run the play on plan hosts only")
    public = edge.get("public_address")
    forwards = plan.get("forwards") or []
    if forwards and host is not None and not public:
        raise RenderError(f"edge host {host!r}: the plan has port forwards but no public address; "
                          "set vms_public_address on the edge host (its Internet-facing address)")
    if public:
        try:
            ipaddress.ip_address(public)
        except ValueError:
            raise RenderError(f"edge.public_address {public!r} is not an IP address; set vms_public_address on the "
                              "edge host to its Internet-facing IPv4 address") from None

    zones = plan.get("zones") or {}
    src = SetNamer("src", zones, hosts)
    mgmt = src.register(MANAGEMENT_SET, management_sources(plan), "management networks")
    internal: list[str] = []
    for zone in sorted(zones):
        if zone != "internet":
            src.register(set_name("zone", zone), zones[zone] or [], f"zone {zone}")
            internal += zones[zone] or []
    src.register(INTERNAL_SET, internal, "every zone but the internet")

    services: list[InputService] = []
    if host is not None:
        services = [InputService(r["kind"], r["protocol"], _pair(r["ports"]), r["sources"], r["comment"])
                    for r in input_rules(plan, host, src, mgmt)]
    vpn = None
    if plan.get("vpn"):
        raw = plan["vpn"]
        vpn = Vpn(int(raw["listen_port"]), str(raw.get("network") or ""), raw.get("edge_address"))
        if host is not None:
            # WireGuard answers nothing to unauthenticated packets, so its port is open to all.
            services.append(InputService("vpn", "udp", (vpn.listen_port, vpn.listen_port), None, "vpn"))

    names = {f["name"]: src.name_for(f["sources"], f["service"]) for f in sorted(forwards, key=lambda f: f["name"])}
    model_forwards = tuple(
        Forward(f["name"], f["protocol"], _pair(f["external_ports"]), f["to_host"], f["to_address"],
                _pair(f["to_ports"]),
                names[f["name"]], tuple(f["sources"]), f.get("component", ""), f.get("service", ""),
                f.get("purpose", ""), str((hosts.get(f["to_host"]) or {}).get("zone") or ""))
        for f in forwards)

    crossing = dedup_flows(plan.get("zone_flows") or [], host)
    _check_contract(crossing, hosts)
    host_sets = HostSets(src, hosts)
    flows = []
    for flow in merge_flows(crossing):
        s = host_sets.name_for(flow["sources"], flow, flow.get("service") or flow["from"], "src")
        d = host_sets.name_for(flow["destinations"], flow, flow.get("to_host") or flow.get("dst_label") or flow["to"],
                               "dst")
        flows.append(Flow(flow["from"], flow["to"], flow["protocol"], _pair(flow["ports"]), s, d,
                          tuple(collapse(flow["sources"])), tuple(flow["destinations"]), tuple(flow["to_hosts"]),
                          flow.get("component", ""), flow.get("service", ""), flow["from"] == "internet",
                          flow.get("purpose", "")))

    return EdgeModel(
        site=str(plan.get("site")), product=str(plan.get("product")),
        backend=backend or backend_of(plan), host=host, public_address=public,
        remote_access=str(plan.get("remote_access") or "none"),
        sets=tuple(AddressSet(name, tuple(cidrs), comment) for name, cidrs, comment in src.sets),
        internal=INTERNAL_SET, management=mgmt, input_services=tuple(services), forwards=model_forwards,
        flows=tuple(flows), routed_public=tuple(sorted(n for n, h in hosts.items() if h.get("routed_public"))),
        vpn=vpn, warnings=tuple(plan.get("warnings") or ()),
        interfaces=tuple(sorted((str(z), str(i)) for z, i in (edge.get("interfaces") or {}).items())),
        policy_id_base=edge.get("policy_id_base"), nat_reflection=bool(edge.get("nat_reflection")))
