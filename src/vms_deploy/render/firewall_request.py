"""The firewall team's request: every rule the site needs on the customer's firewall, to type in.

Written for every site beside router.csv (firewall-rules.csv and firewall-rules.md), and needed
most where vms-deploy manages no edge (vms_edge_backend router_sheet): then nothing vms-deploy runs
stands between the zones, and each boundary is as safe as the customer's firewall makes it.

Rendered from the neutral edge model (vms_deploy.edge.model.build, as the edge backends are), so
the rules are merged exactly as a managed edge merges them: one row per forward (DNAT from the
public address, with its allow-list) and one per merged zone flow (flows that differ only in their
destination host are one row whose destination is every such host), then per zone boundary the
default-deny row. Each allow row names the source zone with its networks or hosts, the destination
hosts and addresses, protocol, ports, service, purpose and the seed document the port comes from.
Boundaries and what is reachable across each if it is left open come from vms_deploy.boundaries
(through the one evaluator).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..boundaries import ZONES, boundaries, managed_edge
from ..catalog import load_catalog
from ..describe import sources
from ..edge import backend_of
from ..edge.model import EdgeModel, build
from ..plan_warnings import for_document, line
from ..ports import port_range
from ..zones import zone_index
from .escape import csv_cell, md

FILES = ("firewall-rules.csv", "firewall-rules.md")
COLUMNS = ("rule", "action", "from_zone", "sources", "source_hosts", "to_zone", "destinations", "destination_hosts",
           "protocol", "ports", "translate_to", "service", "purpose", "seed")
ANY = "any"
ORDER = ("internet", *ZONES)
CAMERA_SEED = ("seed 001: cameras are reached by the recording servers only; ports from vms_camera_ports (default HTTP "
               "and ONVIF 80, HTTPS 443, RTSP 554, as in seed 002; WS-Discovery UDP 3702, ONVIF's probe)")
MANAGEMENT_SEED = ("vms-deploy: administration from vms_management_networks and, on Windows hosts, "
                   "vms_win_controller_address (SSH, or WinRM on the port Ansible uses), not in the seeds")
CUSTOM_SEED = "the site's own service (vms_custom_services), not in the seeds"


@dataclass(frozen=True)
class Row:
    action: str  # forward | allow | deny
    from_zone: str
    sources: tuple[str, ...]
    to_zone: str
    destinations: tuple[str, ...]
    protocol: str = ANY
    ports: tuple[int, int] | None = None
    translate_to: str = ""
    service: str = ""
    purpose: str = ""
    seed: str = ""
    host: str = ""  # a forward's internal host


def _zone_order(zone: str) -> int:
    return ORDER.index(zone) if zone in ORDER else len(ORDER)


class Request:
    """The rows of one site's request, built once from its plan."""

    def __init__(self, plan: dict, model: EdgeModel | None = None):
        self.plan = plan
        self.model: EdgeModel = model or build(plan, None)
        self.zones = plan.get("zones") or {}
        self.hosts = plan.get("hosts") or {}
        self.by_address = {f"{h['address']}/32": n for n, h in sorted(self.hosts.items()) if h.get("address")}
        self.edge = managed_edge(plan)
        self.boundaries = {(b.from_zone, b.to_zone): b for b in boundaries(plan, model=self.model)}
        try:
            self.catalog = load_catalog(str(plan.get("product")))
        except KeyError:  # a hand-edited plan: rows without a seed reference
            self.catalog = None
        classify = zone_index(self.zones)
        self.forwards = [Row("forward", "internet", tuple(f.allowed_sources),
                             f.to_zone or self._host_zone(f.to_host, classify),
                             (f"{self.model.public_address}/32",) if self.model.public_address else (),
                             f.protocol, f.external_ports, f"{f.to_address}:{port_range(f.to_ports)}", f.service,
                             f.purpose, self.seed(f.component, f.service, ""), f.to_host)
                         for f in self.model.forwards]
        self.pairs: dict[tuple[str, str], list[Row]] = {pair: [] for pair in self.boundaries}
        for flow in self.model.flows:
            row = Row("allow", flow.from_zone, flow.source_cidrs, flow.to_zone, flow.destination_cidrs, flow.protocol,
                      flow.ports, "", flow.service, flow.purpose, self.seed(flow.component, flow.service, flow.to_zone))
            self.pairs.setdefault((flow.from_zone, flow.to_zone), []).append(row)
        self.pairs = dict(sorted(self.pairs.items(), key=lambda kv: (_zone_order(kv[0][0]), _zone_order(kv[0][1]))))

    def _host_zone(self, host: str, classify) -> str:
        entry = self.hosts.get(host) or {}
        return str(entry.get("zone") or classify(f"{entry.get('address')}/32"))

    def seed(self, component: str, service: str, to_zone: str) -> str:
        """Where the port comes from: the product's seed document, a camera or management rule, the site's own."""
        if to_zone == "cameras":
            return CAMERA_SEED
        if component == "management":
            return MANAGEMENT_SEED
        svc = self.catalog.services().get(service) if self.catalog else None
        if svc is None:
            return CUSTOM_SEED if component == "custom" else ""
        if svc.seed:
            return str(self.catalog.traits.get("seed_document") or "")
        return "vendor default chosen by vms-deploy (not in the seed document): check it against the vendor's manual"

    def deny(self, from_zone: str, to_zone: str) -> Row:
        return Row("deny", from_zone, tuple(self.zones.get(from_zone) or ()), to_zone,
                   tuple(self.zones.get(to_zone) or ()), purpose=f"default deny: no other traffic from {from_zone} "
                   f"to {to_zone}")

    def rows(self) -> list[Row]:
        """Every row in the request's order: forwards, the Internet's deny, then per boundary its allows and deny."""
        internal = tuple(c for z in ZONES for c in self.zones.get(z) or ())
        out = list(self.forwards)
        out.append(Row("deny", "internet", ("0.0.0.0/0",), "site", internal,
                       purpose="default deny: nothing from the Internet reaches the site but the forwards above"))
        for (a, b), allows in self.pairs.items():
            out += allows
            if a != "internet" and (a, b) in self.boundaries:
                out.append(self.deny(a, b))
        return out

    # --- words ---------------------------------------------------------------------------------
    def hosts_of(self, cidrs) -> str:
        """Host names when every address is a plan host, else ''."""
        names = [self.by_address.get(c) for c in cidrs]
        return ", ".join(names) if names and all(names) else ""

    def who(self, zone: str, cidrs) -> str:
        """A rule's sources or destinations as people name them: the hosts, or the zone's words."""
        names = self.hosts_of(cidrs)
        if names:
            return f"{names} ({sources(cidrs)})"
        if zone not in ("internet", "site") and list(cidrs) == list(self.zones.get(zone) or []):
            return f"zone {zone} ({sources(cidrs)})"
        return sources(cidrs, self.zones)


