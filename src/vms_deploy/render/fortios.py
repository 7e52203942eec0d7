"""Edge backend `fortios`: the site's objects on the customer's FortiGate, as fortinet.fortios module data.

Renders the neutral edge model (vms_deploy.edge.model) into the exact `firewall_*` arguments of the
fortinet.fortios modules (roles/edge_firewall/tasks/fortios.yml applies them over httpapi):

- `firewall_address`: one address per network of the sets the rules use; `firewall_addrgrp`: one
  group per set (zones, allow-lists, merged host sets such as hosts_recorder);
- `firewall_service_custom`: one service per protocol and port range;
- `firewall_vip`: one virtual IP per forward (the public address, the forward's ports mapped onto
  the host's, the allow-list as its source filter);
- `firewall_policy`, in this order, as one block the role keeps at the top of the policy list:
  1. deny what enters on the Internet interface with a site source (a forged source is never
     DNAT'ed nor routed: the edge contract's "DNAT only from outside the site");
  2. accept each forward: Internet interface -> the host's zone interface, the allow-list, the VIP,
     the host's port (a VIP policy matches the translated port);
  3. accept each merged zone flow: its source zone's interface -> its destination zone's, its
     source and destination groups (a flow from the internet zone only after 1, so outside only);
  4. deny anything else into a site zone's interface (any source interface, VIPs included:
     match-vip), logged: the site's default deny, whatever policies follow the block.
  Denies 1 and 4 keep fixed ids (the block's first and last), so a changed plan never leaves the
  block without them while the accepts between are rewritten.

Ownership: every object's name starts with `vms-SITE-` and its comment with `vms-deploy SITE: `;
the role removes the owned objects the plan no longer has and refuses to touch a policy id or a
name it does not own. Traffic from the site to the Internet is left to the customer's policies (the
block denies only what goes into a site zone).
"""
from __future__ import annotations

import zlib

from ..edge.model import EdgeModel, build
from .edge_vendor import comment, fit, interfaces, ports_text, site_token, yaml_text
from .nft_common import RenderError

NAME = "fortios"
MANAGED_EDGE = True
APPLIED = ("applied on the site's FortiGate (the vms_edge host, httpapi) by fortinet.fortios modules "
           "(roles/edge_firewall/tasks/fortios.yml): owned objects only, stale ones removed, the site's "
           "policy block kept first")

# FortiOS name limits (CLI reference: firewall address/addrgrp/vip/service custom 79, policy name 35).
NAME_LIMIT = 79
POLICY_NAME_LIMIT = 35
POLICY_BLOCK = 1000  # ids per site: base (forged-source deny) .. base + 999 (default deny)
POLICY_ID_MAX = 4294967294
# Built-in FortiOS objects the two denies name (present on every FortiGate and VDOM).
ALL_ADDRESS, ALL_SERVICE, ANY_INTERFACE = "all", "ALL", "any"


def prefix(site: str) -> str:
    return f"vms-{site_token(site)}-"


def default_policy_id_base(site: str) -> int:
    """A block of 1000 ids from the site's name, far above hand-made policies (1, 2, 3...): two sites on
    one FortiGate get different blocks unless their names collide (then set vms_edge_policy_id_base)."""
    return 1_000_000_000 + (zlib.crc32(site.encode("utf-8")) % 1_000_000) * POLICY_BLOCK


def policy_ids(site: str, base: int | None) -> tuple[int, int]:
    first = default_policy_id_base(site) if base is None else int(base)
    if not 1 <= first <= POLICY_ID_MAX - POLICY_BLOCK + 1:
        raise RenderError(f"vms_edge_policy_id_base {first} leaves no room for {POLICY_BLOCK} policy ids; "
                          f"use a number from 1 to {POLICY_ID_MAX - POLICY_BLOCK + 1}")
    return first, first + POLICY_BLOCK - 1


def _subnet(cidr: str) -> str:
    import ipaddress

    net = ipaddress.ip_network(cidr, strict=False)
    return f"{net.network_address} {net.netmask}"


class _Objects:
    """The named objects the policies use, each made once, in first-use order (byte-stable)."""

    def __init__(self, model: EdgeModel):
        self.model, self.pfx = model, prefix(model.site)
        self.addresses: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.services: dict[str, dict] = {}

    def name(self, text: str) -> str:
        return fit(self.pfx + text, NAME_LIMIT)

    def group(self, set_name: str) -> str | None:
        """The group of a model set (None for an empty set: a policy on it would match nothing)."""
        entry = self.model.address_set(set_name)
        if not entry.cidrs:
            return None
        gname = self.name(set_name)
        if gname not in self.groups:
            members = []
            for cidr in entry.cidrs:
                aname = self.name(cidr.replace("/", "_"))
                self.addresses.setdefault(aname, {"name": aname, "type": "ipmask", "subnet": _subnet(cidr),
                                                  "comment": comment(self.model.site, cidr)})
                members.append({"name": aname})
            self.groups[gname] = {"name": gname, "member": members,
                                  "comment": comment(self.model.site, entry.comment)}
        return gname

    def service(self, protocol: str, ports) -> str:
        text = ports_text(ports)
        sname = self.name(f"{protocol}-{text}")
        if sname not in self.services:
            self.services[sname] = {"name": sname, "protocol": "TCP/UDP/SCTP", f"{protocol}_portrange": text,
                                    "comment": comment(self.model.site, f"{protocol}/{text}")}
        return sname


