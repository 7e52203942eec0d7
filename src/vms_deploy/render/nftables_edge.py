"""Render the edge firewall/router table from the plan.

The edge is the site's only path between zones (internet, DMZ, server LAN, client LAN,
camera LAN). Its table `inet vms_deploy` holds:
- one interval set per zone, plus `internal` (every zone but the internet);
- prerouting DNAT from `vms_public_address` for each plan forward, limited to the forward's
  source allow-list;
- forward chain, policy drop: established/related, the DNAT'ed forwards (source allow-list
  again, so a forward cannot be reached by a source that slipped past prerouting), the plan's
  zone flows whose zones differ (same-zone flows never cross the edge; host firewalls enforce
  them), and a rate-limited log of every drop. Cameras get nothing but what the plan's
  zone flows give them, which is the recorders only. The plan has one flow per destination
  host; flows that differ only in their destination become one rule whose `ip daddr` is the
  set of all their destinations (`hosts_recorder`), so the rule count follows services, not
  recorders. Only flows with the same source list are merged: (sources x union of
  destinations) is then exactly the union of the flows, never a wider cross product;
- postrouting masquerade only for internal sources leaving toward the internet, so DNAT'ed
  flows keep their real source address and host firewalls can enforce allow-lists;
- input chain: the edge's own services, default drop (same as a host firewall).
"""

from __future__ import annotations

import ipaddress

from .nft_common import (TABLE_FAMILY, TABLE_NAME, LOG_LIMIT, RenderError, SetNamer, check_host, collapse,
                         header, input_chain, management_sources, port_expr, quote, render_set, set_name)

INTERNAL_SET = "internal"
MAX_EXPANDED_PORTS = 1024  # a generic NVR media range (seed 002: 100 ports) moved to other external ports


def _dnat_rules(fwd: dict, public: str, src_set: str) -> list[str]:
    """Prerouting rule(s) for one forward; equal-length port ranges are mapped port by port."""
    proto, to = fwd["protocol"], fwd["to_address"]
    ext, dst = list(fwd["external_ports"]), list(fwd["to_ports"])
    comment = f'forward {fwd["name"]}'
    # Forwards serve the Internet; internal hosts use the internal addresses (no hairpin NAT).
    match = f"ip daddr {public} ip saddr != @{INTERNAL_SET} ip saddr @{src_set} {proto} dport"
    if ext == dst:
        return [f'\t\t{match} {port_expr(ext)} dnat ip to {to} comment "{quote(comment)}"']
    if dst[0] == dst[1]:
        return [f'\t\t{match} {port_expr(ext)} dnat ip to {to}:{dst[0]} comment "{quote(comment)}"']
    width = ext[1] - ext[0]
    if width != dst[1] - dst[0] or width + 1 > MAX_EXPANDED_PORTS:
        raise RenderError(
            f"forward {fwd['name']!r}: external ports {ext} cannot be mapped onto internal ports {dst}; "
            f"use the same range on both sides or ranges of equal length up to {MAX_EXPANDED_PORTS} ports")
    return [f'\t\t{match} {ext[0] + i} dnat ip to {to}:{dst[0] + i} comment "{quote(comment)}"'
            for i in range(width + 1)]


def _dedup_flows(flows: list[dict], edge_host: str) -> list[dict]:
    seen, out = set(), []
    for f in flows:
        # Same-zone flows never cross the edge; flows to the edge itself belong to its input chain.
        if f["from"] == f["to"] or f["to"] == "edge" or (f.get("to_host") and f.get("to_host") == edge_host):
            continue
        key = (f["from"], f["to"], tuple(sorted(f["sources"])), tuple(sorted(f["destinations"])),
               f["protocol"], tuple(f["ports"]), f.get("service", ""))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=lambda f: (f["from"], f["to"], f["ports"][0], f["ports"][1], f["protocol"],
                                      f.get("service", ""), sorted(f["destinations"])))