def _ports(row: Row) -> str:
    return ANY if row.ports is None else port_range(row.ports)


def _csv_rows(request: Request) -> list[dict]:
    out = []
    for number, row in enumerate(request.rows(), start=1):
        out.append({"rule": f"R{number}", "action": row.action, "from_zone": row.from_zone,
                    "sources": " ".join(row.sources), "source_hosts": request.hosts_of(row.sources),
                    "to_zone": row.to_zone, "destinations": " ".join(row.destinations),
                    "destination_hosts": request.hosts_of(row.destinations), "protocol": row.protocol.upper(),
                    "ports": _ports(row), "translate_to": row.translate_to, "service": row.service,
                    "purpose": row.purpose, "seed": row.seed})
    return out


def to_csv(plan: dict, request: Request | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in _csv_rows(request or Request(plan)))
    return out.getvalue()


def _intro(request: Request) -> list[str]:
    backend = backend_of(request.plan)
    if request.edge:
        return [(f"The managed edge host {md(request.edge)} enforces these rules itself (edge backend {md(backend)}): "
                 "this is the same policy, for your records or for a firewall in front of it."), ""]
    return [(f"vms-deploy manages no firewall between this site's zones (edge backend {md(backend)}): each boundary "
             "below is only as closed as your firewall makes it. The host firewalls vms-deploy sets up filter what "
             "reaches the managed hosts; everything else in a zone is reachable from the other zones unless your "
             "firewall denies it."), ""]


