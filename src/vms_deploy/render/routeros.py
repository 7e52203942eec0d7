"""Edge backend `routeros`: the site's entries on the customer's MikroTik, as community.routeros api_modify calls.

Renders the neutral edge model (vms_deploy.edge.model) into the exact arguments of one
`community.routeros.api_modify` call per path (roles/edge_firewall/tasks/routeros.yml runs them over
the RouterOS API, in this order):

1. `interface list`: one list per site zone (`vms-SITE-servers`, ...) and `vms-SITE-site` (every site
   zone but the Internet), created before anything names them; stale ones removed last;
2. `interface list member`: the device interfaces of vms_edge_interfaces in those lists (twice: once
   over every member of the site's lists, so a member added by hand goes, once over the site's
   marked members, so those of a list the plan no longer has go);
3. `ip firewall address-list`: one list per set the rules use (zones, allow-lists, merged host
   sets such as hosts_recorder), one entry per network (twice, as the members);
4. `ip firewall nat`: one dst-nat per forward (and per port of a shifted range), only for packets
   entering on the Internet interface, to the public address, from the allow-list;
5. `ip firewall filter`, the site's own chain `vms-SITE-fwd`, in order: return established/related
   to the forward chain (the device's fasttrack and accept rules for them still apply), drop invalid,
   drop a site source entering from the Internet (forged), accept the forwards only as dst-nat'ed
   connections from the Internet (connection-nat-state=dstnat, the host's port), accept the merged
   zone flows (source zone's interface list, source and destination lists), drop the rest (logged):
   the site's default drop;
6. `ip firewall filter`, chain forward: one jump to `vms-SITE-fwd` for every packet leaving on a site
   zone's interface; the role keeps it the chain's first rule (`jump_move`), so no rule of the
   device (an IPsec accept, say) admits a new connection into a site zone before the site's chain.

Ownership: every entry's comment starts with `vms-deploy SITE: `; each call is restricted to the
site's entries (`restrict` on the comment, or on the site's chain) and removes the ones the plan no
longer has (handle_absent_entries: remove), so no other entry of the device is read as ours or
touched. Single addresses are written as RouterOS stores them (10.0.0.5, not 10.0.0.5/32), so a
second run finds them equal and changes nothing.
"""
from __future__ import annotations

import ipaddress
import re

from ..edge.model import EdgeModel, build
from .edge_vendor import comment, fit, interfaces, owner, port_pairs, ports_text, yaml_text
from .nft_common import RenderError

NAME = "routeros"
MANAGED_EDGE = True
APPLIED = ("applied on the site's MikroTik (the vms_edge host) by community.routeros api_modify over the RouterOS "
           "API (roles/edge_firewall/tasks/routeros.yml): the site's own lists, NAT rules and filter chain only, "
           "stale entries removed")
NAME_LIMIT = 63


def _name(site: str, text: str) -> str:
    return fit(f"vms-{site}-{text}", NAME_LIMIT)


def chain(site: str) -> str:
    return _name(site, "fwd")


