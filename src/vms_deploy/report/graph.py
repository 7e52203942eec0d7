"""Network picture of a plan as Graphviz DOT, rendered to SVG by the `dot` program.

Zones are clusters, hosts sit inside their zone, and each arrow is an allowed flow labelled with
its ports. Arrows are derived from the plan's inbound rules (who may open which port on each
host) where the one evaluator (vms_deploy.evaluate) admits the source, the recorder-to-camera zone
flows, and the router forwards (Internet to the edge), so the picture shows exactly what the
firewalls will enforce and nothing else: the Internet reaches a host only through a forward arrow.
"""
from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections import defaultdict
from typing import Any

from vms_deploy.diff import fmt_ports
from vms_deploy.evaluate import evaluate
from vms_deploy.explain import host_by_address, zone_of_address

# Top-to-bottom order: the Internet at the top, cameras at the bottom.
ZONE_ORDER = ["internet", "vpn", "dmz", "edge", "servers", "management", "clients", "cameras"]
ZONE_COLORS = {
    "internet": "#fde2e2", "vpn": "#e8e2fd", "dmz": "#fff1d6", "edge": "#ffe4c4",
    "servers": "#e2f0fd", "management": "#eeeeee", "clients": "#e2fde6", "cameras": "#f5f5dc",
}
MAX_LABEL_LINES = 6
DOT_TIMEOUT_SECONDS = 60


class GraphvizMissing(RuntimeError):
    """`dot` is not installed; the message says how to install it."""


