"""What a validated site means before any rule is written: resolved once, used by both the
compiler and the validator (neither imports the other; `vms_deploy.pipeline` runs one then the other).

Settings with defaults, where each component runs (placements), a host's zone, platform and
management port, and each host's services (catalog + overrides + custom) with the ports and
forwards they take. The compiler turns this into rules; the validator checks port conflicts on it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .catalog import (
    Catalog,
    Service,
    apply_override,
    custom_service,
    load_catalog,
    port_pair,
)
from .model import Site, cidr, sorted_cidrs
from .plan_warnings import ROUTER, warning
from .ports import MANAGEMENT_PURPOSES, WINRM_PURPOSES, management_port, winrm_port
from .zones import ANYWHERE


@dataclass
class Settings:
    """Site-wide inputs with their defaults applied."""

    site: str
    product: str
    clients: list[str]
    cameras: list[str]
    allowlist: list[str]
    management: list[str]
    server_networks: list[str]
    dmz_networks: list[str]
    extra_networks: dict[str, list[str]]
    features: set[str]
    tls: bool
    web_player: bool
    remote_access: str
    public_address: str | None
    device_count: int
    vpn_network: str | None



def _list(site: Site, name: str, default=()) -> list[str]:
    value = site.site_var(name)
    return sorted_cidrs(value if value is not None else default)


def settings_of(site: Site, catalog: Catalog) -> Settings:
    product = site.product()
    features = set(site.site_var("vms_enabled_features") or [])
    web_player = site.site_var("vms_web_player")
    web_player = True if web_player is None else bool(web_player)
    for name, spec in catalog.features.items():
        if spec.get("variable") == "vms_web_player":
            if web_player:
                features.add(name)
        elif spec.get("default") and name not in features:
            features.add(name)
    edge_hosts = site.members("vms_edge")
    public = None
    for host in edge_hosts:
        if site.var(host, "vms_public_address", None):
            public = site.var(host, "vms_public_address")
    if public is None:
        public = site.site_var("vms_public_address")
    remote = site.site_var("vms_remote_access")
    if remote is None:
        if catalog.traits["forwarding"] == "listed_services":
            wants = any(site.var(h, "vms_forwarded_services", None) for h in site.members("vms_recorders"))
            remote = "port_forward" if wants else "none"
        else:
            remote = "port_forward" if site.members("vms_gateways") else "none"
    tls = site.site_var("vms_tls_enabled")
    vpn_network = site.site_var("vms_vpn_network")
    return Settings(
        site=str(site.site_var("vms_site")), product=product,
        clients=_list(site, "vms_client_networks"), cameras=_list(site, "vms_camera_networks"),
        allowlist=_list(site, "vms_remote_allowlist", [ANYWHERE]),
        management=_list(site, "vms_management_networks"),
        server_networks=_list(site, "vms_server_networks"), dmz_networks=_list(site, "vms_dmz_networks"),
        extra_networks={
            "event_sources": _list(site, "vms_event_source_networks"),
            "analytics_sources": _list(site, "vms_analytics_source_networks"),
            "onvif_clients": _list(site, "vms_onvif_client_networks"),
            "dlna_devices": _list(site, "vms_dlna_device_networks"),
        },
        features=features, tls=True if tls is None else bool(tls), web_player=web_player,
        remote_access=remote, public_address=str(public) if public else None,
        device_count=int(site.site_var("vms_device_count") or 0),
        vpn_network=cidr(vpn_network) if (remote == "vpn" and vpn_network) else None)


def vms_hosts(site: Site, catalog: Catalog) -> list[str]:
    """Hosts running a VMS component (every product group member except the edge)."""
    hosts: set[str] = set()
    for comp in catalog.components.values():
        if comp.group:
            hosts.update(site.members(comp.group))
    return sorted(hosts - set(site.members("vms_edge")))


def placements(site: Site, catalog: Catalog) -> dict[str, list[str]]:
    """host -> sorted component names. Groups place components; default_on fills empty optional groups."""
    comps: dict[str, set[str]] = {host: set() for host in site.hosts}
    servers = vms_hosts(site, catalog)
    for comp in catalog.components.values():
        if comp.placement == "all_servers":
            hosts = servers
        else:
            hosts = site.members(comp.group) if comp.group else []
            if not hosts and comp.default_on:
                hosts = [h for h in site.members("vms_" + comp.default_on) if h in servers]
        for host in hosts:
            comps[host].add(comp.name)
    for host in site.members("vms_edge"):
        comps[host].add("edge")
    return {host: sorted(names) for host, names in comps.items()}


def zone_of(site: Site, host: str) -> str:
    if site.var(host, "vms_zone", None):
        return site.var(host, "vms_zone")
    groups = set(site.host_groups(host))
    if "vms_edge" in groups:
        return "edge"
    if groups == {"vms_gateways"}:
        return "dmz"
    return "servers"


def platform_of(site: Site, host: str, product: str) -> str:
    if site.var(host, "vms_platform", None):
        return site.var(host, "vms_platform")
    if host in site.members("vms_edge"):
        return "linux"
    return load_catalog(product).traits["default_platform"]


class Resolver:
    """A site's settings, placements and per-host services (the compiler's and validator's common ground)."""

    def __init__(self, site: Site):
        self.site = site
        self.catalog = load_catalog(site.product())
        self.s = settings_of(site, self.catalog)
        self.comps = placements(site, self.catalog)
        self.addr = {h: site.address(h) for h in site.hosts}
        self.servers = vms_hosts(site, self.catalog)
        self.warnings: list[dict] = []  # plan warnings (vms_deploy.plan_warnings)

    def platform(self, host: str) -> str:
        return platform_of(self.site, host, self.s.product)

    def controller_cidrs(self, host: str) -> list[str]:
        """A Windows host's vms_win_controller_address as CIDR (validated before planning), else []."""
        value = self.site.var(host, "vms_win_controller_address", None)
        if value in (None, "") or self.platform(host) != "windows":
            return []
        return [cidr(value)]

    def management_port(self, host: str) -> int:
        """vms_management_port, else SSH on Linux and on Windows the WinRM port Ansible connects on (ansible_port)."""
        platform = self.platform(host)
        override = self.site.var(host, "vms_management_port", None)
        if platform == "windows" and not override:
            return winrm_port((self.site.connections.get(host) or {}).get("ansible_port"))
        return management_port(platform, override)

    def management_rule(self, host: str) -> dict | None:
        """The host's management inbound rule (SSH or WinRM from vms_management_networks and, on Windows, from
        vms_win_controller_address), or None when it has no such source. Renderers draw management only from
        this rule (the Windows role adds no source of its own: docs/windows.md, Firewall)."""
        sources = list(self.s.management) + [c for c in self.controller_cidrs(host) if c not in self.s.management]
        if not sources:
            return None
        platform = self.platform(host)
        port = self.management_port(host)
        purpose = WINRM_PURPOSES.get(port, MANAGEMENT_PURPOSES[platform]) if platform == "windows" \
            else MANAGEMENT_PURPOSES[platform]
        return {"protocol": "tcp", "ports": [port, port], "sources": sources,
                "component": "management", "service": "management", "purpose": purpose}

    # --- services per host ------------------------------------------------------------------
    def host_services(self, host: str) -> list[Service]:
        """Catalog services of the host's components, overrides applied, then its custom services."""
        comps = self.comps[host]
        overrides = self.site.var(host, "vms_port_overrides", None) or {}
        result = []
        for cname in comps:
            comp = self.catalog.components.get(cname)
            if comp is None:
                continue
            for svc in comp.services.values():
                if svc.when_component and svc.when_component not in comps:
                    continue
                if svc.unless_component and svc.unless_component in comps:
                    continue
                if svc.name in overrides:
                    svc = apply_override(svc, overrides[svc.name])
                    if svc is None:
                        continue
                result.append(svc)
        for entry in self.site.var(host, "vms_custom_services", None) or []:
            result.append(custom_service(entry))
        return result

    def _feature_of(self, svc: Service) -> str | None:
        """The catalog's feature flag of a service whose override cleared it (enabled: true)."""
        original = self.catalog.services().get(svc.name)
        return original.feature if original else None

    def is_open(self, svc: Service) -> bool:
        if svc.local_only:
            return False
        if svc.feature and svc.feature not in self.s.features:
            return False
        # A secure variant without certificates: the plain port is used instead.
        return not (svc.plain_variant and not self.s.tls)

    def source_roles(self, svc: Service) -> tuple[str, ...]:
        if svc.secure_variant and self.s.tls and svc.tls_connects_from is not None:
            return svc.tls_connects_from
        return svc.connects_from

    def instance_ports(self, host: str, svc: Service) -> tuple[int, int]:
        if not svc.per_instance:
            return svc.ports
        count = int(self.site.var(host, "vms_recorder_instances", 1) or 1)
        return (svc.ports[0], svc.ports[0] + count - 1)

    # --- forwards ---------------------------------------------------------------------------
    def forwarded(self) -> dict[tuple[str, str], int]:
        """(host, service) -> first external port, for every service the router forwards."""
        s = self.s
        if s.remote_access != "port_forward":
            return {}
        wanted: dict[tuple[str, str], int] = {}
        for host in self.site.hosts:
            services = {svc.name: svc for svc in self.host_services(host) if self.is_open(svc)}
            if self.catalog.traits["forwarding"] == "listed_services" and "recorder" in self.comps[host]:
                for entry in self.site.var(host, "vms_forwarded_services", None) or []:
                    name = entry if isinstance(entry, str) else entry["service"]
                    svc = services.get(name)
                    if svc is None:
                        continue
                    ext = svc.forward_external if svc.forward_external else svc.ports[0]
                    if isinstance(entry, dict) and entry.get("external_port") is not None:
                        ext = port_pair(entry["external_port"])[0]
                    wanted[(host, name)] = ext
            elif "gateway" in self.comps[host]:
                for svc in services.values():
                    if svc.component == "gateway" and svc.forward_external:
                        wanted[(host, svc.name)] = svc.forward_external
            for svc in services.values():
                if svc.custom and svc.forward_external:
                    wanted[(host, svc.name)] = svc.forward_external
        if wanted and not self.site.members("vms_edge") and not s.public_address:
            self.warnings.append(warning(
                ROUTER, "remote access is port_forward but there is no vms_edge host and no vms_public_address: no "
                "router forwards were computed",
                "set vms_public_address in group_vars/all/main.yml (or group_vars/all.yml) to get the router "
                "sheet"))
            return {}
        return wanted
