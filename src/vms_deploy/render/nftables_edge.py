"""Edge backend `nftables`: the edge firewall/router table of a Linux edge host.

Renders the neutral edge model (vms_deploy.edge.model: sets, input services, forwards, merged
flows); applied on the edge host by plugins/modules/vms_nft_table.py (roles/edge_firewall).

The edge is the site's only path between zones (internet, DMZ, server LAN, client LAN,
camera LAN). Its table `inet vms_deploy` holds:
- one interval set per zone, plus `internal` (every zone but the internet);
- prerouting DNAT from `vms_public_address` for each plan forward, limited to the forward's
  source allow-list;
- forward chain, policy drop: established/related, the DNAT'ed forwards (source allow-list
  again, so a forward cannot be reached by a source that slipped past prerouting; and the
  connection's original destination, public address and external ports, so a DNAT that another
  table or a hand-made rule adds toward a planned destination is not accepted), the plan's
  zone flows whose zones differ (same-zone flows never cross the edge; host firewalls enforce
  them), and a rate-limited log of every drop. Cameras get nothing but what the plan's
  zone flows give them, which is the recorders only. The plan has one flow per destination
  host; flows that differ only in their destination become one rule whose `ip daddr` is the
  set of all their destinations (`hosts_recorder`), so the rule count follows services, not
  recorders. Only flows with the same source list are merged: (sources x union of
  destinations) is then exactly the union of the flows, never a wider cross product;
- postrouting masquerade only for internal sources leaving toward the internet, so DNAT'ed
  flows keep their real source address and host firewalls can enforce allow-lists;
- with vms_nat_reflection, prerouting DNAT of the same forwards for the client LAN's sources
  (hairpin NAT: a laptop or the mobile app using the site's public name on the LAN), never for
  cameras or any other zone; the reflected connection is then the client's direct one (zone
  flows and the host firewall decide it), with no source NAT;
- input chain: the edge's own services, default drop (same as a host firewall);
- ingress chain (prerouting, raw priority, before conntrack and DNAT): a strict reverse-path
  check, `fib saddr . iif oif missing drop`. A packet is kept only when the edge would route
  its source back out of the interface it came in on, so a packet from the Internet with an
  internal or site source, and a packet from a zone's interface with a source outside the
  networks routed there, never reach the forward or input chains (BCP 38 / RFC 3704 strict
  mode; NIST SP 800-53 SC-7). The interfaces are the kernel's, so the table names none (no
  eth0/eth1): each zone is bound to the interface its networks are routed on. rp_filter is
  not relied on (it is off in containers and per-namespace elsewhere).
"""

from __future__ import annotations

from ..edge.model import INTERNAL_SET, EdgeModel, Forward, build  # noqa: F401 - INTERNAL_SET: the set's name
from .nft_common import (
    LOG_LIMIT,
    TABLE_FAMILY,
    TABLE_NAME,
    RenderError,
    check_host,
    header,
    input_chain_lines,
    port_expr,
    quote,
    render_set,
)

INGRESS_RULE = ("fib saddr . iif oif missing drop comment \"source not routed back out its ingress interface "
                "(forged, BCP 38)\"")
CLIENTS_ZONE = "clients"  # NAT reflection serves this zone only, never cameras (issue 21 item 6)
MAX_EXPANDED_PORTS = 1024  # a generic NVR media range (seed 002: 100 ports) moved to other external ports


def _dnat_rules(fwd: Forward, public: str, internal: str, reflect: str | None = None) -> list[str]:
    """Prerouting rule(s) for one forward; equal-length port ranges are mapped port by port.
    reflect: the clients' set, for the forward's NAT reflection rule(s) (vms_nat_reflection)."""
    proto, to = fwd.protocol, fwd.to_address
    ext, dst = list(fwd.external_ports), list(fwd.to_ports)
    if reflect:
        # Hairpin NAT for the client LAN only: cameras and every other zone keep reaching the edge itself
        # (its input chain drops them). No source NAT: the reflected connection is then exactly the client's
        # direct one (zone flow and host firewall decide), and the answer returns through the edge.
        comment = f"reflection {fwd.name}"
        match = f"ip daddr {public} ip saddr @{reflect} {proto} dport"
    else:
        # Forwards serve the Internet; internal hosts use the internal addresses (or reflection, above).
        comment = f"forward {fwd.name}"
        match = f"ip daddr {public} ip saddr != @{internal} ip saddr @{fwd.sources} {proto} dport"
    if ext == dst:
        return [f'\t\t{match} {port_expr(ext)} dnat ip to {to} comment "{quote(comment)}"']
    if dst[0] == dst[1]:
        return [f'\t\t{match} {port_expr(ext)} dnat ip to {to}:{dst[0]} comment "{quote(comment)}"']
    width = ext[1] - ext[0]
    if width != dst[1] - dst[0] or width + 1 > MAX_EXPANDED_PORTS:
        raise RenderError(
            f"forward {fwd.name!r}: external ports {ext} cannot be mapped onto internal ports {dst}; "
            f"use the same range on both sides or ranges of equal length up to {MAX_EXPANDED_PORTS} ports")
    return [f'\t\t{match} {ext[0] + i} dnat ip to {to}:{dst[0] + i} comment "{quote(comment)}"'
            for i in range(width + 1)]