def _node_id(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def _quote(text: str) -> str:
    # Other control characters (\r, \0, ...) become spaces: a DOT string is one logical line.
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _source_node(plan: dict[str, Any], cidr: str) -> tuple[str, str]:
    """(node id, zone) that stands for one allowed source CIDR."""
    net = ipaddress.ip_network(cidr, strict=False)
    if net.num_addresses == 1:
        host = host_by_address(plan, str(net.network_address))
        if host:
            return _node_id("host", host), plan["hosts"][host].get("zone", "servers")
    zone = "internet" if net.prefixlen == 0 else zone_of_address(plan, str(net.network_address))
    return _node_id("net", zone), zone


def _admitted(plan: dict[str, Any], cidr: str, host: str, rule: dict[str, Any]) -> bool:
    """Draw a rule's source only where the one evaluator lets an address of it in (same path as
    `vms-deploy check`), so the picture shows what is reachable, not what a rule lists."""
    net = ipaddress.ip_network(cidr, strict=False)
    address = net.network_address + (1 if net.num_addresses > 2 else 0)
    return evaluate(plan, str(address), host, rule["ports"][0], rule["protocol"]).allowed


def _label(ports: set[str]) -> str:
    items = sorted(ports, key=lambda p: (p.split(" ")[0], int(re.split(r"[ -]", p)[1]), p))
    if len(items) > MAX_LABEL_LINES:
        items = items[:MAX_LABEL_LINES - 1] + [f"+{len(items) - MAX_LABEL_LINES + 1} more"]
    return "\n".join(items)


def plan_to_dot(plan: dict[str, Any]) -> str:
    """Deterministic DOT text for the plan (same plan, same bytes)."""
    hosts = plan.get("hosts", {})
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    used_nets: set[str] = set()
    forward_edges: dict[tuple[str, str], set[str]] = defaultdict(set)

    for name, hv in sorted(hosts.items()):
        for rule in hv.get("inbound", []):
            for cidr in rule["sources"]:
                if not _admitted(plan, cidr, name, rule):
                    continue  # e.g. Internet sources: they come in through the forwards drawn below
                node, zone = _source_node(plan, cidr)
                if node.startswith("net_"):
                    used_nets.add(zone)
                edges[(node, _node_id("host", name))].add(f"{rule['protocol']} {fmt_ports(rule['ports'])}")
    for flow in plan.get("zone_flows", []):
        if flow.get("to_host"):
            continue  # host-bound flows are already drawn from the inbound rules
        for cidr in flow["sources"]:
            node, _zone = _source_node(plan, cidr)
            if node.startswith("net_"):
                used_nets.add(_zone)
            used_nets.add(flow["to"])
            edges[(node, _node_id("net", flow["to"]))].add(f"{flow['protocol']} {fmt_ports(flow['ports'])}")

    edge_info = plan.get("edge") or {}
    edge_node = _node_id("host", edge_info["host"]) if edge_info.get("host") in hosts else "router"
    for fwd in plan.get("forwards", []):
        used_nets.add("internet")
        forward_edges[(_node_id("net", "internet"), edge_node)].add(
            f"{fwd['protocol']} {fmt_ports(fwd['external_ports'])} > {fwd.get('to_host') or fwd.get('to_address')}"
            f":{fmt_ports(fwd['to_ports'])}")
        if fwd.get("to_host") in hosts and fwd.get("to_host") != edge_info.get("host"):
            # second leg of the forward: from the router/edge to the host that serves it
            forward_edges[(edge_node, _node_id("host", fwd["to_host"]))].add(
                f"{fwd['protocol']} {fmt_ports(fwd['to_ports'])}")

    vpn = plan.get("vpn")
    if vpn and edge_info.get("host") in hosts:
        # WireGuard terminates on the edge; the tunnel's inner flows are drawn from the vpn zone above.
        used_nets.add("internet")
        labels = edges[(_node_id("net", "internet"), _node_id("host", edge_info["host"]))]
        labels.discard(f"udp {vpn.get('listen_port')}")  # the edge's own rule for it: label it once
        labels.add(f"udp {vpn.get('listen_port')} (WireGuard)")

    zones = plan.get("zones", {})
    host_zones: dict[str, list[str]] = defaultdict(list)
    for name, hv in sorted(hosts.items()):
        host_zones[hv.get("zone", "servers")].append(name)
    all_zones = [z for z in ZONE_ORDER if z in used_nets or z in host_zones]
    all_zones += sorted((set(used_nets) | set(host_zones)) - set(all_zones))

    out = [f"digraph {_quote('site ' + str(plan.get('site')))} {{",
           "  graph [rankdir=TB, newrank=true, compound=true, nodesep=0.5, ranksep=0.9, fontname=\"Helvetica\", "
           f"fontsize=12, label={_quote(_title(plan))}, labelloc=t];",
           "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", fontsize=11];",
           "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#444444\"];"]
    for zone in all_zones:
        cidrs = zones.get(zone, [])
        cluster_label = zone if not cidrs else f"{zone}\n{', '.join(cidrs[:3])}" + (" ..." if len(cidrs) > 3 else "")
        out.append(f"  subgraph {_quote('cluster_' + zone)} {{")
        out.append(f"    label={_quote(cluster_label)}; style=filled; color=\"#999999\"; "
                   f"fillcolor={_quote(ZONE_COLORS.get(zone, '#ffffff'))};")
        if zone in used_nets:
            net_label = "Internet" if zone == "internet" else f"{zone} network"
            if zone == "internet" and edge_info.get("public_address"):
                net_label += f"\npublic address {edge_info['public_address']}"
            out.append(f"    {_node_id('net', zone)} [label={_quote(net_label)}, shape=ellipse, style=dashed];")
        for name in host_zones.get(zone, []):
            hv = hosts[name]
            comps = ", ".join(hv.get("components", []))
            host_label = "\n".join([name, str(hv.get("address")), comps])
            out.append(f"    {_node_id('host', name)} [label={_quote(host_label)}];")
        out.append("  }")
    if edge_node == "router" and plan.get("forwards"):
        out.append("  router [label=\"router (not managed)\", shape=hexagon];")
    for (src, dst), ports in sorted(forward_edges.items()):
        fwd_label = _quote("forward\n" + _label(ports))
        out.append(f"  {src} -> {dst} [label={fwd_label}, color=\"#b00020\", "
                   "fontcolor=\"#b00020\", style=bold];")
    for src, dst, ports, cluster in _merge_zone_edges(edges, host_zones, hosts):
        if cluster:
            out.append(f"  {src} -> {dst} [label={_quote(_label(ports) + chr(10) + '(every host)')}, "
                       f"lhead={_quote('cluster_' + cluster)}];")
        else:
            out.append(f"  {src} -> {dst} [label={_quote(_label(ports))}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _merge_zone_edges(edges: dict[tuple[str, str], set[str]], host_zones: dict[str, list[str]],
                      hosts: dict[str, Any]) -> list[tuple[str, str, set[str], str | None]]:
    """Edges to draw; one arrow into a zone's box when a source reaches every host there with the same ports.

    Management access (SSH/WinRM to every host) would otherwise add one arrow per host and bury the picture.
    """
    merged: list[tuple[str, str, set[str], str | None]] = []
    done: set[tuple[str, str]] = set()
    sources = sorted({src for src, _ in edges})
    for src in sources:
        for zone, members in sorted(host_zones.items()):
            targets = [_node_id("host", h) for h in members]
            if len(targets) < 2 or src in targets:
                continue
            port_sets = [edges.get((src, t)) for t in targets]
            if all(port_sets) and all(p == port_sets[0] for p in port_sets):
                merged.append((src, targets[len(targets) // 2], set(port_sets[0]), zone))
                done.update((src, t) for t in targets)
    merged += [(src, dst, ports, None) for (src, dst), ports in sorted(edges.items()) if (src, dst) not in done]
    return sorted(merged, key=lambda e: (e[0], e[1], e[3] or ""))


def _title(plan: dict[str, Any]) -> str:
    return (f"site {plan.get('site')}: {plan.get('product')}, {plan.get('topology')}, "
            f"remote access {plan.get('remote_access')}")


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