def _address(cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    return str(net.network_address) if net.num_addresses == 1 else str(net)


def _owned(site: str) -> list[dict]:
    """api_modify `restrict`: the entries whose comment carries the site's mark."""
    return [{"field": "comment", "regex": "^" + re.escape(owner(site))}]


def calls(model: EdgeModel) -> list[dict]:
    """The api_modify calls (module arguments without the connection's), in apply order."""
    site = model.site
    iface = interfaces(model, NAME)
    lists = {z: _name(site, z) for z in iface}
    site_list = _name(site, "site")
    used: dict[str, list[str]] = {}  # address list name -> addresses, first-use order
    set_of: dict[str, str] = {}  # address list name -> the model's set

    def address_list(set_name: str) -> str | None:
        entry = model.address_set(set_name)
        if not entry.cidrs:
            return None
        name = _name(site, set_name)
        used.setdefault(name, [_address(c) for c in entry.cidrs])
        set_of[name] = set_name
        return name

    def mark(text: str) -> str:
        return comment(site, text)

    internal = address_list(model.internal)
    nat: list[dict] = []
    rules = [
        # Established and related packets go back to the forward chain: the device's own rules for them
        # (fasttrack, accept) apply; they were admitted as new connections by this chain or are replies.
        {"chain": chain(site), "action": "return", "connection-state": "established,related",
         "comment": mark("established: back to the forward chain")},
        {"chain": chain(site), "action": "drop", "connection-state": "invalid", "comment": mark("invalid")},
    ]
    if internal is not None:
        rules.append({"chain": chain(site), "action": "drop", "in-interface-list": lists["internet"],
                      "src-address-list": internal, "comment": mark("a site source entering from the Internet")})
    for fwd in sorted(model.forwards, key=lambda f: f.name):
        zone = fwd.to_zone or "servers"
        if zone not in iface:
            raise RenderError(f"forward {fwd.name!r}: its host {fwd.to_host} is in zone {zone!r}, which has no "
                              "interface in vms_edge_interfaces; add it")
        sources = address_list(fwd.sources)
        if sources is None:
            continue
        for ext, dst in port_pairs(fwd):
            entry = {"chain": "dstnat", "action": "dst-nat", "in-interface-list": lists["internet"],
                     "dst-address": model.public_address, "protocol": fwd.protocol, "dst-port": ports_text(ext),
                     "src-address-list": sources, "to-addresses": fwd.to_address}
            if ext != dst:
                entry["to-ports"] = ports_text(dst)
            entry["comment"] = mark(f"forward {fwd.name}")
            nat.append(entry)
        rules.append({"chain": chain(site), "action": "accept", "connection-nat-state": "dstnat",
                      "in-interface-list": lists["internet"], "out-interface-list": lists[zone],
                      "src-address-list": sources, "dst-address": fwd.to_address, "protocol": fwd.protocol,
                      "dst-port": ports_text(fwd.to_ports), "comment": mark(f"forward {fwd.name}")})
    for flow in model.flows:
        for zone in (flow.from_zone, flow.to_zone):
            if zone not in iface:
                raise RenderError(f"zone flow {flow.comment}: zone {zone!r} has no interface in vms_edge_interfaces; "
                                  "add it")
        src, dst = address_list(flow.sources), address_list(flow.destinations)
        if src is None or dst is None:
            continue
        rules.append({"chain": chain(site), "action": "accept", "in-interface-list": lists[flow.from_zone],
                      "out-interface-list": lists[flow.to_zone], "src-address-list": src, "dst-address-list": dst,
                      "protocol": flow.protocol, "dst-port": ports_text(flow.ports), "comment": mark(flow.comment)})
    rules.append({"chain": chain(site), "action": "drop", "log": True, "log-prefix": fit(f"vms-{site} drop", 30),
                  "comment": mark("default drop")})

    members = [{"list": lst, "interface": i, "comment": mark(f"interface {i}")} for lst, i in sorted(
        {(lists[z], i) for z, i in iface.items()} | {(site_list, iface[z]) for z in iface if z != "internet"})]
    entries = [{"list": name, "address": a, "comment": mark(model.address_set(set_of[name]).comment)}
               for name, addresses in used.items() for a in addresses]
    interface_lists = [{"name": lists[z], "comment": mark(f"zone {z}")} for z in iface]
    interface_lists.append({"name": site_list, "comment": mark("every site zone but the internet")})
    marked = _owned(site)
    remove = {"handle_absent_entries": "remove", "handle_entries_content": "remove_as_much_as_possible"}

    def in_lists(entries_of: list[dict]) -> list[dict]:
        # Every entry of the site's own lists, marked or not: an entry someone added by hand to a
        # site list would widen the site's rules, so it goes too.
        return [{"field": "list", "values": sorted({e["list"] for e in entries_of})}]

    out = [{"path": "interface list", "data": interface_lists, "restrict": marked,
            "handle_absent_entries": "ignore", "handle_entries_content": "remove_as_much_as_possible"},
           {"path": "interface list member", "data": members, "restrict": in_lists(members), **remove},
           {"path": "interface list member", "data": members, "restrict": marked, **remove}]
    if entries:
        out.append({"path": "ip firewall address-list", "data": entries, "restrict": in_lists(entries), **remove})
    out += [
        {"path": "ip firewall address-list", "data": entries, "restrict": marked, **remove},
        {"path": "ip firewall nat", "data": nat, "restrict": marked + [{"field": "chain", "values": ["dstnat"]}],
         "ensure_order": True, **remove},
        {"path": "ip firewall filter", "data": rules, "restrict": [{"field": "chain", "values": [chain(site)]}],
         "ensure_order": True, **remove},
        {"path": "ip firewall filter",
         "data": [{"chain": "forward", "action": "jump", "jump-target": chain(site), "out-interface-list": site_list,
                   "comment": mark("to the rules of the site")}],
         "restrict": marked + [{"field": "chain", "values": ["forward"]}], **remove},
        {"path": "interface list", "data": interface_lists, "restrict": marked, **remove},
    ]
    return out


def data(model: EdgeModel) -> dict:
    return {"site": model.site, "owner": owner(model.site), "chain": chain(model.site), "calls": calls(model)}


def text(payload: dict) -> str:
    head = (f"# vms-deploy edge for site {payload['site']}: community.routeros api_modify calls (backend routeros).\n"
            "# Generated from the site plan; roles/edge_firewall/tasks/routeros.yml runs exactly these.\n")
    return yaml_text(head, payload)


def render(model: EdgeModel, provenance=None) -> dict[str, str]:
    """The backend interface (vms_deploy.edge): {"routeros.yml": the api_modify calls}; no provenance block
    in device data."""
    return {"routeros.yml": text(data(model))}


def plan_data(plan: dict) -> dict:
    """The api_modify calls of a plan's edge (the vms_edge_data filter)."""
    return data(build(plan, (plan.get("edge") or {}).get("host"), backend=NAME))


def jump_move(payload: dict, entries: list[dict]) -> dict | None:
    """The move that puts the site's jump ahead of every forward rule of the device, or None when it is.

    entries: `ip firewall filter` as community.routeros.api_info returns it (table order, dynamic
    entries left out). Only other vms-deploy sites' jumps may precede it (each matches its own site's
    interfaces only, so their order does not matter and two sites never move each other's jump on
    every run). {"numbers": jump id, "destination": id of the rule it goes before}; "numbers" is None
    in check mode, when the jump is not on the device yet (a new rule goes last)."""
    forward = [e for e in entries if e.get("chain") == "forward" and not e.get("dynamic")]
    mark = payload["owner"]

    def is_ours(e: dict) -> bool:
        return (e.get("action") == "jump" and e.get("jump-target") == payload["chain"]
                and str(e.get("comment") or "").startswith(mark))

    def another_sites(e: dict) -> bool:
        return (e.get("action") == "jump" and str(e.get("jump-target") or "").startswith("vms-")
                and str(e.get("comment") or "").startswith("vms-deploy "))

    jump = next((e for e in forward if is_ours(e)), None)
    for entry in forward:
        if entry is jump:
            return None
        if not another_sites(entry):
            return {"numbers": jump.get(".id") if jump else None, "destination": entry.get(".id")}
    return None
