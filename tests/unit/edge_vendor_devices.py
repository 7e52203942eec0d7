"""Stand-ins for the vendor edges, and interpreters of their rules: the independent judges of the
fortios and routeros backends (no FortiGate or RouterOS device can run here).

- `RouterOS`: an in-memory RouterOS API (tables of entries with .id, add/update/remove/move as the
  API does, in table order) that community.routeros's own api_modify code runs against: its backend
  functions (sync_with_primary_keys, sync_list) decide what is created, changed, moved and removed,
  so ownership (`restrict`), removal (`handle_absent_entries`) and ordering (`ensure_order`) are
  the vendor module's, not ours.
- `routeros_edge(device, ...)`: walks a new connection through the device's tables as RouterOS
  does: the dstnat chain (first dst-nat wins), routing by the destination's zone, then the filter's
  forward chain from its first rule (jumps, returns, the end of a chain), matching only the keys it
  knows (an unknown matcher fails the test: it cannot judge it).
- `fortios_edge(data, ...)`: the same walk through FortiOS semantics over rendered module data: a
  VIP (external address, protocol, port, source filter) translates first, then the policy list is
  read top down by ingress and egress interface, source and destination address (a VIP policy names
  the VIP; a deny policy with match-vip also sees translated traffic), and service; the implicit
  deny ends it.
- `end_to_end(plan, edge)`: a judge for vms_deploy.invariants: the edge's verdict, then the
  destination host's own firewall (the plan's inbound rules, as the host renderers enforce them).
  The device's own services (its local-in / input chain, administration) are the admin's and are
  not judged: a packet for the device itself counts as refused.

The interface a packet enters on is the one of its source's zone (vms_edge_interfaces); a forged
source is judged by giving another zone explicitly.
"""
from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from edge_vendor_cases import module_argument_spec

from vms_deploy.zones import zone_index

_RO = "ansible_collections.community.routeros.plugins"


# --- RouterOS API stand-in ---------------------------------------------------------------------------

class _Table:
    def __init__(self, device: RouterOS, parts: tuple):
        self.device, self.parts = device, parts

    def join(self, *parts):
        return _Table(self.device, self.parts + parts)

    @property
    def rows(self) -> list[dict]:
        return self.device.tables.setdefault(" ".join(self.parts), [])

    def __iter__(self):
        return iter([dict(r) for r in self.rows])

    def add(self, **values):
        self.device.counter += 1
        rid = f"*{self.device.counter:X}"
        self.rows.append({".id": rid, **{k: v for k, v in values.items() if v is not None}})
        return rid

    def _find(self, rid) -> dict:
        return next(r for r in self.rows if r[".id"] == rid)

    def update(self, **values):
        row = self._find(values.pop(".id"))
        for key, value in values.items():
            if key.startswith("!"):
                row.pop(key[1:], None)
            else:
                row[key] = value

    def remove(self, *ids):
        self.device.tables[" ".join(self.parts)] = [r for r in self.rows if r[".id"] not in ids]

    def __call__(self, command, **args):
        assert command == "move", command
        rows = self.rows
        row = self._find(args["numbers"])
        rows.remove(row)
        rows.insert(rows.index(self._find(args["destination"])), row)  # before the destination, as RouterOS
        return iter(())


class _Exit(Exception):
    def __init__(self, result):
        self.result = result


class _Fail(Exception):
    pass


class _Module:
    def __init__(self, params, check_mode):
        self.params, self.check_mode, self._diff = params, check_mode, True

    def exit_json(self, **result):
        raise _Exit(result)

    def fail_json(self, msg, **kwargs):
        raise _Fail(msg)


