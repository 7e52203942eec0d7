"""Hypothesis strategies for VALID site inventories.

`sites()` draws the plain data dict the inventory loader produces and compile_plan accepts:
{"hosts": {name: hostvars (site-wide variables repeated on every host, as Ansible merges
group_vars/all)}, "groups": {group: [hosts]}}. It covers each product and topology (all-in-one:
one host in several groups; a separate application server; separate recorders; XProtect's
optional servers), zones (server, DMZ, client, camera, management networks, declared or the
hosts' /32 defaults), remote access (port forward with allow-lists, VPN, none), catalog port
overrides, custom services, features, recorder instances and a routed DMZ (a gateway with its own
public address, vms_routed_public).

Everything drawn is meant to be valid: a ValidationFailed from compile_plan is a generator bug
or a validator/compiler finding, never filtered away. Addresses: each site gets its own 10.N.0.0/16
(hosts 10.N.1.x, DMZ 10.N.9.x, clients 10.N.2-3.x, cameras 10.N.50.x, management 10.N.99.x or
the server LAN, VPN 10.N.200.0/24); the public address and allow-lists come from
100.64.0.0/10. Port numbers given by overrides and custom services come from ranges no catalog
uses (30000-39999 internal, 50000-59999 external), unique within the site, so they never clash.
"""
from __future__ import annotations

import itertools

from hypothesis import strategies as st

from vms_deploy.catalog import load_catalog

PRODUCTS = ("valerus", "xprotect", "generic_nvr")
# Where network roles point: a network of its own (in no zone: the plan then calls it Internet),
# or a part of the client network.
XPROTECT_EXTRA = ("vms_event_source_networks", "vms_analytics_source_networks", "vms_onvif_client_networks",
                  "vms_dlna_device_networks")
XPROTECT_OPTIONAL = ("vms_lpr_servers", "vms_onvif_bridges", "vms_dlna_servers", "vms_screen_recorders",
                     "vms_incident_managers")
ROLES = ("clients", "app_servers", "recorders", "gateways", "all_servers", "management", "internet", "cameras")
# Inputs that break an invariant today, each kept as its smallest site in test_findings.py: the
# generator leaves them out so the property tests keep catching everything else. Remove an entry
# when its finding is fixed (the strict xfail in test_findings.py says when).
KNOWN_FINDINGS: frozenset[str] = frozenset()
# Names: "override-opens-server-port-to-vpn-without-client-network" (test_findings.py).


class _Numbers:
    """Site-unique port numbers and host numbers for one drawn site."""

    def __init__(self):
        self.internal = itertools.count(30000, 7)  # spaced: a drawn range of up to 5 ports fits
        self.next_external = 50000
        self.host = itertools.count(10)

    def external(self, width: int = 1) -> int:
        """First port of a block of `width` router-side ports no other forward uses."""
        first = self.next_external
        self.next_external += max(width, 7) + 1
        return first


def _net(n: int, third: int, length: int = 24, fourth: int = 0) -> str:
    return f"10.{n}.{third}.{fourth}/{length}"


