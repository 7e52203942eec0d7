"""Policy compiler: validated inventory data -> plan dict (schema 1, docs/architecture.md).

Every decision about which port opens where, from whom, and what the router forwards is made
here, once; renderers only translate the plan. How each seed rule maps to code: docs/policy.md.
"""
from __future__ import annotations

import ipaddress

from . import PLAN_SCHEMA
from .boundaries import unenforced
from .catalog import HOST_ROLES, port_pair
from .describe import sources as describe_sources
from .edge.backends import default_backend
from .model import Site, cidr, sorted_cidrs
from .plan_warnings import FIREWALL, ROUTER, SITE, merged, warning
from .ports import WIREGUARD_PORT
from .ports import port_range as _ports
from .resolve import (  # noqa: F401 - the compiler's names before resolve.py
    Resolver,
    Settings,
    placements,
    platform_of,
    settings_of,
    vms_hosts,
    zone_of,
)
from .zones import ANYWHERE, without  # noqa: F401 - without: the compiler's name before zones.py
from .zones import zone_index as _zone_index

DEFAULT_CAMERA_PORTS = (
    {"protocol": "tcp", "port": 80, "purpose": "camera HTTP and ONVIF"},
    {"protocol": "tcp", "port": 443, "purpose": "camera HTTPS"},
    {"protocol": "tcp", "port": 554, "purpose": "camera RTSP streams"},
    # ONVIF's WS-Discovery probe, sent unicast by the camera audit (docs/cameras.md, issue 25).
    {"protocol": "udp", "port": 3702, "purpose": "camera WS-Discovery (ONVIF)"},
)


def topology_of(site: Site, product: str) -> str:
    recorders = set(site.members("vms_recorders"))
    apps = site.members("vms_app_servers")
    if not apps:  # a product without an application server (an NVR) has none in its groups
        return "all_in_one" if len(recorders) <= 1 else "separate_recorders"
    app = apps[0]
    if app not in recorders:
        return "separate_app_server"
    return "all_in_one" if recorders == {app} else "separate_recorders"