class RouterOS:
    """A RouterOS device's configuration tables, changed only through api_modify's own code."""

    def __init__(self, tables: dict[str, list[dict]] | None = None, version: str = "7.16"):
        self.tables: dict[str, list[dict]] = {}
        self.counter, self.version = 0, version
        for path, rows in (tables or {}).items():
            for row in rows:
                _Table(self, tuple(path.split())).add(**row)

    def path(self):
        return _Table(self, ())

    def api_modify(self, call: dict, check_mode: bool = False) -> dict:
        """Run api_modify's backend for one call (arguments as the role passes them)."""
        from ansible_collections.community.routeros.plugins.module_utils._api_data import PATHS, split_path
        from ansible_collections.community.routeros.plugins.module_utils._api_helper import (
            validate_and_prepare_restrict,
        )
        from ansible_collections.community.routeros.plugins.modules import api_modify

        api_modify.LibRouterosError = getattr(api_modify, "LibRouterosError", RuntimeError)
        args = {**copy.deepcopy(call), "hostname": "router", "username": "u", "password": "p"}
        checked = ArgumentSpecValidator(module_argument_spec(f"{_RO}.modules.api_modify")).validate(args)
        assert not checked.error_messages, checked.error_messages
        module = _Module(checked.validated_parameters, check_mode)
        path = split_path(call["path"])
        versioned = PATHS[tuple(path)]
        if versioned.needs_version:
            assert versioned.provide_version(self.version)[0]
        info = versioned.get_data()
        try:
            api_modify.get_backend(info)(module, self, path, info, validate_and_prepare_restrict(module, info))
        except _Exit as done:
            return done.result
        raise AssertionError("api_modify returned without exit_json")

    def rows(self, path: str) -> list[dict]:
        return [dict(r) for r in self.tables.get(path, [])]

    def move(self, numbers, destination):
        _Table(self, ("ip", "firewall", "filter"))("move", numbers=numbers, destination=destination)


def apply_routeros(device: RouterOS, payload: dict, check_mode: bool = False) -> list[dict]:
    """What roles/edge_firewall/tasks/routeros.yml does: every call in order, then the jump first."""
    from vms_deploy.render import routeros

    results = [device.api_modify(call, check_mode) for call in payload["calls"]]
    move = routeros.jump_move(payload, [r for r in device.rows("ip firewall filter") if not r.get("dynamic")])
    if move and not check_mode:
        device.move(move["numbers"], move["destination"])
    return results


# --- matching ------------------------------------------------------------------------------------------

def _in(address: str, cidrs) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(c, strict=False) for c in cidrs)


def _ports(text: str, port: int) -> bool:
    for part in str(text).split(","):
        first, _, last = part.partition("-")
        if int(first) <= port <= int(last or first):
            return True
    return False


class Packet:
    def __init__(self, src, dst, proto, port, in_iface, out_iface=None, dnat=False):
        self.src, self.dst, self.proto, self.port = src, dst, proto, port
        self.in_iface, self.out_iface, self.dnat = in_iface, out_iface, dnat


# --- RouterOS interpreter --------------------------------------------------------------------------------

IGNORED = {".id", "comment", "log", "log-prefix", "hw-offload", "dynamic", "invalid", "bytes", "packets"}


