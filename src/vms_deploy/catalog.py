"""Port catalogs as data (catalogs/<product>.yml): loading, user overrides and custom services.

A catalog lists components (what runs on a host) and their services (one port or port range, one
transport or tcp+udp). Which hosts run a component comes from inventory groups; who may connect is
a list of symbolic roles resolved to CIDRs by the compiler. Nothing here knows about hosts.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

CATALOG_DIR = Path(__file__).with_name("catalogs")
PRODUCTS = ("valerus", "xprotect", "generic_nvr")
PROTOCOLS = ("tcp", "udp", "tcp+udp")

# Symbolic sources a service may name in connects_from, and what each means (docs/policy.md).
HOST_ROLES = {
    "app_servers": "app_server",
    "recorders": "recorder",
    "failover_recorders": "failover_recorder",
    "gateways": "gateway",
    "event_servers": "event_server",
    "log_servers": "log_server",
    "lpr_servers": "lpr_server",
}
NETWORK_ROLES = {
    "clients": "vms_client_networks",
    "cameras": "vms_camera_networks",
    "internet": "vms_remote_allowlist",
    "management": "vms_management_networks",
    "vpn": "vms_vpn_network",
    "event_sources": "vms_event_source_networks",
    "analytics_sources": "vms_analytics_source_networks",
    "onvif_clients": "vms_onvif_client_networks",
    "dlna_devices": "vms_dlna_device_networks",
}
SOURCE_ROLES = tuple(sorted(set(HOST_ROLES) | set(NETWORK_ROLES) | {"all_servers"}))

# Keys a user may set for one service in vms_port_overrides.
OVERRIDE_KEYS = ("port", "external_port", "enabled", "connects_from")
# Keys of one entry in vms_custom_services.
CUSTOM_SERVICE_KEYS = ("name", "protocol", "port", "connects_from", "purpose", "forward", "external_port")


class CatalogError(Exception):
    """The shipped catalog itself is broken (a bug in this project, not in the inventory)."""


@dataclass(frozen=True)
class Service:
    name: str
    component: str
    protocol: str
    ports: tuple[int, int]
    connects_from: tuple[str, ...] = ()
    purpose: str = ""
    seed: bool = False
    application: str = ""
    local_only: bool = False
    feature: str | None = None
    plain_http: bool = False
    plain_text: bool = False
    shared: str | None = None
    secure_variant: str | None = None
    plain_variant: str | None = None
    tls_connects_from: tuple[str, ...] | None = None
    per_instance: bool = False
    forward_external: int | None = None
    when_component: str | None = None
    unless_component: str | None = None
    note: str = ""
    custom: bool = False
    overridden: tuple[str, ...] = ()
    restricted: bool = False  # connects_from is a requirement of the seed (vms_deploy.invariants holds it)
    port_change: str = ""  # how the product lets this port move off its default (else Catalog.port_change)

    def transports(self) -> tuple[str, ...]:
        return ("tcp", "udp") if self.protocol == "tcp+udp" else (self.protocol,)


@dataclass(frozen=True)
class Component:
    name: str
    title: str
    group: str | None
    default_on: str | None
    placement: str | None
    services: dict[str, Service] = field(default_factory=dict)
    windows_package: str | None = None  # the installable Windows component (vms_win_packages key)
    iis: bool = False  # runs behind IIS (the Web-Server role is installed with it)


@dataclass(frozen=True)
class Catalog:
    product: str
    title: str
    required_groups: tuple[str, ...]
    optional_groups: tuple[str, ...]
    single_host_groups: tuple[str, ...]
    features: dict
    components: dict[str, Component]
    traits: dict = field(default_factory=dict)
    new_site: dict = field(default_factory=dict)
    port_change: str = ""  # how the product lets a port move off its default (a service may say otherwise)

    def windows_packages(self) -> dict[str, str]:
        """Plan component -> installable Windows component, for the components installed on Windows."""
        return {name: comp.windows_package for name, comp in self.components.items() if comp.windows_package}

    def services(self) -> dict[str, Service]:
        """Every service of the product by its (product-unique) name."""
        return {name: svc for comp in self.components.values() for name, svc in comp.services.items()}

    def groups(self) -> tuple[str, ...]:
        return self.required_groups + self.optional_groups


def port_pair(value) -> tuple[int, int]:
    """A catalog/override port (int or [first, last]) as a pair. Raises ValueError with a reason."""
    if isinstance(value, bool):
        raise ValueError("is a boolean, not a port number")
    if isinstance(value, int):
        first = last = value
    elif isinstance(value, str) and value.strip().isdigit():
        first = last = int(value.strip())
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        first, last = value
    else:
        raise ValueError("is not a port number (1-65535) or a [first, last] range")
    for port in (first, last):
        if not 1 <= port <= 65535:
            raise ValueError(f"has port {port} outside 1-65535")
    if first > last:
        raise ValueError(f"is a reversed range (first {first} > last {last})")
    return (first, last)


def _service(name: str, component: str, raw: dict) -> Service:
    try:
        ports = port_pair(raw["port"])
    except (KeyError, ValueError) as exc:
        raise CatalogError(f"catalog service {name}: bad port: {exc}") from None
    if raw.get("protocol") not in PROTOCOLS:
        raise CatalogError(f"catalog service {name}: protocol must be one of {PROTOCOLS}")
    unknown = set(raw.get("connects_from", [])) - set(SOURCE_ROLES)
    if unknown:
        raise CatalogError(f"catalog service {name}: unknown source roles {sorted(unknown)}")
    tls_from = raw.get("tls_connects_from")
    return Service(
        name=name, component=component, protocol=raw["protocol"], ports=ports,
        connects_from=tuple(raw.get("connects_from", [])), purpose=raw.get("purpose", ""),
        seed=bool(raw.get("seed", False)), application=raw.get("application", ""),
        local_only=bool(raw.get("local_only", False)), feature=raw.get("feature"),
        plain_http=bool(raw.get("plain_http", False)), plain_text=bool(raw.get("plain_text", False)),
        shared=raw.get("shared"), secure_variant=raw.get("secure_variant"), plain_variant=raw.get("plain_variant"),
        tls_connects_from=tuple(tls_from) if tls_from is not None else None,
        per_instance=bool(raw.get("per_instance", False)),
        forward_external=(raw.get("forward") or {}).get("external_port"),
        when_component=raw.get("when_component"), unless_component=raw.get("unless_component"),
        note=raw.get("note", ""), restricted=bool(raw.get("restricted", False)),
        port_change=str(raw.get("port_change") or ""),
    )


# What sets one product apart, as catalog data: every catalog declares each trait, and code decides
# by a trait's value, never by the product's name (tests/unit/test_product_names.py holds that).
# A trait with allowed values lists them; None means any value (a number or a text).
TRAITS = {
    "default_platform": ("windows", "linux"),
    "forwarding": ("gateway", "listed_services"),
    "all_in_one_device_limit": None,
    "upnp_warning": (True, False),
    "seed_document": None,
    "gateway_host": ("app_server", "dmz", "none"),
    # How a Windows host's components are installed (render/windows_install.py): one vendor package per
    # component (packages), or one installer run driven by a generated arguments file (arguments_file).
    "windows_installer": ("packages", "arguments_file", "none"),
    # How a Windows host's TLS certificate is bound (render/windows_certificates.py): to an IIS site
    # (iis_site), or assigned per certificate group with a vendor configurator (server_configurator).
    "certificate_binding": ("iis_site", "server_configurator", "none"),
    # What serves a Linux gateway host's TLS ports: nginx with the site certificate (roles/reverse_proxy).
    "gateway_proxy": ("nginx", "none"),
    # How a Windows gateway joins the site: registered by hand in the application server (manual, with
    # a port check from there: roles/valerus_gateway), or by its own installer (none).
    "gateway_registration": ("manual", "none"),
}


def _traits(product: str, raw: dict) -> dict:
    traits = dict(raw.get("traits") or {})
    missing = sorted(set(TRAITS) - set(traits))
    unknown = sorted(set(traits) - set(TRAITS))
    if missing or unknown:
        raise CatalogError(f"catalog {product}: traits missing {missing} or unknown {unknown}; "
                           f"declare exactly these traits: {', '.join(TRAITS)}")
    for name, allowed in TRAITS.items():
        if allowed is not None and traits[name] not in allowed:
            raise CatalogError(f"catalog {product}: trait {name} is {traits[name]!r}; it must be one of "
                               f"{', '.join(str(a) for a in allowed)}")
    return traits


NEW_SITE_KEYS = ("site_vars", "forwarded_services")


def _new_site(product: str, raw: dict, services: set[str], traits: dict) -> dict:
    """The catalog's new_site section: site_vars (YAML text for group_vars/all/main.yml) and
    forwarded_services (what the first recorder forwards when the product forwards listed services)."""
    new_site = dict(raw.get("new_site") or {})
    if set(new_site) != set(NEW_SITE_KEYS):
        raise CatalogError(f"catalog {product}: new_site has keys {sorted(new_site)}; declare exactly "
                           f"{', '.join(NEW_SITE_KEYS)}")
    if not isinstance(new_site["site_vars"], str):
        raise CatalogError(f"catalog {product}: new_site.site_vars must be YAML text (a block scalar)")
    forwarded = list(new_site["forwarded_services"] or [])
    unknown = sorted(set(forwarded) - services)
    if unknown:
        raise CatalogError(f"catalog {product}: new_site.forwarded_services names no service {unknown}")
    if (traits["forwarding"] == "listed_services") != bool(forwarded):
        raise CatalogError(f"catalog {product}: new_site.forwarded_services must list services exactly when "
                           "the forwarding trait is listed_services")
    return {"site_vars": new_site["site_vars"], "forwarded_services": forwarded}


def plan_traits(plan: dict) -> dict:
    """The traits of the plan's product: the plan's own ``traits`` (a compiled plan records them), else
    the product's catalog traits (a hand-made plan in a test); {} for a plan of no known product."""
    traits = plan.get("traits")
    if isinstance(traits, dict) and traits:
        return traits
    product = plan.get("product")
    return dict(load_catalog(product).traits) if product in PRODUCTS else {}