def _table(request: Request, rows: list[tuple[int, Row]], forward: bool = False) -> list[str]:
    if forward:
        head = ("rule", "protocol", "public address and port", "translate to", "host", "allowed sources", "service",
                "purpose", "seed")
    else:
        head = ("rule", "sources", "destinations", "protocol", "ports", "service", "purpose", "seed")
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for number, row in rows:
        if forward:
            public = row.destinations[0].removesuffix("/32") if row.destinations else "(no public address)"
            cells = (f"R{number}", row.protocol.upper(), f"{public} {_ports(row)}", row.translate_to, row.host,
                     sources(row.sources), row.service, row.purpose, row.seed)
        else:
            cells = (f"R{number}", request.who(row.from_zone, row.sources), request.who(row.to_zone, row.destinations),
                     row.protocol.upper(), _ports(row), row.service, row.purpose, row.seed)
        lines.append("| " + " | ".join(md(c) for c in cells) + " |")
    return lines + [""]


def _boundary_note(request: Request, pair: tuple[str, str]) -> str:
    b = request.boundaries.get(pair)
    if b is None:
        return ("These zones share one network: no firewall between zones stands in the way, and the host firewalls "
                "vms-deploy sets up enforce these rows.")
    if b.managed_edge:
        return f"Enforced by the managed edge host {md(b.managed_edge)}."
    if b.unmanaged:
        return (f"If this boundary is left open, the {md(b.from_zone)} zone reaches "
                f"{md(sources(b.unmanaged, request.zones))} on every port (no vms-deploy firewall stands there).")
    return f"Every address of the {md(b.to_zone)} zone is a managed host: their own firewalls deny the rest too."


def to_markdown(plan: dict, request: Request | None = None) -> str:
    request = request or Request(plan)
    numbered = list(enumerate(request.rows(), start=1))
    lines = [f"# Firewall rules request: site {md(plan.get('site'))}", ""]
    lines += _intro(request)
    lines += ["One row per rule; each rule allows new connections from its sources to its destinations (replies "
              "belong to the connection). firewall-rules.csv holds the same rows with every address exact.", "",
              "## Zones", "", "| zone | networks |", "| --- | --- |"]
    lines += [f"| {md(z)} | {md(', '.join(request.zones.get(z) or []))} |" for z in ZONES if request.zones.get(z)]
    lines += ["", "## From the Internet: port forwards (DNAT)", ""]
    forwards = [(n, r) for n, r in numbered if r.action == "forward"]
    if forwards:
        lines += ["Translate the public address and port to the internal one, for the allowed sources only:", ""]
        lines += _table(request, forwards, forward=True)
    else:
        lines += ["No port is forwarded from the Internet for this site.", ""]
    internet_deny = next(n for n, r in numbered if r.action == "deny" and r.from_zone == "internet")
    lines += [f"R{internet_deny}: deny everything else from the Internet to the site's zones.", ""]
    lines += ["## Between zones", ""]
    for pair in request.pairs:
        a, b = pair
        lines += [f"### {md(a)} -> {md(b)}", ""]
        rows = [(n, r) for n, r in numbered if r.action == "allow" and (r.from_zone, r.to_zone) == pair]
        if rows:
            lines += _table(request, rows)
        else:
            lines += ["Nothing is allowed.", ""]
        deny = next((n for n, r in numbered if r.action == "deny" and (r.from_zone, r.to_zone) == pair), None)
        if deny is not None:
            lines += [f"R{deny}: deny all other traffic from {md(a)} to {md(b)}.", ""]
        lines += [_boundary_note(request, pair), ""]
    lines += ["## From the site to the Internet", "",
              ("The plan allows no connection from the site's zones to the Internet (a managed edge drops it). Allow "
               "only what your own policy requires."), ""]
    # A boundary's own warning is its note above (the same residual risk): the rest are listed here.
    labels = tuple(f"{b.label} " for b in request.boundaries.values())
    warnings = [w for w in for_document(plan.get("warnings") or (), "firewall_request")
                if not w["text"].startswith(labels)]
    if warnings:
        lines += ["## Warnings about the firewall", ""] + [f"- {md(line(w, with_group=False))}" for w in warnings]
        lines.append("")
    lines += ["## Sign-off", "", "Firewall (make, model): ______________________________", "",
              "Implemented by: ______________________  Date: ____________  Change reference: ____________", "",
              "Signature: ______________________________", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render(plan: dict, model: EdgeModel | None = None) -> dict[str, str]:
    """{"firewall-rules.csv": ..., "firewall-rules.md": ...} (written beside router.csv by plan_io).
    model: the plan's edge model (build(plan, None)) when the caller has it: a 1000-recorder site's
    takes seconds to build, so both files (and the router sheet, in plan_io) share one."""
    request = Request(plan, model)
    return {"firewall-rules.csv": to_csv(plan, request), "firewall-rules.md": to_markdown(plan, request)}