class _RouterOSView:
    def __init__(self, device: RouterOS):
        self.lists: dict[str, set] = {}
        for m in device.rows("interface list member"):
            if not m.get("disabled"):
                self.lists.setdefault(m["list"], set()).add(m["interface"])
        self.addresses: dict[str, list] = {}
        for a in device.rows("ip firewall address-list"):
            if not a.get("disabled"):
                self.addresses.setdefault(a["list"], []).append(a["address"])
        self.filter = [r for r in device.rows("ip firewall filter") if not r.get("disabled")]
        self.nat = [r for r in device.rows("ip firewall nat") if not r.get("disabled")]

    def matches(self, rule: dict, pkt: Packet) -> bool:
        for key, want in rule.items():
            if key in IGNORED or key in ("chain", "action", "jump-target", "to-addresses", "to-ports", "disabled",
                                         "reject-with"):
                continue
            negate = isinstance(want, str) and want.startswith("!")
            value = want[1:] if negate else want
            if key == "connection-state":
                hit = "new" in value.split(",")  # every judged packet opens a new connection
            elif key == "connection-nat-state":
                hit = pkt.dnat and "dstnat" in value.split(",")
            elif key == "ipsec-policy":
                hit = value.endswith(",none")  # a plain packet matches no IPsec policy
            elif key == "in-interface":
                hit = pkt.in_iface == value
            elif key == "out-interface":
                hit = pkt.out_iface == value
            elif key == "in-interface-list":
                hit = pkt.in_iface in self.lists.get(value, set()) or value == "all"
            elif key == "out-interface-list":
                hit = pkt.out_iface in self.lists.get(value, set()) or value == "all"
            elif key == "src-address":
                hit = _in(pkt.src, [value])
            elif key == "dst-address":
                hit = _in(pkt.dst, [value])
            elif key == "src-address-list":
                hit = _in(pkt.src, self.addresses.get(value, []))
            elif key == "dst-address-list":
                hit = _in(pkt.dst, self.addresses.get(value, []))
            elif key == "protocol":
                hit = pkt.proto == value
            elif key == "dst-port":
                hit = _ports(value, pkt.port)
            else:
                raise AssertionError(f"the RouterOS interpreter does not know the matcher {key}={want} of {rule}")
            if hit == negate:
                return False
        return True

    def dstnat(self, pkt: Packet) -> Packet:
        for rule in self.nat:
            if rule.get("chain") != "dstnat" or not self.matches(rule, pkt):
                continue
            if rule["action"] == "accept":
                return pkt
            assert rule["action"] == "dst-nat", rule
            port = pkt.port
            if rule.get("to-ports"):
                assert "-" not in str(rule["to-ports"]), "a to-ports range picks any port of it: not judged"
                port = int(rule["to-ports"])
            return Packet(pkt.src, rule["to-addresses"], pkt.proto, port, pkt.in_iface, dnat=True)
        return pkt

    def chain(self, name: str, pkt: Packet, depth: int = 0) -> str | None:
        assert depth < 8, "jump loop"
        for rule in self.filter:
            if rule.get("chain") != name or not self.matches(rule, pkt):
                continue
            action = rule["action"]
            if action in ("accept", "drop", "reject"):
                return action
            if action == "return":
                return None
            if action == "jump":
                got = self.chain(rule["jump-target"], pkt, depth + 1)
                if got is not None:
                    return got
                continue
            if action in ("passthrough", "log"):
                continue
            raise AssertionError(f"the RouterOS interpreter does not know action {action} of {rule}")
        return None  # the end of a custom chain returns; the end of forward accepts (RouterOS's default)


def routeros_edge(device: RouterOS, public: str | None) -> Callable:
    view = _RouterOSView(device)

    def edge(src, dst, proto, port, in_iface, out_iface_of) -> tuple[str, int] | None:
        pkt = view.dstnat(Packet(src, dst, proto, port, in_iface))
        if not pkt.dnat and dst == public:
            return None  # for the device itself (its input chain: the admin's)
        pkt.out_iface = out_iface_of(pkt.dst)
        if view.chain("forward", pkt) in (None, "accept"):
            return pkt.dst, pkt.port
        return None

    return edge


# --- FortiOS interpreter -----------------------------------------------------------------------------------