def data(model: EdgeModel) -> dict:
    """The module data: {site, owner, prefix, policy_ids, firewall_address, firewall_addrgrp,
    firewall_service_custom, firewall_vip, firewall_policy} (lists in apply order)."""
    site = model.site
    iface = interfaces(model, NAME)
    site_ifaces = sorted({iface[z] for z in iface if z != "internet"})
    if not site_ifaces:
        raise RenderError(f"site {site!r}: no site zone has networks; nothing for the FortiGate to protect")
    first, last = policy_ids(site, model.policy_id_base)
    objects = _Objects(model)
    pfx = objects.pfx
    names = lambda *items: [{"name": n} for n in items]  # noqa: E731 - the modules' list-of-dict shape

    policies: list[dict] = []

    def policy(pid: int, text: str, **fields) -> None:
        policies.append({"policyid": pid, "name": fit(f"{pfx}{pid - first:03d}", POLICY_NAME_LIMIT),
                         "status": "enable", **fields, "schedule": "always",
                         "comments": comment(site, text, 1023)})

    internal = objects.group(model.internal)
    if internal is not None:
        policy(first, "deny: a site source entering from the Internet (forged)", action="deny",
               srcintf=names(iface["internet"]), dstintf=names(*site_ifaces), srcaddr=names(internal),
               dstaddr=names(ALL_ADDRESS), service=names(ALL_SERVICE), match_vip="enable", logtraffic="all")

    vips: list[dict] = []
    accepts: list[tuple[str, dict]] = []
    for fwd in sorted(model.forwards, key=lambda f: f.name):
        zone = fwd.to_zone or "servers"
        if zone not in iface:
            raise RenderError(f"forward {fwd.name!r}: its host {fwd.to_host} is in zone {zone!r}, which has no "
                              "interface in vms_edge_interfaces; add it")
        ext, dst = tuple(fwd.external_ports), tuple(fwd.to_ports)
        if ext[1] - ext[0] != dst[1] - dst[0]:
            raise RenderError(f"forward {fwd.name!r}: external ports {list(ext)} cannot be mapped onto internal "
                              f"ports {list(dst)}; use ranges of equal length")
        sources = objects.group(fwd.sources)
        if sources is None:
            continue  # an empty allow-list admits nobody
        vname = objects.name(f"fwd-{fwd.name}")
        vip = {"name": vname, "type": "static-nat", "extip": model.public_address, "extintf": ANY_INTERFACE,
               "mappedip": [{"range": fwd.to_address}], "portforward": "enable", "protocol": fwd.protocol,
               "extport": ports_text(ext), "mappedport": ports_text(dst),
               "comment": comment(site, f"forward {fwd.name} to {fwd.to_host} ({fwd.component}/{fwd.service})")}
        allowed = model.address_set(fwd.sources).cidrs
        if allowed != ("0.0.0.0/0",):
            vip["src_filter"] = [{"range": c} for c in allowed]
        vips.append(vip)
        accepts.append((f"forward {fwd.name}: Internet -> {fwd.to_host} {fwd.protocol}/{ports_text(dst)}", {
            "action": "accept", "srcintf": names(iface["internet"]), "dstintf": names(iface[zone]),
            "srcaddr": names(sources), "dstaddr": names(vname), "service": names(objects.service(fwd.protocol, dst)),
            "nat": "disable"}))
    for flow in model.flows:
        for zone in (flow.from_zone, flow.to_zone):
            if zone not in iface:
                raise RenderError(f"zone flow {flow.comment}: zone {zone!r} has no interface in vms_edge_interfaces; "
                                  "add it")
        src, dst = objects.group(flow.sources), objects.group(flow.destinations)
        if src is None or dst is None:
            continue
        accepts.append((f"{flow.comment} {flow.protocol}/{ports_text(flow.ports)}", {
            "action": "accept", "srcintf": names(iface[flow.from_zone]), "dstintf": names(iface[flow.to_zone]),
            "srcaddr": names(src), "dstaddr": names(dst), "service": names(objects.service(flow.protocol, flow.ports)),
            "nat": "disable"}))
    if len(accepts) > POLICY_BLOCK - 2:
        raise RenderError(f"site {site!r}: {len(accepts)} policies do not fit the block of {POLICY_BLOCK} ids")
    for i, (text, fields) in enumerate(accepts, start=1):
        policy(first + i, text, **fields)
    policy(last, "deny: anything else into a site zone (default deny)", action="deny",
           srcintf=names(ANY_INTERFACE), dstintf=names(*site_ifaces), srcaddr=names(ALL_ADDRESS),
           dstaddr=names(ALL_ADDRESS), service=names(ALL_SERVICE), match_vip="enable", logtraffic="all")

    return {"site": site, "owner": comment(site, ""), "prefix": pfx, "policy_ids": [first, last],
            "firewall_address": list(objects.addresses.values()), "firewall_addrgrp": list(objects.groups.values()),
            "firewall_service_custom": list(objects.services.values()), "firewall_vip": vips,
            "firewall_policy": policies}


