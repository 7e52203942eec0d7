"""Network picture of a plan: zones and the flows between them, as Graphviz DOT rendered by `dot`.

A picture with one box per host is a tangle at 7 hosts and unreadable at 100 (issue 24 item 4), so
this one draws one box per zone (its networks and how many hosts of which kind it holds) and one
arrow per pair of zones, labelled with the services that cross it. Which host has which port is in the
report's per-zone host tables and per-host details; the picture's size depends on the zones and
services, never on the number of hosts.

Arrows come from what the firewalls enforce: the plan's inbound rules where the one evaluator
(vms_deploy.evaluate) admits an address of the source (so the Internet reaches a private host only
through a forward arrow), the recorder-to-camera zone flows, and the router forwards (Internet to
the edge or the unmanaged router, then to the zone of the host that serves them). Flows between hosts
of one zone are filtered by the host firewalls only and are counted in the zone's box.

Print size: labels are LABEL_POINTS and the picture at most MAX_WIDTH_PT x MAX_HEIGHT_PT (render_picture
falls back on ports-only labels for a site whose service names would make it wider), so on A4 and Letter
its labels print at 9 points or more (tests/unit/test_report_picture.py
renders it and measures every text box).
"""
from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from vms_deploy.diff import fmt_ports
from vms_deploy.evaluate import evaluate
from vms_deploy.explain import host_by_address, zone_of_address

# Top-to-bottom order: the Internet at the top, cameras at the bottom.
ZONE_ORDER = ["internet", "vpn", "router", "edge", "dmz", "servers", "management", "clients", "cameras"]
ZONE_COLORS = {
    "internet": "#fde2e2", "vpn": "#e8e2fd", "router": "#ffe4c4", "dmz": "#fff1d6", "edge": "#ffe4c4",
    "servers": "#e2f0fd", "management": "#eeeeee", "clients": "#e2fde6", "cameras": "#f5f5dc",
}
MAX_LABEL_LINES = 5
LABEL_POINTS = 10       # arrow labels; zone boxes use NODE_POINTS
NODE_POINTS = 11
# A4 less the report's 15 mm margins is 510 x 757 pt, Letter 527 x 707 pt; a larger picture is shrunk to
# fit, so at LABEL_POINTS = 10 it may be at most 10/9 of that for its labels to print at 9 points or more.
MAX_WIDTH_PT = 566  # 510 x 10/9
MAX_HEIGHT_PT = 780
DOT_TIMEOUT_SECONDS = 60


class GraphvizMissing(RuntimeError):
    """`dot` is not installed; the message says how to install it."""


@dataclass
class Arrow:
    """One arrow between two zone boxes and the services that cross it."""

    src: str
    dst: str
    forward: bool = False
    services: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)  # (proto, ports, name) -> hosts

    def add(self, protocol: str, ports: str, name: str, host: str) -> None:
        self.services.setdefault((protocol, ports, name), set()).add(host)

    def lines(self, compact: bool = False) -> list[str]:
        items = sorted(self.services, key=lambda k: (_first_port(k[1]), k[0], k[2]))
        if compact:  # ports only; the report's flows table names each service
            ports = list(dict.fromkeys(_port_text(proto, ports) for proto, ports, _n in items))
            return _wrap(", ".join(ports), 24).split("\n")[:MAX_LABEL_LINES]
        if self.forward and self.src != "internet":
            # The second leg of the forwards: the first leg's label already names every port and target.
            hosts = sorted({h for names in self.services.values() for h in names})
            by_proto: dict[str, list[str]] = defaultdict(list)
            for proto, ports, _name in items:
                by_proto[proto].append(ports)
            who = ", ".join(hosts) if len(hosts) <= 3 else f"{len(hosts)} hosts"
            return [_wrap(f"forwarded to {who}", 28)] + \
                [_wrap(", ".join(_port_text(proto, p) for p in ports), 28) for proto, ports in sorted(by_proto.items())]
        text = [f"{_port_text(proto, ports)} {name}" for proto, ports, name in items]
        if len(text) > MAX_LABEL_LINES:
            text = text[:MAX_LABEL_LINES - 1] + [f"+{len(text) - MAX_LABEL_LINES + 1} more"]
        return text