def safe_load(text: str):
    """yaml.safe_load through libyaml when PyYAML has it (about 10x faster: every plan reads the
    catalogs and all roles' argument specs)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


@functools.cache
def load_catalog(product: str) -> Catalog:
    """The shipped catalog of one product. Raises KeyError for an unknown product."""
    if product not in PRODUCTS:
        raise KeyError(product)
    raw = safe_load((CATALOG_DIR / f"{product}.yml").read_text(encoding="utf-8"))
    components = {}
    seen: set[str] = set()
    for cname, craw in raw["components"].items():
        services = {}
        for sname, sraw in craw["services"].items():
            if sname in seen:
                raise CatalogError(f"catalog {product}: service name {sname} is used twice")
            seen.add(sname)
            services[sname] = _service(sname, cname, sraw)
        components[cname] = Component(
            name=cname, title=craw.get("title", cname), group=craw.get("group"),
            default_on=craw.get("default_on"), placement=craw.get("placement"), services=services,
            windows_package=craw.get("windows_package"), iis=bool(craw.get("iis", False)))
    traits = _traits(product, raw)
    return Catalog(
        product=product, title=raw.get("title", product),
        required_groups=tuple(raw.get("required_groups", [])),
        optional_groups=tuple(raw.get("optional_groups", [])),
        single_host_groups=tuple(raw.get("single_host_groups", [])),
        features=dict(raw.get("features") or {}), components=components, traits=traits,
        new_site=_new_site(product, raw, seen, traits), port_change=str(raw.get("port_change") or ""))


@functools.cache
def all_windows_packages() -> tuple[str, ...]:
    """Every installable Windows component any product knows (the keys vms_win_packages may use)."""
    return tuple(sorted({p for product in PRODUCTS for p in load_catalog(product).windows_packages().values()}))


@functools.cache
def all_groups() -> tuple[str, ...]:
    """Every inventory group any product knows (for "group not used by this product" checks)."""
    groups: set[str] = set()
    for product in PRODUCTS:
        groups.update(load_catalog(product).groups())
    return tuple(sorted(groups))


def apply_override(service: Service, override: dict) -> Service | None:
    """One service with a validated user override applied; None when the user disabled it."""
    if override.get("enabled") is False:
        return None
    changes: dict = {}
    if "port" in override:
        changes["ports"] = port_pair(override["port"])
    if "external_port" in override:
        changes["forward_external"] = int(override["external_port"])
    if "connects_from" in override:
        changes["connects_from"] = tuple(override["connects_from"])
        changes["tls_connects_from"] = None
    if override.get("enabled") is True and service.feature:
        # Explicitly enabling one feature port is allowed without the site-wide feature flag.
        changes["feature"] = None
    changes["overridden"] = tuple(sorted(override))
    return replace(service, **changes)


def custom_service(entry: dict) -> Service:
    """A validated vms_custom_services entry as a Service of component "custom"."""
    external = entry.get("external_port")
    if external is None and entry.get("forward"):
        external = port_pair(entry["port"])[0]
    return Service(
        name=str(entry["name"]), component="custom", protocol=entry.get("protocol", "tcp"),
        ports=port_pair(entry["port"]), connects_from=tuple(entry.get("connects_from", ["clients"])),
        purpose=str(entry.get("purpose") or f"custom service {entry['name']}"), seed=False,
        forward_external=external, custom=True)