class _Compiler(Resolver):
    """The plan of one validated site (the resolution it builds on: vms_deploy.resolve.Resolver)."""

    def __init__(self, site: Site):
        super().__init__(site)
        self._role_cache: dict[str, list[str]] = {}
        self._sources_cache: dict[tuple, list[str]] = {}


    # --- sources -------------------------------------------------------------------------
    def role_cidrs(self, role: str) -> list[str]:
        s = self.s
        if role in HOST_ROLES:
            # Once per role: every host's rules ask, and the scan covers every host (O(n^2) otherwise).
            if role not in self._role_cache:
                comp = HOST_ROLES[role]
                self._role_cache[role] = [self.addr[h] + "/32" for h in self.site.hosts if comp in self.comps[h]]
            return list(self._role_cache[role])
        if role == "all_servers":
            return [self.addr[h] + "/32" for h in self.servers]
        if role == "clients":
            return s.clients + ([s.vpn_network] if s.vpn_network else [])
        if role == "cameras":
            return s.cameras
        if role == "internet":
            # The allow-list names the Internet; a camera inside it (0.0.0.0/0 holds every camera)
            # must still reach nothing but recorders, even where no managed edge separates them.
            if "internet" not in self._role_cache:
                self._role_cache["internet"] = without(s.allowlist, s.cameras)
            return list(self._role_cache["internet"])
        if role == "management":
            return s.management
        if role == "vpn":
            return [s.vpn_network] if s.vpn_network else []
        if role in s.extra_networks:
            return s.extra_networks[role]
        return [cidr(role)]  # a literal address/CIDR from an override or custom service

    # --- the plan -----------------------------------------------------------------------------
    def compile(self) -> dict:
        s = self.s
        forwarded = self.forwarded()
        hosts = {}
        services_by_host = {}
        for host in self.site.hosts:
            inbound = []
            enabled: list[str] = []  # feature ports this host opens by its own override (enabled: true)
            declared: list[str] = []  # services whose sources the inventory set (override connects_from)
            services_by_host[host] = {}
            own = self.addr[host] + "/32"
            for svc in self.host_services(host):
                if not self.is_open(svc):
                    continue
                roles = [r for r in self.source_roles(svc) if r != "internet" or (host, svc.name) in forwarded]
                if (host, svc.name) in forwarded and "internet" not in roles:
                    roles.append("internet")  # forward: true means the allow-list may come in through it
                sources = self.role_sources(tuple(roles))
                sources = [c for c in sources if c != own]  # a host reaches itself over loopback
                if not sources:
                    if (host, svc.name) in forwarded:
                        self.warnings.append(warning(
                            ROUTER, f"{host}: service {svc.name} would be forwarded from the Internet, but nobody may "
                            "connect (vms_remote_allowlist is empty): no forward is made and the port stays closed",
                            "list the remote users' addresses in vms_remote_allowlist to forward it"))
                    continue  # nobody may connect: the port stays closed (and is never forwarded)
                services_by_host[host][svc.name] = svc
                if "connects_from" in svc.overridden:
                    declared.append(svc.name)
                if svc.feature is None and "enabled" in svc.overridden and self._feature_of(svc):
                    enabled.append(svc.name)
                ports = self.instance_ports(host, svc)
                for proto in svc.transports():
                    inbound.append({"protocol": proto, "ports": list(ports), "sources": sources,
                                    "component": svc.component, "service": svc.name, "purpose": svc.purpose})
            platform = self.platform(host)
            management = self.management_rule(host)
            if management:
                inbound.append(management)
            inbound.sort(key=lambda r: (r["ports"], r["protocol"], r["component"], r["service"]))
            hosts[host] = {"address": self.addr[host], "zone": zone_of(self.site, host), "platform": platform,
                           "groups": self.site.host_groups(host), "components": self.comps[host], "inbound": inbound}
            if enabled:
                hosts[host]["enabled_by_override"] = sorted(set(enabled))
            if declared:
                hosts[host]["sources_by_override"] = sorted(set(declared))
            if self.site.var(host, "vms_routed_public", None):
                # Routed DMZ: the host's own address is public, so the edge routes the Internet to it.
                hosts[host]["routed_public"] = True
        forwards = self.forwards(forwarded, services_by_host)
        zones = self.zones(hosts)
        edge_host = (self.site.members("vms_edge") or [None])[0]
        plan = {
            "schema": PLAN_SCHEMA, "site": s.site, "product": s.product,
            "topology": topology_of(self.site, s.product), "remote_access": s.remote_access,
            # The product's traits, so the plays and renderers decide by trait, never by product name.
            "traits": dict(self.catalog.traits),
            "zones": zones, "hosts": hosts,
            "edge": {"host": edge_host, "public_address": s.public_address,
                     "backend": self.site.site_var("vms_edge_backend") or default_backend(edge_host is not None)},
            "forwards": forwards, "zone_flows": self.zone_flows(hosts, zones),
            "vpn": self.vpn(), "features": sorted(s.features),
        }
        plan["edge"].update(self.edge_device(edge_host))
        plan["warnings"] = self.compute_warnings(plan, services_by_host)
        return plan

    def edge_device(self, edge_host: str | None) -> dict:
        """What a vendor edge (fortios, routeros) binds its rules to, as the edge host gives it: the device's
        interface per site zone, the FortiGate's first policy id. Recorded only when set, so the plans of
        the other backends do not change."""
        out: dict = {}
        if edge_host is None:
            return out
        interfaces = self.site.var(edge_host, "vms_edge_interfaces", None)
        if interfaces:
            out["interfaces"] = {str(zone): str(name) for zone, name in sorted(interfaces.items())}
        base = self.site.var(edge_host, "vms_edge_policy_id_base", None)
        if base is not None:
            out["policy_id_base"] = int(base)
        if self.site.site_var("vms_nat_reflection") is True:
            out["nat_reflection"] = True  # clients reach the forwards through the public address (docs/edge.md)
        return out

    def forwards(self, forwarded, services_by_host) -> list[dict]:
        multi = len({h for h, _ in forwarded}) > 1
        out = []
        for (host, name), ext in forwarded.items():
            svc = services_by_host[host].get(name)
            if svc is None:
                continue
            first, last = self.instance_ports(host, svc)
            for proto in svc.transports():
                label = f"{self.s.product}-{name}".replace("_", "-")
                if multi:
                    label += f"-{host}"
                if svc.protocol == "tcp+udp":
                    label += f"-{proto}"
                out.append({"name": label, "protocol": proto, "external_ports": [ext, ext + last - first],
                            "to_host": host, "to_address": self.addr[host], "to_ports": [first, last],
                            "sources": list(self.s.allowlist), "component": svc.component, "service": name,
                            "purpose": svc.purpose})
        out.sort(key=lambda f: (f["external_ports"], f["protocol"], f["name"]))
        return out

    def zones(self, hosts: dict) -> dict:
        s = self.s

        def by_zone(zone):
            return sorted_cidrs(h["address"] for h in hosts.values() if h["zone"] == zone)

        zones = {"internet": [ANYWHERE], "dmz": s.dmz_networks or by_zone("dmz"),
                 "servers": s.server_networks or by_zone("servers"), "clients": list(s.clients),
                 "cameras": list(s.cameras), "vpn": [s.vpn_network] if s.vpn_network else []}
        zones["management"] = self.management_zone(zones)
        return zones

    def management_zone(self, site_zones: dict) -> list[str]:
        """vms_management_networks, then the Windows hosts' controller addresses that no site network holds:
        Ansible's own source is management, so `check` and the invariants judge it as the WinRM rule does. A
        controller on a site LAN (the usual case: a laptop on the server network) stays in that LAN's zone, which
        it shares with the hosts; it is no boundary of its own, and a vendor edge needs no interface for it."""
        lans = [ipaddress.ip_network(c) for zone, cidrs in site_zones.items() if zone != "internet" for c in cidrs]
        extra = sorted_cidrs(c for h in self.site.hosts for c in self.controller_cidrs(h)
                             if not any(ipaddress.ip_network(c).subnet_of(n) for n in lans))
        return list(self.s.management) + [c for c in extra if c not in self.s.management]

    @staticmethod
    def classify(source: str, zones: dict) -> str:
        """The zone whose network most specifically contains `source` (internet contains everything)."""
        return _zone_index(zones)(source)

    def role_sources(self, roles: tuple) -> list[str]:
        """Sorted CIDRs of the roles' addresses; memoised: every recorder asks for the same roles."""
        if roles not in self._sources_cache:
            self._sources_cache[roles] = sorted_cidrs(c for r in roles for c in self.role_cidrs(r))
        return self._sources_cache[roles]

    def zone_flows(self, hosts: dict, zones: dict) -> list[dict]:
        flows: dict[tuple, dict] = {}
        classify = _zone_index(zones)
        by_zone: dict[tuple, list[tuple[str, list[str]]]] = {}  # a rule's sources, split by zone, once per list
        merged: set[tuple] = set()
        for host, h in hosts.items():
            for rule in h["inbound"]:
                sources = tuple(rule["sources"])
                if sources not in by_zone:
                    split: dict[str, list[str]] = {}
                    for source in sources:
                        split.setdefault(classify(source), []).append(source)
                    by_zone[sources] = list(split.items())
                for src_zone, zone_sources in by_zone[sources]:
                    if src_zone == "internet" and not h.get("routed_public"):
                        # The Internet enters only through the public address's forwards (DNAT):
                        # a private address is never routed to from outside the site.
                        continue
                    key = (src_zone, h["zone"], host, rule["protocol"], tuple(rule["ports"]), rule["component"],
                           rule["service"])
                    flow = flows.setdefault(key, {
                        "from": src_zone, "to": h["zone"], "sources": [], "destinations": [h["address"] + "/32"],
                        "to_host": host, "protocol": rule["protocol"], "ports": list(rule["ports"]),
                        "component": rule["component"], "service": rule["service"], "purpose": rule["purpose"]})
                    if flow["sources"]:
                        merged.add(key)
                    flow["sources"].extend(zone_sources)
        if self.s.cameras:
            self.camera_flows(hosts, flows)
            merged.update(key for key, flow in flows.items() if flow["to"] == "cameras")
        out = []
        for key, flow in flows.items():
            # A rule's sources are already sorted_cidrs output, and splitting by zone keeps the
            # order: only flows fed by several lists need sorting again.
            if key in merged:
                flow["sources"] = sorted_cidrs(flow["sources"])
            out.append(flow)
        out.sort(key=lambda f: (f["from"], f["to"], f["to_host"] or "", f["ports"], f["protocol"], f["service"]))
        return out

    def camera_ports(self) -> list[dict]:
        value = self.site.site_var("vms_camera_ports")
        return list(DEFAULT_CAMERA_PORTS if value is None else value)

    def camera_flows(self, hosts: dict, flows: dict) -> None:
        """Recorders (and failover recorders) connect out to the cameras: the only way into that zone."""
        by_zone: dict[str, list[str]] = {}
        for _host, h in hosts.items():
            if {"recorder", "failover_recorder"} & set(h["components"]):
                by_zone.setdefault(h["zone"], []).append(h["address"] + "/32")
        for zone, sources in by_zone.items():
            for entry in self.camera_ports():
                ports = list(port_pair(entry["port"]))
                for proto in ("tcp", "udp") if entry.get("protocol") == "tcp+udp" else (entry.get("protocol", "tcp"),):
                    key = (zone, "cameras", None, proto, tuple(ports), "recorder", f"camera_{proto}_{ports[0]}")
                    flows[key] = {"from": zone, "to": "cameras", "sources": list(sources),
                                  "destinations": list(self.s.cameras), "to_host": None, "protocol": proto,
                                  "ports": ports, "component": "recorder", "service": f"camera_{proto}_{ports[0]}",
                                  "purpose": entry.get("purpose") or "recorder to camera"}

    def vpn(self) -> dict | None:
        s = self.s
        if s.remote_access != "vpn":
            return None
        peers = [{"name": str(p["name"]), "address": cidr(p["address"])}
                 for p in (self.site.site_var("vms_vpn_peers") or [])]
        peers.sort(key=lambda p: p["name"])
        # The edge takes the network's first address inside the tunnel; peers connect to the endpoint.
        tunnel = ipaddress.ip_network(s.vpn_network)
        return {"listen_port": int(self.site.site_var("vms_vpn_listen_port") or WIREGUARD_PORT),
                "network": s.vpn_network,
                "edge_address": str(next(tunnel.hosts())), "endpoint": s.public_address, "peers": peers}

    def compute_warnings(self, plan: dict, services_by_host: dict) -> list[dict]:
        """The plan's warnings, each in its group with its fix (vms_deploy.plan_warnings)."""
        s = self.s
        warnings = list(self.warnings)
        for fwd in plan["forwards"]:
            svc = services_by_host[fwd["to_host"]][fwd["service"]]
            if svc.plain_http:
                warnings.append(warning(
                    ROUTER, f"forward {fwd['name']} carries plain HTTP from the Internet (external {fwd['protocol']} "
                    f"{_ports(fwd['external_ports'])} to {fwd['to_host']} {_ports(fwd['to_ports'])}): credentials "
                    "can be read on the way", "forward the HTTPS port instead, or use vms_remote_access: vpn"))
        if plan["forwards"] and ANYWHERE in s.allowlist:
            warnings.append(warning(
                ROUTER, "vms_remote_allowlist is 0.0.0.0/0: the forwarded ports are open to the whole Internet",
                "restrict vms_remote_allowlist to the remote users' addresses (IP allow-listing), or use "
                "vms_remote_access: vpn"))
        limit = self.catalog.traits["all_in_one_device_limit"]
        if limit and plan["topology"] == "all_in_one" and s.device_count > limit:
            warnings.append(warning(
                SITE, f"vms_device_count is {s.device_count} on an all-in-one {self.catalog.title} site: above {limit} "
                "IP devices the vendor recommends a separate Application Server",
                "move the Application Server to its own host (vms_app_servers) and keep recording on the others"))
        if s.remote_access == "vpn" and not s.public_address and not self.site.site_var("vms_public_name"):
            warnings.append(warning(
                SITE, "vms_remote_access is vpn but neither vms_public_address nor vms_public_name is set: VPN peers "
                "need the edge's public address as their endpoint",
                "set vms_public_address (or vms_public_name, a DNS name) to the edge's Internet-facing address"))
        if self.catalog.traits["upnp_warning"] and plan["forwards"]:
            warnings.append(warning(
                ROUTER, "router port forwards exist for the NVR: with UPnP on, any device on the network can open "
                "more ports on the router by itself", "disable UPnP on the router and type these forwards by hand"))
        warnings += self.plain_text_warnings(plan, services_by_host)
        warnings += boundary_warnings(plan)
        return merged(warnings)

    def plain_text_warnings(self, plan: dict, services_by_host: dict) -> list[dict]:
        """A deprecated, unencrypted service the inventory switched on (XProtect SMTP 25, seed 001)."""
        found: dict[str, list[str]] = {}
        for host, services in services_by_host.items():
            for svc in services.values():
                if svc.plain_text:
                    found.setdefault(svc.name, []).append(host)
        out = []
        for name, hosts in sorted(found.items()):
            svc = services_by_host[hosts[0]][name]
            rule = next(r for r in plan["hosts"][hosts[0]]["inbound"] if r["service"] == name)
            feature = self._feature_of(svc) or svc.feature
            switch = (f"remove {feature} from vms_enabled_features (and any vms_port_overrides entry that enables "
                      f"{name})" if feature else f"remove the vms_port_overrides entry that enables {name}")
            out.append(warning(
                SITE, f"{', '.join(sorted(hosts))}: {svc.application or rule['protocol'].upper()} on "
                f"{rule['protocol']} {_ports(rule['ports'])} ({name}) is open and unencrypted; the vendor deprecates "
                f"it and does not recommend enabling it ({self.catalog.traits['seed_document']})",
                f"{switch} unless the devices can send their events no other way"))
        return out


def boundary_warnings(plan: dict) -> list[dict]:
    """One warning per zone boundary whose security depends on the customer's firewall (no managed edge)."""
    out = []
    crossing = {(f["from"], f["to"]) for f in plan["zone_flows"]}
    for b in unenforced(plan):
        allow = (f"allow only the {b.name} rows of firewall-rules.csv and deny all other traffic from "
                 f"{b.from_zone} to {b.to_zone}" if (b.from_zone, b.to_zone) in crossing
                 else f"deny all traffic from {b.from_zone} to {b.to_zone} (the plan needs none)")
        out.append(warning(
            FIREWALL, f"{b.label} is not enforced by vms-deploy (edge backend {plan['edge']['backend']}, "
            f"no managed edge): unless the customer's firewall stops it, the {b.from_zone} zone reaches "
            f"{describe_sources(b.unmanaged, plan['zones'])} on every port",
            f"in the customer's firewall, {allow}; or filter between the zones "
            "with a managed edge (a Linux host in vms_edge, vms_edge_backend: nftables)"))
    return out


def compile_site(site: Site) -> dict:
    """Compile an already validated Site into the plan dict."""
    return _Compiler(site).compile()