def fortios_edge(data: dict, public: str | None, extra_policies: list[dict] | None = None,
                 before: list[dict] | None = None) -> Callable:
    """The FortiGate as the role leaves it: the site's block first, then the device's other policies."""
    addresses = {a["name"]: a["subnet"] for a in data["firewall_address"]}
    groups = {g["name"]: [m["name"] for m in g["member"]] for g in data["firewall_addrgrp"]}
    services = {s["name"]: s for s in data["firewall_service_custom"]}
    vips = {v["name"]: v for v in data["firewall_vip"]}
    policies = list(before or []) + list(data["firewall_policy"]) + list(extra_policies or [])

    def cidrs(name: str) -> list[str]:
        if name == "all":
            return ["0.0.0.0/0"]
        if name in groups:
            return [c for member in groups[name] for c in cidrs(member)]
        subnet = addresses[name]
        net, mask = subnet.split()
        return [str(ipaddress.ip_network(f"{net}/{mask}"))]

    def service_hit(name: str, proto: str, port: int) -> bool:
        if name == "ALL":
            return True
        text = services[name].get(f"{proto}_portrange")
        return bool(text) and _ports(str(text).replace(" ", ","), port)

    def vip_of(src, dst, proto, port):
        for vip in vips.values():
            if vip["extip"] != dst or vip.get("protocol", "tcp") != proto or not _ports(vip["extport"], port):
                continue
            if vip.get("src_filter") and not _in(src, [r["range"] for r in vip["src_filter"]]):
                continue
            first = int(str(vip["extport"]).split("-")[0])
            mapped = int(str(vip["mappedport"]).split("-")[0]) + (port - first)
            return vip["name"], vip["mappedip"][0]["range"], mapped
        return None

    def edge(src, dst, proto, port, in_iface, out_iface_of) -> tuple[str, int] | None:
        vip = vip_of(src, dst, proto, port)
        if vip is None and dst == public:
            return None  # the FortiGate itself (local-in: the admin's)
        real_dst, real_port = (vip[1], vip[2]) if vip else (dst, port)
        out = out_iface_of(real_dst)
        for policy in policies:
            if policy.get("status", "enable") != "enable":
                continue
            if not {i["name"] for i in policy["srcintf"]} & {in_iface, "any"}:
                continue
            if not {i["name"] for i in policy["dstintf"]} & {out, "any"}:
                continue
            if not any(_in(src, cidrs(a["name"])) for a in policy["srcaddr"]):
                continue
            dst_names = {a["name"] for a in policy["dstaddr"]}
            if vip:
                seen_by_deny = policy.get("match_vip") == "enable" and any(
                    _in(real_dst, cidrs(n)) for n in dst_names if n not in vips)
                if vip[0] not in dst_names and not seen_by_deny:
                    continue
            elif not any(n not in vips and _in(real_dst, cidrs(n)) for n in dst_names):
                continue
            if not any(service_hit(s["name"], proto, real_port) for s in policy["service"]):
                continue
            return (real_dst, real_port) if policy["action"] == "accept" else None
        return None  # the implicit deny (policy 0)

    return edge


# --- end to end ----------------------------------------------------------------------------------------

def end_to_end(plan: dict, edge: Callable, ingress: dict | None = None) -> Callable:
    """judge(source, destination, protocol, port) for vms_deploy.invariants, through the vendor edge.

    ingress: {address: zone} to send from another zone's interface than the address's own (forged)."""
    hosts = plan["hosts"]
    interfaces = plan["edge"]["interfaces"]
    classify = zone_index(plan.get("zones") or {})
    by_address = {h["address"]: n for n, h in hosts.items() if h.get("address")}
    edge_host = plan["edge"].get("host")
    public = plan["edge"].get("public_address")

    def zone(address: str) -> str:
        host = by_address.get(address)
        if host and hosts[host].get("zone") not in (None, "edge"):
            return hosts[host]["zone"]
        return classify(address + "/32")

    def out_iface(address: str) -> str:
        return interfaces.get(zone(address), interfaces["internet"])

    def host_allows(address: str, proto: str, port: int, src: str) -> bool:
        host = by_address.get(address)
        if host is None:
            return True  # no plan host: vms-deploy does not filter it (as the evaluator says)
        return any(r["protocol"] == proto and r["ports"][0] <= port <= r["ports"][1] and _in(src, r["sources"])
                   for r in hosts[host].get("inbound") or [])

    def judge(src, dst, proto, port) -> bool:
        if edge_host and dst == hosts[edge_host].get("address"):
            return False  # the device's own services are the admin's
        if edge_host and src == hosts[edge_host].get("address"):
            return host_allows(dst, proto, port, src)  # from the device itself: its output is not the site's
        src_zone = (ingress or {}).get(src) or zone(src)
        if dst != public and src_zone == zone(dst) and not (ingress and src in ingress):
            return host_allows(dst, proto, port, src)  # same network: the edge is not on the path
        got = edge(src, dst, proto, port, interfaces.get(src_zone, interfaces["internet"]), out_iface)
        return got is not None and host_allows(got[0], proto, got[1], src)

    return judge