def _merge_flows(flows: list[dict]) -> list[dict]:
    """One flow per (zones, service, protocol, ports, source list): destinations are united.

    The key holds the collapsed source list (what the source set will contain), so two flows are
    merged only when they accept the same sources: sources x (D1 | D2) == (sources x D1) | (sources x D2).
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
            if merged[key].get("to_host") != f.get("to_host"):  # several hosts: name the set after the service
                merged[key]["to_host"] = None
                merged[key]["dst_label"] = f.get("component") or f.get("service") or f["to"]
        else:
            merged[key] = {**f, "destinations": list(f["destinations"])}
    for flow in merged.values():
        flow["destinations"] = collapse(flow["destinations"])
    return sorted(merged.values(), key=lambda f: (f["from"], f["to"], f["ports"][0], f["ports"][1], f["protocol"],
                                                  f.get("service", ""), f["sources"], f["destinations"]))


class _HostSets:
    """Names the sets of several plan hosts (what merging per-host flows produces), so that
    `nft list ruleset` reads like the inventory: every host running a component is
    `hosts_<component>` (`hosts_recorder`), a short list is named after its hosts
    (`hosts_rec1_rec2`), a long one after the flow's component; the comment names the hosts.
    Zones, single hosts and anywhere keep SetNamer's names."""

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


def render_edge_ruleset(plan: dict, host: str) -> str:
    check_host(plan, host)
    edge = plan.get("edge") or {}
    public = edge.get("public_address")
    forwards = plan.get("forwards") or []
    if forwards and not public:
        raise RenderError(f"edge host {host!r}: the plan has port forwards but no public address; "
                          "set vms_public_address on the edge host (its Internet-facing address)")
    if public:
        ipaddress.ip_address(public)

    zones = plan.get("zones") or {}
    src = SetNamer("src", zones, plan.get("hosts"))
    mgmt = src.register("mgmt_sources", management_sources(plan), "management networks")
    internal: list[str] = []
    for zone in sorted(zones):
        if zone != "internet":
            src.register(set_name("zone", zone), zones[zone] or [], f"zone {zone}")
            internal += zones[zone] or []
    src.register(INTERNAL_SET, internal, "every zone but the internet")
    input_lines = input_chain(plan, host, src, mgmt)
    vpn = plan.get("vpn")
    if vpn:
        # WireGuard answers nothing to unauthenticated packets, so its port is open to all.
        input_lines.insert(-2, f'\t\tudp dport {int(vpn["listen_port"])} accept comment "vpn"')

    pre, fwd_lines = [], []
    for fwd in sorted(forwards, key=lambda f: f["name"]):
        s = src.name_for(fwd["sources"], fwd["service"])
        pre += _dnat_rules(fwd, public, s)
        fwd_lines.append(
            f'\t\tct status dnat ip saddr != @{INTERNAL_SET} ip saddr @{s} ip daddr {fwd["to_address"]} {fwd["protocol"]} dport '
            f'{port_expr(fwd["to_ports"])} accept comment "{quote("forward " + fwd["name"])}"')

    host_sets = _HostSets(src, plan.get("hosts") or {})
    for flow in _merge_flows(_dedup_flows(plan.get("zone_flows") or [], host)):
        s = host_sets.name_for(flow["sources"], flow, flow.get("service") or flow["from"], "src")
        d = host_sets.name_for(flow["destinations"], flow, flow.get("to_host") or flow.get("dst_label") or flow["to"],
                               "dst")
        comment = f'{flow["from"]}->{flow["to"]} {flow.get("component", "")}/{flow.get("service", "")}'
        # "internet" is every address no other zone holds: 0.0.0.0/0 must not let cameras or clients in.
        outside = f"ip saddr != @{INTERNAL_SET} " if flow["from"] == "internet" else ""
        fwd_lines.append(f'\t\t{outside}ip saddr @{s} ip daddr @{d} {flow["protocol"]} dport {port_expr(flow["ports"])} '
                         f'accept comment "{quote(comment)}"')

    lines = header("edge", plan, host)
    lines.append(f"table {TABLE_FAMILY} {TABLE_NAME} {{")
    for name, cidrs, comment in src.sets:
        lines += render_set(name, cidrs, comment)
    lines += input_lines
    lines += ["\tchain forward {",
              "\t\ttype filter hook forward priority filter; policy drop;",
              "\t\tct state established,related accept",
              "\t\tct state invalid drop"]
    lines += fwd_lines
    lines += [f'\t\t{LOG_LIMIT} log prefix "vms-deploy drop fwd: " level info', "\t}"]
    lines += ["\tchain prerouting {", "\t\ttype nat hook prerouting priority dstnat; policy accept;"]
    lines += pre
    lines += ["\t}",
              "\tchain postrouting {",
              "\t\ttype nat hook postrouting priority srcnat; policy accept;",
              f'\t\tip saddr @{INTERNAL_SET} ip daddr != @{INTERNAL_SET} masquerade comment "internal to internet"',
              "\t}",
              "\tchain output {",
              "\t\ttype filter hook output priority filter; policy accept;",
              "\t}",
              "}"]
    return "\n".join(lines) + "\n"