def text(payload: dict) -> str:
    head = (f"# vms-deploy edge for site {payload['site']}: fortinet.fortios module data (backend fortios).\n"
            "# Generated from the site plan; roles/edge_firewall/tasks/fortios.yml applies exactly this.\n")
    return yaml_text(head, payload)


def render(model: EdgeModel, provenance=None) -> dict[str, str]:
    """The backend interface (vms_deploy.edge): {"fortios.yml": the module data}; module data for a
    device carries no provenance block (the reviewed plan digest is in the plan)."""
    return {"fortios.yml": text(data(model))}


def plan_data(plan: dict) -> dict:
    """The module data of a plan's edge (the vms_edge_data filter)."""
    return data(build(plan, (plan.get("edge") or {}).get("host"), backend=NAME))


# --- What the role does with the device's current objects (roles/edge_firewall/tasks/fortios.yml) --------

OBJECT_KEYS = ("firewall_vip", "firewall_addrgrp", "firewall_address", "firewall_service_custom")  # delete order


def _comment(entry: dict) -> str:
    return str(entry.get("comments") if "comments" in entry else entry.get("comment") or "")


def reconcile(payload: dict, current: dict) -> dict:
    """Compare the module data with the device's objects (current: {firewall_policy: [{policyid, name,
    comments}] in list order, firewall_vip / _addrgrp / _address / _service_custom: [{name, comment}]}).

    An object is the site's when its comment carries the site's mark (`owner`); anything else is
    never changed or deleted. Returns {"collisions": [text], "stale": {key: [name or policyid]}}:
    collisions are objects the data would overwrite but the site does not own (a policy id of the
    site's block, a name); stale are owned objects the data no longer has."""
    mark = payload["owner"]
    first, last = payload["policy_ids"]
    collisions: list[str] = []
    stale: dict[str, list] = {}
    wanted_ids = {p["policyid"] for p in payload["firewall_policy"]}
    for entry in current.get("firewall_policy") or []:
        pid = int(entry.get("policyid"))
        mine = _comment(entry).startswith(mark)
        if first <= pid <= last and not mine:
            collisions.append(f"firewall policy {pid} ({entry.get('name') or 'no name'}) is in the site's id block "
                              f"{first}-{last} but not the site's; set vms_edge_policy_id_base to a free block")
        elif mine and pid not in wanted_ids:
            stale.setdefault("firewall_policy", []).append(pid)
    for key in OBJECT_KEYS:
        wanted = {e["name"] for e in payload[key]}
        for entry in current.get(key) or []:
            name, mine = entry.get("name"), _comment(entry).startswith(mark)
            if name in wanted and not mine:
                collisions.append(f"{key.replace('_', ' ')} {name!r} exists and is not the site's (its comment "
                                  f"does not start with {mark!r}); rename or remove it")
            elif mine and name not in wanted:
                stale.setdefault(key, []).append(name)
    return {"collisions": collisions, "stale": stale}


def moves(payload: dict, order: list) -> list[dict]:
    """The `move` calls that put the site's policies, in the data's order, first in the policy list.

    order: the device's policy ids in list order. A policy of the data the device does not have yet
    (check mode) counts as appended at the end, where FortiOS puts a new policy. Each move is
    {"self": id, "before": id} or {"self": id, "after": id}; none when the block is in place."""
    ours = [p["policyid"] for p in payload["firewall_policy"]]
    seq = [int(pid) for pid in order]
    seq += [pid for pid in ours if pid not in seq]
    out: list[dict] = []
    for i, pid in enumerate(ours):
        at = seq.index(pid)
        if at == i:
            continue
        seq.pop(at)
        if i == 0:
            out.append({"self": str(pid), "before": str(seq[0])})
        else:
            out.append({"self": str(pid), "after": str(ours[i - 1])})
        seq.insert(i, pid)
    return out
