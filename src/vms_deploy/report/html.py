"""One self-contained HTML page per site: everything inline, readable without Ansible.

Sections follow what the people on site need: the summary and warnings for the reviewer, the
picture of the zones and the flows between them, one host table per zone, the router sheet for
whoever configures the Internet router (name, protocol, external port, internal address and port,
as in the vendors' port-forwarding guides), each host's detail (its ports, what holds for the ports
it does not list, its plan digest: open on demand, always printed), what vms-deploy does not own
(vms_deploy.claims), the zone networks and inter-zone flows, and the provenance and approval block
(vms_deploy.provenance). The page prints on A4 and Letter (@page margins 15 mm; the picture is
sized for it, report/graph.py).
"""
from __future__ import annotations

from html import escape
from typing import Any

from vms_deploy import plan_warnings
from vms_deploy import provenance as _provenance
from vms_deploy.boundaries import boundaries, managed_edge
from vms_deploy.claims import all_host_claims, grouped, site_claims
from vms_deploy.describe import sources
from vms_deploy.diff import fmt_ports
from vms_deploy.edge import backend_of
from vms_deploy.plan_io import host_digest

CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
h3{margin-bottom:.3em}table{border-collapse:collapse;margin:.5em 0 1em;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f2f2f2}td.num{font-family:monospace;white-space:nowrap}
.warn{background:#fff4e5;border-left:4px solid #e69500;padding:.5em 1em}
.meta td:first-child{font-weight:bold;width:14em}.picture{overflow:auto;border:1px solid #ddd;padding:.5em}
.picture svg{max-width:100%;height:auto}footer{margin-top:2em;color:#777;font-size:.85em}
td.ports{font-family:monospace;font-size:.85em}.closed{color:#1b5e20}.notclosed{color:#8a4b00}
details{margin:.3em 0;border:1px solid #ddd;padding:.2em .6em}
summary{cursor:pointer;font-weight:bold}ul.owned li{margin:.2em 0}ul.digests{columns:3;list-style:none;padding:0}
table.approval td{height:2.2em}section.provenance{margin-top:2em;border-top:2px solid #ddd}
@page{margin:15mm}
@media print{body{margin:0;max-width:none;font-size:10pt}.picture{border:none;padding:0;break-inside:avoid}
h2,h3{break-after:avoid}section.figure,section.provenance{break-inside:avoid}tr,details{break-inside:avoid}summary{list-style:none}}
"""


def _table(headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> str:
    if not rows:
        return "<p>none</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f"<td class=\"num\">{escape(str(c))}</td>" if i in numeric else f"<td>{escape(str(c))}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(plan: dict[str, Any]) -> str:
    edge = plan.get("edge") or {}
    rows = [["site", plan.get("site")], ["product", plan.get("product")], ["topology", plan.get("topology")],
            ["remote access", plan.get("remote_access")],
            ["edge host", edge.get("host") or "none (router not managed)"],
            ["public address", edge.get("public_address") or "unknown"],
            ["hosts", str(len(plan.get("hosts", {})))], ["port forwards", str(len(plan.get("forwards", [])))]]
    cells = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class=\"meta\">{cells}</table>"


def _warnings(plan: dict[str, Any]) -> str:
    """Every plan warning, once, under the group of whoever acts on it, each with its fix."""
    groups = plan_warnings.grouped(plan.get("warnings") or [])
    if not groups:
        return ""
    parts = ["<h2 id=\"warnings\">Warnings</h2><div class=\"warn\">"]
    for group, entries in groups:
        items = "".join(f"<li>{escape(w['text'])}" + (f"<br><b>Fix:</b> {escape(w['fix'])}" if w["fix"] else "")
                        + "</li>" for w in entries)
        parts.append(f"<h3 id=\"warnings-{group}\">{escape(plan_warnings.TITLES[group])}</h3><ul>{items}</ul>")
    return "".join(parts) + "</div>"


def _words(plan: dict[str, Any], cidrs) -> str:
    """Sources in words, exact (vms_deploy.describe): "anywhere except the camera network ..."."""
    return sources(cidrs, plan.get("zones") or {})


def _router_sheet(plan: dict[str, Any]) -> str:
    from ..edge import backend, backend_of, build  # the edge model: the forwards every edge backend sets up

    name = backend_of(plan)
    model = build(plan, None, backend=name)
    rows = [[f.name, f.protocol.upper(), fmt_ports(f.external_ports), f.to_address, fmt_ports(f.to_ports),
             _words(plan, f.allowed_sources), f.to_host, f.purpose] for f in model.forwards]
    public = escape(str(model.public_address or "unknown"))
    edge_host = (plan.get("edge") or {}).get("host")
    if backend(name).MANAGED_EDGE and edge_host:
        intro = (f"<p>The edge host {escape(str(edge_host))} applies these forwards from the public address {public} "
                 f"(edge backend {escape(name)}); nothing is typed by hand.</p>")
    else:
        intro = f"<p>Configure these forwards on the Internet router (public address {public}). Do not enable UPnP.</p>"
    if plan.get("remote_access") == "vpn":
        intro = "<p>Remote access is by VPN: the router needs no port forwards besides the VPN port below.</p>"
    return intro + _table(["name", "protocol", "external port", "internal IP", "internal port", "allowed sources",
                           "host", "purpose"], rows, numeric=(2, 3, 4))


def _host_rows(plan: dict[str, Any], hv: dict[str, Any]) -> list[list[str]]:
    return [[r["protocol"].upper(), fmt_ports(r["ports"]), _words(plan, r["sources"]), r.get("component", ""),
             r.get("service", ""), r.get("purpose", "")] for r in hv.get("inbound", [])]


def _unlisted_cell(claims) -> str:
    return ("<span class=\"closed\">closed</span>" if claims.closed else
            "<span class=\"notclosed\">not opened by vms-deploy; other Windows rules may open them</span>")


def _zone_tables(plan: dict[str, Any], claims: dict[str, Any]) -> str:
    """One table per zone: the hosts in it, what they run, how many ports are open, what holds for the rest."""
    by_zone: dict[str, list[str]] = {}
    for name, hv in sorted(plan.get("hosts", {}).items()):
        by_zone.setdefault(str(hv.get("zone")), []).append(name)
    parts = []
    for zone in sorted(by_zone, key=lambda z: (_ZONE_RANK.get(z, 99), z)):
        cidrs = ", ".join((plan.get("zones") or {}).get(zone, [])) or "no declared network"
        rows = []
        for name in by_zone[zone]:
            hv = plan["hosts"][name]
            ports = sorted({f"{r['protocol']}/{fmt_ports(r['ports'])}" for r in hv.get("inbound", [])},
                           key=lambda t: (int(t.split("/")[1].split("-")[0]), t))
            shown = ", ".join(ports[:8]) + (f" +{len(ports) - 8}" if len(ports) > 8 else "")
            rows.append(f"<tr><td><a href=\"#host-{escape(name)}\">{escape(name)}</a></td>"
                        f"<td class=\"num\">{escape(str(hv.get('address')))}</td><td>{escape(str(hv.get('platform')))}"
                        f"</td><td>{escape(', '.join(hv.get('components', [])))}</td><td class=\"ports\">"
                        f"{escape(shown or 'none')}</td><td>{_unlisted_cell(claims[name])}</td></tr>")
        parts.append(f"<h3>zone {escape(zone)} <small>{escape(cidrs)}, {len(rows)} host{'s' if len(rows) != 1 else ''}"
                     "</small></h3><table><thead><tr><th>host</th><th>address</th><th>platform</th><th>components</th>"
                     f"<th>open ports</th><th>ports not listed</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return "".join(parts)


def _host_details(plan: dict[str, Any], claims: dict[str, Any]) -> str:
    """Each host's ports, open on demand (<details>); printed open."""
    parts = []
    for name, hv in sorted(plan.get("hosts", {}).items()):
        c = claims[name]
        parts.append(
            f"<details id=\"host-{escape(name)}\"><summary>{escape(name)} <small>"
            f"{escape(str(hv.get('address')))}, zone {escape(str(hv.get('zone')))}, {escape(str(hv.get('platform')))}, "
            f"{escape(', '.join(hv.get('components', [])))}</small></summary>"
            + _table(["protocol", "ports", "allowed sources", "component", "service", "purpose"], _host_rows(plan, hv),
                     numeric=(1,))
            + f"<p>Ports not listed: {escape(c.unlisted)}. vms-deploy owns {escape(c.owned)}; plan digest "
            f"<code>{escape(host_digest(plan, name))}</code>.</p></details>")
    return "".join(parts)


def _not_owned(plan: dict[str, Any], settings: dict[str, Any] | None) -> str:
    """What vms-deploy does not filter: once per group of hosts with the same claims, then the site's."""
    parts = ["<p>The host tables above list what vms-deploy opens. What holds for everything else, and what "
             "vms-deploy does not filter at all:</p>"]
    for hosts, c in grouped(all_host_claims(plan, settings)):
        items = "".join(f"<li>{escape(t)}</li>" for t in c.not_owned)
        parts.append(f"<h3>{escape(', '.join(hosts))} <small>{escape(c.platform)}</small></h3>"
                     f"<p>vms-deploy owns {escape(c.owned)}. Ports not listed: {escape(c.unlisted)}.</p>"
                     f"<ul class=\"owned\">{items}</ul>")
    items = "".join(f"<li>{escape(t)}</li>" for t in site_claims(plan))
    parts.append(f"<h3>the whole site</h3><ul class=\"owned\">{items}</ul>")
    return "".join(parts)


_ZONE_RANK = {z: i for i, z in enumerate(["internet", "vpn", "edge", "dmz", "servers", "management", "clients",
                                           "cameras"])}


def _zones(plan: dict[str, Any]) -> str:
    rows = [[zone, ", ".join(cidrs) or "(none)"] for zone, cidrs in sorted(plan.get("zones", {}).items())]
    return _table(["zone", "networks"], rows)


def _flows(plan: dict[str, Any]) -> str:
    rows = [[f["from"], f["to"], f.get("to_host") or _words(plan, f.get("destinations", [])), f["protocol"].upper(),
             fmt_ports(f["ports"]), _words(plan, f["sources"]), f.get("purpose", "")]
            for f in plan.get("zone_flows", []) if f["from"] != f["to"]]
    if managed_edge(plan):
        intro = ("<p>Traffic between zones that the edge lets through (flows inside one zone are filtered by the host "
                 "firewalls only).</p>")
    else:
        intro = ("<p>Traffic between zones that the plan needs. No managed edge filters between the zones: the "
                 "customer's firewall must allow these flows and deny the rest (<a href=\"firewall-rules.md\">"
                 "firewall-rules.md</a>); vms-deploy does not enforce them there.</p>")
    return intro + _table(["from", "to", "destination", "protocol", "ports", "sources", "purpose"], rows, numeric=(4,))


def _flows_title(plan: dict[str, Any]) -> str:
    if managed_edge(plan):
        return "Flows the edge allows between zones"
    return "Flows between zones (for the customer's firewall: vms-deploy manages no edge)"


def _boundaries(plan: dict[str, Any]) -> str:
    """Which zone boundaries depend on the customer's firewall, and what is reachable if it is open
    (vms_deploy.boundaries, through the one evaluator)."""
    found = boundaries(plan)
    links = ("<p>The rules the customer's firewall team types in, one row per rule with each boundary's default "
             "deny: <a href=\"firewall-rules.md\">firewall-rules.md</a> (and <a href=\"firewall-rules.csv\">"
             "firewall-rules.csv</a>).</p>")
    edge = managed_edge(plan)
    if edge:
        return (f"<p>Every boundary between the site's zones is enforced by the managed edge host {escape(edge)} (edge "
                f"backend {escape(backend_of(plan))}): default deny, the flows below "
                "allowed.</p>" + links)
    open_ = [b for b in found if b.depends_on_customer]
    hosts_only = [b for b in found if not b.depends_on_customer]
    parts = [("<p>vms-deploy manages no firewall between this site's zones (edge backend "
              f"{escape(backend_of(plan))}). From the Internet, the router routes in "
              "only its port forwards. Between the zones, the host firewalls vms-deploy sets up filter what reaches "
              "the managed hosts; everything else depends on the customer's firewall.</p>")]
    if open_:
        rows = [[b.name, str(len(b.planned)), _words(plan, b.unmanaged)] for b in open_]
        parts.append("<p>These boundaries depend on the customer's firewall. If it lets traffic through, the source "
                     "zone reaches the listed addresses on every port (the residual risk):</p>")
        parts.append(_table(["boundary", "rules the firewall must allow", "reachable on every port if it is open"],
                            rows, numeric=(1,)))
    if hosts_only:
        names = ", ".join(b.name for b in hosts_only)
        parts.append(f"<p>Every address of the destination zone is a managed host, whose own firewall admits only "
                     f"the plan's flows: {escape(names)}.</p>")
    return "".join(parts) + links


def _vpn(plan: dict[str, Any]) -> str:
    vpn = plan.get("vpn")
    if not vpn:
        return ""
    rows = [[p["name"], p.get("address", "")] for p in vpn.get("peers", [])]
    return (f"<h2 id=\"vpn\">VPN</h2><p>WireGuard on UDP {escape(str(vpn.get('listen_port')))} at the edge "
            f"({escape(str(vpn.get('edge_address')))}), network {escape(str(vpn.get('network')))}.</p>"
            + _table(["peer", "address"], rows))


def _cameras(cameras: dict[str, Any] | None) -> str:
    """The camera audit's table (vms_deploy.cameras.report.rows), when a cameras.json was given."""
    if cameras is None:
        return ""
    from vms_deploy.cameras.report import rows

    table = [[r["address"], r["name"] or "-", "yes" if r["named"] else "NO", "yes" if r["discovered"] else "no",
              " ".join(x for x in (r["manufacturer"], r["model"]) if x) or "-", r["firmware"] or "-", r["auth"],
              r["clock"] or "-", r["status"], "; ".join(r["findings"]) or "-"] for r in rows(cameras)]
    return ("<h2 id=\"cameras\">Cameras (ONVIF audit, read-only)</h2><p>From vms-deploy cameras or "
            "playbooks/cameras.yml (docs/cameras.md): WS-Discovery of the camera networks and ONVIF checks "
            "against the seeds.</p>"
            + _table(["address", "name", "in inventory", "discovered", "device", "firmware", "authentication",
                      "clock", "status", "findings and notes"], table, numeric=(0,)))


def render_html(plan: dict[str, Any], svg: str | None, provenance: _provenance.Provenance | None = None,
                settings: dict[str, Any] | None = None, cameras: dict[str, Any] | None = None) -> str:
    """The whole page. `svg` is inlined as is (already stripped of its XML prolog); None leaves a note.
    provenance: vms_deploy.provenance.facts.collect(plan, ..., stamped=True); settings: the per-host
    inventory settings the claims depend on (claims.settings_from_inventory), None when unknown; cameras: the
    camera audit's result (cameras.json), None for no camera section."""
    site = escape(str(plan.get("site")))
    claims = {c.host: c for c in all_host_claims(plan, settings)}
    picture = (f"<div class=\"picture\">{svg}</div>" if svg else
               "<p>Picture not generated (Graphviz 'dot' was not used for this report).</p>")
    footer = (_provenance.html(provenance) if provenance is not None else
              "<p>Provenance not recorded: made by render_html without vms_deploy.provenance.</p>")
    return "\n".join([
        "<!DOCTYPE html>",
        "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>vms-deploy report: {site}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>VMS site {site}</h1>",
        _summary(plan),
        _warnings(plan),
        "<section class=\"figure\"><h2 id=\"picture\">Zones and the flows between them</h2>",
        "<p>One box per zone (its networks and hosts); each arrow is what the firewalls let through from one zone "
        "to another, labelled with port and service (TCP unless marked /udp; a crowded picture shows ports only). "
        "Red arrows are router port forwards from the Internet. Traffic between hosts of one zone is filtered by "
        "their own firewalls: see each host's detail.</p>",
        picture + "</section>",
        "<h2 id=\"hosts\">Hosts by zone</h2>",
        _zone_tables(plan, claims),
        "<h2 id=\"router\">Router sheet (port forwards)</h2>",
        _router_sheet(plan),
        _vpn(plan),
        "<h2 id=\"ports\">Host details</h2>",
        "<p>Every port vms-deploy opens on each host and who may connect (click a host to open it).</p>",
        _host_details(plan, claims),
        "<h2 id=\"owned\">What vms-deploy owns and what it does not</h2>",
        _not_owned(plan, settings),
        "<h2 id=\"zones\">Zones</h2>",
        _zones(plan),
        "<h2 id=\"boundaries\">Zone boundaries and residual risk</h2>",
        _boundaries(plan),
        f"<h2 id=\"flows\">{escape(_flows_title(plan))}</h2>",
        _flows(plan),
        *([_cameras(cameras)] if cameras is not None else []),
        footer,
        f"<footer>Generated by vms-deploy from plan schema {escape(str(plan.get('schema')))}. "
        "Regenerate with: vms-deploy report INVENTORY --out DIR [--pdf]</footer>",
        "</body></html>",
        "",
    ])