# --- the devices as a site meets them ----------------------------------------------------------------

# The customer's own configuration on the MikroTik (RouterOS defconf, plus a few of their own).
CUSTOMER = {
    "interface list": [{"name": "WAN", "comment": "defconf"}, {"name": "LAN", "comment": "defconf"}],
    "interface list member": [{"list": "WAN", "interface": "ether1", "comment": "defconf"},
                              {"list": "LAN", "interface": "bridge", "comment": "defconf"}],
    "ip firewall address-list": [{"list": "blocked", "address": "100.66.0.0/16", "comment": "customer"}],
    "ip firewall nat": [{"chain": "srcnat", "action": "masquerade", "out-interface-list": "WAN", "comment": "defconf"},
                        {"chain": "dstnat", "action": "dst-nat", "protocol": "tcp", "dst-port": "2222",
                         "in-interface-list": "WAN", "to-addresses": "192.168.88.50", "comment": "customer ssh"}],
    "ip firewall filter": [
        {"chain": "input", "action": "accept", "connection-state": "established,related", "comment": "defconf"},
        {"chain": "forward", "action": "accept", "ipsec-policy": "in,ipsec", "comment": "defconf"},
        {"chain": "forward", "action": "fasttrack-connection", "connection-state": "established,related",
         "hw-offload": True, "comment": "defconf"},
        {"chain": "forward", "action": "accept", "connection-state": "established,related,untracked",
         "comment": "defconf"},
        {"chain": "forward", "action": "drop", "connection-state": "invalid", "comment": "defconf"},
        {"chain": "forward", "action": "drop", "connection-state": "new", "connection-nat-state": "!dstnat",
         "in-interface-list": "WAN", "comment": "defconf"},
    ],
}
# What a careless admin adds: every new connection from the LAN side accepted. Before the site's
# jump it would open the site; the role puts the jump first.
WIDE_ACCEPT = {"chain": "forward", "action": "accept", "connection-state": "new", "comment": "customer: allow all"}
# The FortiGate's own policies after the site's block (an any/any accept, the worst case).
FORTIGATE_ANY = [{"policyid": 7, "name": "customer-any", "status": "enable", "action": "accept",
                  "srcintf": [{"name": "any"}], "dstintf": [{"name": "any"}], "srcaddr": [{"name": "all"}],
                  "dstaddr": [{"name": "all"}], "service": [{"name": "ALL"}], "schedule": "always"}]



def routeros_device(plan: dict) -> RouterOS:
    """A MikroTik with the customer's configuration, after the role applied the plan's calls."""
    from vms_deploy.render import routeros

    device = RouterOS(copy.deepcopy(CUSTOMER))
    apply_routeros(device, routeros.plan_data(plan))
    return device


def judge_of(plan: dict, backend: str, ingress: dict | None = None) -> Callable:
    """The end-to-end judge of a wired plan on its vendor edge, as the role leaves the device."""
    from vms_deploy.render import fortios

    public = plan["edge"]["public_address"]
    if backend == "routeros":
        return end_to_end(plan, routeros_edge(routeros_device(plan), public), ingress)
    return end_to_end(plan, fortios_edge(fortios.plan_data(plan), public, FORTIGATE_ANY), ingress)