@st.composite
def _sources(draw, n: int, allow_internet: bool, cameras: bool = True, clients: bool = True) -> list[str]:
    roles = [r for r in ROLES if (allow_internet or r != "internet") and (cameras or r != "cameras")
             and (clients or r != "clients")]
    picked = draw(st.lists(st.sampled_from(roles), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        picked.append(draw(st.sampled_from([_net(n, 2, 28, 16), _net(n, 77, 24),
                                            f"10.{n}.1.{draw(st.integers(2, 250))}/32"])))
    return picked


@st.composite
def _ports(draw, numbers: _Numbers):
    first = next(numbers.internal)
    width = draw(st.integers(0, 4))
    return first if width == 0 and draw(st.booleans()) else [first, first + width]


@st.composite
def _overrides(draw, product: str, services: list, numbers: _Numbers, port_forward: bool, n: int,
               vpn_clients_only: bool = False) -> dict:
    """vms_port_overrides for some of the host's catalog services."""
    out = {}
    for svc in draw(st.lists(st.sampled_from(services), max_size=3, unique_by=lambda s: s.name)) if services else []:
        kind = draw(st.sampled_from(["disable", "port", "sources", "external", "enable"]))
        if kind == "disable":
            out[svc.name] = {"enabled": False}
        elif kind == "port":
            out[svc.name] = {"port": next(numbers.internal)}
        elif kind == "sources" and not svc.restricted:  # the validator keeps a restricted service's sources
            # Cameras may be given only what the catalog already gives them (validator).
            cameras = "cameras" in svc.connects_from
            clients = not (vpn_clients_only and
                           "override-opens-server-port-to-vpn-without-client-network" in KNOWN_FINDINGS)
            out[svc.name] = {"connects_from": draw(_sources(n, allow_internet=bool(svc.forward_external),
                                                            cameras=cameras, clients=clients))}
        elif kind == "external" and svc.forward_external and port_forward:
            out[svc.name] = {"external_port": numbers.external()}
        elif kind == "enable" and svc.feature:
            out[svc.name] = {"enabled": True}
    return out


@st.composite
def _custom(draw, numbers: _Numbers, port_forward: bool, n: int, host_index: int, recorder: bool) -> list[dict]:
    out = []
    for i in range(draw(st.integers(1, 2))):
        entry = {"name": f"custom_{host_index}_{i}", "port": draw(_ports(numbers)),
                 "protocol": draw(st.sampled_from(["tcp", "udp", "tcp+udp"]))}
        forward = port_forward and draw(st.integers(0, 2)) == 0
        if draw(st.booleans()):
            # Only a recorder may declare a service for the cameras (validator).
            entry["connects_from"] = draw(_sources(n, allow_internet=True, cameras=recorder))
        if forward:
            if draw(st.booleans()):
                first, last = (entry["port"], entry["port"]) if isinstance(entry["port"], int) else entry["port"]
                entry["external_port"] = numbers.external(last - first + 1)
            else:
                entry["forward"] = True  # outside on the internal port (site-unique too)
        out.append(entry)
    return out


@st.composite
def _groups(draw, product: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Group membership (the topology) and each host's zone hint: servers, dmz or edge."""
    groups: dict[str, list[str]] = {}
    zone: dict[str, str] = {}

    def put(group, host, where="servers"):
        groups.setdefault(group, []).append(host)
        zone.setdefault(host, where)

    if product == "generic_nvr":
        for i in range(draw(st.integers(1, 3))):
            put("vms_recorders", f"nvr{i + 1}")
    else:
        topology = draw(st.sampled_from(["all_in_one", "separate_app_server", "separate_recorders"]))
        put("vms_app_servers", "app")
        if topology in ("all_in_one", "separate_recorders"):
            put("vms_recorders", "app")
        extra = {"all_in_one": 0, "separate_app_server": draw(st.integers(1, 3)),
                 "separate_recorders": draw(st.integers(1, 2))}[topology]
        for i in range(extra):
            put("vms_recorders", f"rec{i + 1}")
        gateway = draw(st.sampled_from(["none", "on_app", "alone"]))
        if gateway == "on_app":
            put("vms_gateways", "app")
        elif gateway == "alone":
            put("vms_gateways", "gw", "dmz")
        if product == "xprotect":
            for group, host in (("vms_event_servers", "event"), ("vms_log_servers", "log"), ("vms_sql_servers", "sql")):
                if draw(st.integers(0, 3)) == 0:
                    put(group, host)
            for i in range(draw(st.integers(0, 2))):
                put("vms_failover_recorders", f"fo{i + 1}")
            for group in draw(st.lists(st.sampled_from(XPROTECT_OPTIONAL), max_size=2, unique=True)):
                put(group, group.removeprefix("vms_").removesuffix("s").replace("_", ""))
    return groups, zone


@st.composite
def sites(draw, products=PRODUCTS) -> dict:
    product = draw(st.sampled_from(products))
    catalog = load_catalog(product)
    n = draw(st.integers(1, 250))
    numbers = _Numbers()
    groups, zone = draw(_groups(product))
    has_gateway = bool(groups.get("vms_gateways"))
    edge = draw(st.booleans())
    remote = draw(st.sampled_from(["default", "port_forward", "none", "vpn"]))
    if remote == "vpn" and not edge:
        remote = "default"
    if remote == "port_forward" and product != "generic_nvr" and not has_gateway:
        remote = "none"
    if remote == "default":
        nvr_forwards = product == "generic_nvr"  # decided below per NVR: port_forward only if one forwards
        port_forward = has_gateway if product != "generic_nvr" else nvr_forwards
    else:
        port_forward = remote == "port_forward"
    if edge:
        groups["vms_edge"] = ["edge"]
        zone["edge"] = "edge"

    site: dict = {"vms_product": product, "vms_site": f"prop-{n}"}
    if remote != "default":
        site["vms_remote_access"] = remote
    if draw(st.booleans()):
        site["vms_server_networks"] = [_net(n, 1)]
    # Routed DMZ: the lone gateway has its own public address, routed to by the edge.
    routed = "dmz" in zone.values() and edge and draw(st.booleans())
    dmz_declared = "dmz" in zone.values() and not routed and draw(st.booleans())
    if dmz_declared:
        site["vms_dmz_networks"] = [_net(n, 9)]
    clients = draw(st.sampled_from([[], [_net(n, 2)], [_net(n, 2), _net(n, 3, 25)]]))
    if clients:
        site["vms_client_networks"] = clients
    if draw(st.booleans()):
        site["vms_camera_networks"] = [_net(n, 50)]
    management = draw(st.sampled_from(["none", "own", "servers"]))
    if management == "own":
        site["vms_management_networks"] = [_net(n, 99)]
    elif management == "servers":  # the lab's layout: administrators sit on the server LAN
        site["vms_management_networks"] = [_net(n, 1)]
    allow = draw(st.sampled_from(["default", "one", "two", "empty"]))
    site.update({"one": {"vms_remote_allowlist": [f"100.64.{n}.0/24"]},
                 "two": {"vms_remote_allowlist": [f"100.64.{n}.0/24", f"100.65.{n}.7/32"]},
                 "empty": {"vms_remote_allowlist": []}}.get(allow, {}))
    public = f"100.66.{n}.{draw(st.integers(1, 254))}"
    if remote == "vpn":
        site["vms_vpn_network"] = f"10.{n}.200.0/24"
        site["vms_vpn_peers"] = [{"name": f"peer{i}", "address": f"10.{n}.200.{10 + i}/32"}
                                 for i in range(draw(st.integers(0, 3)))]
        if draw(st.booleans()):
            site["vms_vpn_listen_port"] = draw(st.sampled_from([51820, 51821, 4500]))
    if product == "valerus" and draw(st.booleans()):
        site["vms_web_player"] = draw(st.booleans())
    if product == "xprotect":
        if draw(st.booleans()):
            site["vms_tls_enabled"] = draw(st.booleans())
        for var in draw(st.lists(st.sampled_from(XPROTECT_EXTRA), max_size=2, unique=True)):
            site[var] = [draw(st.sampled_from([_net(n, 60 + XPROTECT_EXTRA.index(var)), _net(n, 2, 28, 32)]))]
    features = sorted(catalog.features)
    if features and draw(st.booleans()):
        site["vms_enabled_features"] = draw(st.lists(st.sampled_from(features), max_size=3, unique=True))
    if draw(st.integers(0, 3)) == 0:
        site["vms_camera_ports"] = [{"protocol": "tcp", "port": 80}, {"protocol": "tcp+udp", "port": [554, 555]}]
    if draw(st.booleans()):
        site["vms_device_count"] = draw(st.integers(0, 400))

    hosts: dict[str, dict] = {}
    services = catalog.services()
    components_of = {c.group: c for c in catalog.components.values() if c.group}
    any_forward = False
    if features and site.get("vms_enabled_features") == []:
        del site["vms_enabled_features"]
    for index, host in enumerate(sorted(zone)):
        hvars = dict(site)
        where = zone[host]
        if where == "dmz" and draw(st.integers(0, 4)) == 0:
            hvars["vms_zone"] = "servers"  # a lone gateway kept in the server zone on purpose
            where = "servers"
        third = {"servers": 1, "dmz": 9, "edge": 0}[where]
        hvars["ansible_host"] = f"10.{n}.{third}.{1 if where == 'edge' else next(numbers.host)}"
        if where == "dmz" and routed:
            hvars["ansible_host"] = f"100.67.{n}.{next(numbers.host)}"
            hvars["vms_routed_public"] = True
        if host == "edge":
            if draw(st.integers(0, 4)) or remote == "vpn" or port_forward:
                hvars["vms_public_address"] = public
            hosts[host] = hvars
            continue
        if draw(st.integers(0, 2)) == 0:
            hvars["vms_platform"] = draw(st.sampled_from(["linux", "windows"]))
        mine = [s for g in groups if host in groups[g] and g in components_of
                for s in components_of[g].services.values()]
        mine = [s for s in mine if s.name in services and not s.local_only]
        if draw(st.integers(0, 2)) == 0:
            overrides = draw(_overrides(product, mine, numbers, port_forward, n,
                                        vpn_clients_only=remote == "vpn" and not clients))
            if overrides:
                hvars["vms_port_overrides"] = overrides
        if draw(st.integers(0, 2)) == 0:
            recorder = host in groups.get("vms_recorders", []) + groups.get("vms_failover_recorders", [])
            hvars["vms_custom_services"] = draw(_custom(numbers, port_forward, n, index, recorder))
        if draw(st.integers(0, 5)) == 0:
            hvars["vms_management_port"] = 2200 + index
        if product == "xprotect" and host in groups.get("vms_recorders", []) and draw(st.booleans()):
            hvars["vms_recorder_instances"] = draw(st.integers(1, 3))
        if product == "generic_nvr" and draw(st.booleans()) and remote != "vpn":
            forwards = []
            names = ["nvr_https", "nvr_rtsp", "nvr_media", "nvr_http"]
            for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
                # Several NVRs cannot share an external port: each gets its own.
                width = services[name].ports[1] - services[name].ports[0] + 1
                forwards.append({"service": name, "external_port": numbers.external(width)}
                                if len(groups["vms_recorders"]) > 1 or draw(st.booleans()) else name)
            hvars["vms_forwarded_services"] = forwards
            any_forward = True
        listed = {f if isinstance(f, str) else f["service"] for f in hvars.get("vms_forwarded_services", [])}
        for name, ovr in (hvars.get("vms_port_overrides") or {}).items():
            # A forwarded service keeps 'internet' in its sources (validate.port_meaning, issue 23 class 2).
            if "connects_from" in ovr and "internet" not in ovr["connects_from"] and (
                    name in listed or (port_forward and services[name].forward_external)):
                ovr["connects_from"] = [*ovr["connects_from"], "internet"]
        hosts[host] = hvars
    # A consumer router: the sheet needs the public address, and forwarding through a gateway requires it
    # (validate.public_address); an NVR's own forwards may still be planned without one (a warning).
    if not edge and (any_forward or port_forward) and ((port_forward and has_gateway) or draw(st.integers(0, 3))):
        for hvars in hosts.values():
            hvars["vms_public_address"] = public
    return {"hosts": hosts, "groups": {g: sorted(set(m)) for g, m in groups.items()}}