NAME = "nftables"
MANAGED_EDGE = True
APPLIED = ("applied on the edge host by vms_nft_table (roles/edge_firewall): one owned table, checked with "
           "nft -c, then loaded atomically")


def render(model: EdgeModel, provenance=None) -> dict[str, str]:
    """The backend interface (vms_deploy.edge): {"HOST.nft": the edge host's table}. provenance is not
    written into a ruleset: the table records its plan digest (vms_nft_table's comment) instead."""
    del provenance
    return {f"{model.host}.nft": ruleset(model)}


def render_edge_ruleset(plan: dict, host: str) -> str:
    """The text of `host`'s `table inet vms_deploy` (the vms_nft_edge_ruleset filter)."""
    check_host(plan, host)
    return ruleset(build(plan, host, backend=NAME))


def reflection_set(model: EdgeModel) -> str | None:
    """The set NAT reflection admits (the client LAN's zone set), or None when it is off or the site has
    no client network. A forward to a host on the client LAN itself is not reflected: without source NAT
    its answer would not return through the edge."""
    if not model.nat_reflection:
        return None
    name = f"zone_{CLIENTS_ZONE}"
    entry = next((e for e in model.sets if e.name == name), None)
    return name if entry is not None and entry.cidrs else None


def ruleset(model: EdgeModel) -> str:
    host = model.host
    if host is None:
        raise RenderError(f"site {model.site!r}: the nftables edge backend needs the edge host; put the Linux "
                          "edge host in group vms_edge, or set vms_edge_backend: router_sheet")
    public, internal = model.public_address, model.internal

    pre, fwd_lines = [], []
    reflect = reflection_set(model)
    for fwd in sorted(model.forwards, key=lambda f: f.name):
        pre += _dnat_rules(fwd, public, internal)
        if reflect and fwd.to_zone != "clients":
            pre += _dnat_rules(fwd, public, internal, reflect)
        # The connection's original destination too: a DNAT nobody planned (another table's, a
        # hand-made rule) to a planned destination is not a planned forward.
        fwd_lines.append(
            f'\t\tct status dnat ip saddr != @{internal} ip saddr @{fwd.sources} ip daddr {fwd.to_address} '
            f'{fwd.protocol} dport {port_expr(fwd.to_ports)} ct original ip daddr {public} '
            f'ct original proto-dst {port_expr(fwd.external_ports)} accept comment "{quote("forward " + fwd.name)}"')
    for flow in model.flows:
        # "internet" is every address no other zone holds: 0.0.0.0/0 must not let cameras or clients in.
        outside = f"ip saddr != @{internal} " if flow.outside_only else ""
        fwd_lines.append(f'\t\t{outside}ip saddr @{flow.sources} ip daddr @{flow.destinations} {flow.protocol} '
                         f'dport {port_expr(flow.ports)} accept comment "{quote(flow.comment)}"')

    lines = header("edge", {"site": model.site, "product": model.product}, host)
    lines.append(f"table {TABLE_FAMILY} {TABLE_NAME} {{")
    for entry in model.sets:
        lines += render_set(entry.name, entry.cidrs, entry.comment)
    lines += input_chain_lines({"kind": s.kind, "sources": s.sources, "protocol": s.protocol, "ports": s.ports,
                                "comment": s.comment} for s in model.input_services)
    lines += ["\tchain ingress {",
              "\t\ttype filter hook prerouting priority raw; policy accept;",
              f"\t\t{INGRESS_RULE}",
              "\t}"]
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
              f'\t\tip saddr @{internal} ip daddr != @{internal} masquerade comment "internal to internet"',
              "\t}",
              "\tchain output {",
              "\t\ttype filter hook output priority filter; policy accept;",
              "\t}",
              "}"]
    return "\n".join(lines) + "\n"