def _port_text(protocol: str, ports: str) -> str:
    """TCP ports bare, others marked ("5353/udp"): the labels stay narrow (the caption says so)."""
    return ports if protocol == "tcp" else f"{ports}/{protocol}"


def _first_port(ports: str) -> int:
    match = re.match(r"\d+", ports)
    return int(match.group()) if match else 0


def _node_id(zone: str) -> str:
    return "zone_" + re.sub(r"[^A-Za-z0-9_]", "_", zone)


def _quote(text: str) -> str:
    # Other control characters (\r, \0, ...) become spaces: a DOT string is one logical line.
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _source_zone(plan: dict[str, Any], cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    if net.num_addresses == 1:
        host = host_by_address(plan, str(net.network_address))
        if host:
            return plan["hosts"][host].get("zone", "servers")
    return "internet" if net.prefixlen == 0 else zone_of_address(plan, str(net.network_address))


def _admitted(plan: dict[str, Any], cidr: str, host: str, rule: dict[str, Any]) -> bool:
    """Draw a rule's source only where the one evaluator lets an address of it in (same path as
    `vms-deploy check`), so the picture shows what is reachable, not what a rule lists."""
    net = ipaddress.ip_network(cidr, strict=False)
    address = net.network_address + (1 if net.num_addresses > 2 else 0)
    return evaluate(plan, str(address), host, rule["ports"][0], rule["protocol"]).allowed


@dataclass
class Picture:
    """What the picture draws, as data (the tests read this, not the DOT text)."""

    arrows: dict[tuple[str, str, bool], Arrow]
    inside: dict[str, set[tuple[str, str, str]]]   # zone -> services between its own hosts
    zones: list[str]                              # boxes, in ZONE_ORDER
    admin: dict[str, set[tuple[str, str, str]]] = field(default_factory=dict)  # zone -> administration it opens


def picture(plan: dict[str, Any]) -> Picture:
    hosts = plan.get("hosts") or {}
    arrows: dict[tuple[str, str, bool], Arrow] = {}
    inside: dict[str, set[tuple[str, str, str]]] = defaultdict(set)

    def arrow(src: str, dst: str, forward: bool = False) -> Arrow:
        return arrows.setdefault((src, dst, forward), Arrow(src, dst, forward))

    for name, hv in sorted(hosts.items()):
        zone = hv.get("zone", "servers")
        for rule in hv.get("inbound", []):
            service = (rule["protocol"], fmt_ports(rule["ports"]), str(rule.get("service") or "?"))
            for src_zone in sorted({_source_zone(plan, c) for c in rule["sources"] if _admitted(plan, c, name, rule)}):
                if src_zone == zone:
                    inside[zone].add(service)
                else:
                    arrow(src_zone, zone).add(*service, name)
    for flow in plan.get("zone_flows", []):
        if flow.get("to_host") or flow["from"] == flow["to"]:
            continue  # host-bound flows are drawn from the inbound rules above
        arrow(flow["from"], flow["to"]).add(flow["protocol"], fmt_ports(flow["ports"]),
                                            str(flow.get("service") or "?"), flow["to"])

    edge = plan.get("edge") or {}
    edge_zone = hosts[edge["host"]].get("zone", "edge") if edge.get("host") in hosts else "router"
    for fwd in plan.get("forwards", []):
        target = fwd.get("to_host") or fwd.get("to_address")
        arrow("internet", edge_zone, True).add(fwd["protocol"], fmt_ports(fwd["external_ports"]),
                                               f"> {target}:{fmt_ports(fwd['to_ports'])}", str(target))
        to_zone = hosts.get(fwd.get("to_host"), {}).get("zone")
        if to_zone and fwd.get("to_host") != edge.get("host"):
            arrow(edge_zone, to_zone, True).add(fwd["protocol"], fmt_ports(fwd["to_ports"]),
                                                str(fwd.get("service") or fwd["name"]), str(target))
    vpn = plan.get("vpn")
    if vpn and edge.get("host") in hosts:
        a = arrow("internet", edge_zone)
        port = str(vpn.get("listen_port"))
        for key in [k for k in a.services if k[:2] == ("udp", port)]:
            del a.services[key]  # the edge's own rule for the listen port: one label, named for what it is
        a.add("udp", port, "WireGuard", edge["host"])

    # Administration (SSH/WinRM from the management networks to every host) would add one arrow per zone and
    # double the picture's width: its services are written into the management box instead.
    admin: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for key, a in list(arrows.items()):
        if key[0] == "management" and not key[2] and a.services and \
                all(_is_management(hosts, svc, names) for svc, names in a.services.items()):
            admin["management"].update(a.services)
            del arrows[key]
    used = {z for key in arrows for z in key[:2]} | {hv.get("zone", "servers") for hv in hosts.values()} | set(admin)
    zones = [z for z in ZONE_ORDER if z in used] + sorted(used - set(ZONE_ORDER))
    return Picture({k: v for k, v in sorted(arrows.items())}, dict(inside), zones, dict(admin))


def _is_management(hosts: dict[str, Any], service: tuple[str, str, str], names: set[str]) -> bool:
    return all(any(r.get("component") == "management" and r.get("service") == service[2]
                   for r in hosts.get(n, {}).get("inbound", [])) for n in names)


def _zone_label(plan: dict[str, Any], zone: str, pic: Picture) -> str:
    hosts = {n: hv for n, hv in (plan.get("hosts") or {}).items() if hv.get("zone", "servers") == zone}
    edge = plan.get("edge") or {}
    if zone == "internet":
        lines = ["Internet"]
        if edge.get("public_address"):
            lines.append(f"public address {edge['public_address']}")
        return "\n".join(lines)
    if zone == "router":
        return "router\n(not managed)"
    cidrs = (plan.get("zones") or {}).get(zone, [])
    lines = [f"{zone}"]
    if cidrs:
        lines.append(", ".join(cidrs[:2]) + (f" +{len(cidrs) - 2}" if len(cidrs) > 2 else ""))
    if len(hosts) == 1:
        name, hv = next(iter(hosts.items()))
        lines.append(f"{name} {hv.get('address')}")
        lines.append(", ".join(hv.get("components", [])) or "no components")
    elif hosts:
        kinds = Counter(c for hv in hosts.values() for c in hv.get("components", []))
        lines.append(f"{len(hosts)} hosts")
        lines.append(", ".join(f"{n} {c}" for c, n in sorted(kinds.items())))
    elif zone == "cameras":
        lines.append("cameras (not managed)")
    if pic.inside.get(zone):
        lines.append(f"+ {len(pic.inside[zone])} services between its hosts")
    if pic.admin.get(zone):
        ports = ", ".join(sorted({_port_text(p, n) for p, n, _s in pic.admin[zone]}, key=_first_port))
        lines.append(f"administers every host: {ports}")
    return "\n".join(_wrap(line, 40) for line in lines)


def _wrap(line: str, width: int) -> str:
    """Break a long comma list onto several lines so a zone box stays narrow."""
    if len(line) <= width:
        return line
    out, current = [], ""
    for part in line.split(", "):
        if current and len(current) + 2 + len(part) > width:
            out.append(current + ",")
            current = part
        else:
            current = f"{current}, {part}" if current else part
    return "\n".join(out + [current])


def plan_to_dot(plan: dict[str, Any], compact: bool = False, stacked: bool = False) -> str:
    """Deterministic DOT text for the plan (same plan, same bytes). compact: arrows labelled with their
    ports only, for a site whose full labels make the picture too wide to print (render_picture)."""
    pic = picture(plan)
    out = [f"digraph {_quote('site ' + str(plan.get('site')))} {{",
           "  graph [rankdir=TB, newrank=true, nodesep=0.25, ranksep=0.45, fontname=\"Helvetica\"];",
           f"  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize={NODE_POINTS}, "
           "margin=\"0.15,0.08\"];",
           f"  edge [fontname=\"Helvetica\", fontsize={LABEL_POINTS}, color=\"#444444\"];"]
    for zone in pic.zones:
        shape = ", shape=ellipse" if zone == "internet" else ""
        out.append(f"  {_node_id(zone)} [label={_quote(_zone_label(plan, zone, pic))}, "
                   f"fillcolor={_quote(ZONE_COLORS.get(zone, '#ffffff'))}{shape}];")
    if stacked:  # one zone per row: a site with many source zones grows down the page, not across it
        out += [f"  {_node_id(a)} -> {_node_id(b)} [style=invis, weight=10];"
                for a, b in zip(pic.zones, pic.zones[1:], strict=False)]
    elif "management" in pic.zones and not any("management" in key[:2] for key in pic.arrows):
        # A box without arrows would sit beside the Internet and widen the top row: hang it below the lowest box.
        low = next((z for z in ("cameras", "clients", "servers") if z in pic.zones), pic.zones[0])
        out.append(f"  {_node_id(low)} -> {_node_id('management')} [style=invis];")
    for arrow in pic.arrows.values():
        label = "\n".join((["forward"] if arrow.forward and arrow.src == "internet" else []) + arrow.lines(compact))
        style = ", color=\"#b00020\", fontcolor=\"#b00020\", style=bold" if arrow.forward else ""
        out.append(f"  {_node_id(arrow.src)} -> {_node_id(arrow.dst)} [label={_quote(label)}{style}];")
    out.append("}")
    return "\n".join(out) + "\n"


def svg_size(svg: str) -> tuple[float, float]:
    """(width, height) in points of a Graphviz SVG."""
    match = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"', svg)
    return (float(match.group(1)), float(match.group(2))) if match else (0.0, 0.0)


def render_picture(plan: dict[str, Any]) -> tuple[str, str]:
    """(DOT, SVG) of the plan's picture: arrows labelled with their services; when that is larger than
    MAX_WIDTH_PT x MAX_HEIGHT_PT (labels would print below 9 points once shrunk to the page), with their
    ports only, then also one zone per row."""
    dot_text = plan_to_dot(plan)
    svg = render_svg(dot_text)
    width, height = svg_size(svg)
    for compact, stacked in ((True, False), (True, True)):
        if width <= MAX_WIDTH_PT and height <= MAX_HEIGHT_PT:
            break
        dot_text = plan_to_dot(plan, compact=compact, stacked=stacked)
        svg = render_svg(dot_text)
        width, height = svg_size(svg)
    return dot_text, svg


def render_svg(dot_text: str) -> str:
    """Run Graphviz and return the SVG element only (no XML prolog, DOCTYPE or comments) for inlining."""
    dot = shutil.which("dot")
    if not dot:
        raise GraphvizMissing("the Graphviz 'dot' program is not installed: run 'apt-get install graphviz' "
                              "(or bin/setup), or pass --no-picture")
    proc = subprocess.run([dot, "-Tsvg"], input=dot_text, capture_output=True, text=True,
                          timeout=DOT_TIMEOUT_SECONDS, check=False)
    if proc.returncode != 0:
        raise GraphvizMissing(f"Graphviz 'dot' failed: {proc.stderr.strip()}")
    svg = proc.stdout
    svg = re.sub(r"<\?xml.*?\?>", "", svg, flags=re.S)
    svg = re.sub(r"<!DOCTYPE.*?>", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg.strip() + "\n"
