"""`vms-deploy new-site`: write a commented, compilable inventory for a new site.

The templates (package data in vms_deploy/templates/newsite_*.j2, so the command also works from
a plain pip install or an execution environment) describe one site for a product, topology and
remote-access mode. Addresses are placeholders in private ranges that the user replaces; the
output compiles once its placeholder public address (port forwarding or VPN) is replaced, which the plan
asks for by name, so `vms-deploy plan` shows what the site will get.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .catalog import PRODUCTS, load_catalog
from .ports import WIREGUARD_PORT

TOPOLOGIES = ("all_in_one", "separate_app_server", "separate_recorders")
REMOTE_ACCESS = ("port_forward", "vpn", "none")
TEMPLATE_DIR = Path(__file__).with_name("templates")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")

# Placeholder networks (private, not used by the lab or by any documentation range).
NETWORKS = {"servers": "10.20.1.0/24", "clients": "10.20.2.0/24", "cameras": "10.20.3.0/24",
            "dmz": "10.20.4.0/24", "management": "10.20.9.0/24", "vpn": "10.99.0.0/24"}


class SiteGenError(ValueError):
    """Bad new-site arguments or an existing site in the way; the message says what to do."""


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    groups: tuple[str, ...]
    comment: str
    platform: str = ""


def site_hosts(product: str, topology: str, remote_access: str) -> list[Host]:
    """The hosts of the template site; group membership alone decides the topology (compiler.topology_of)."""
    hosts: list[Host] = []
    catalog = load_catalog(product)
    gateway_host = catalog.traits["gateway_host"]
    with_gateway = remote_access == "port_forward" and gateway_host != "none"
    if "vms_app_servers" not in catalog.groups():
        if topology == "separate_app_server":
            raise SiteGenError(f"--topology separate_app_server does not apply to {product} (it has no separate "
                               "application server): use all_in_one (one NVR) or separate_recorders (several NVRs)")
        count = 1 if topology == "all_in_one" else 2
        for i in range(1, count + 1):
            hosts.append(Host(f"nvr{i}", f"10.20.1.{20 + i}", ("vms_recorders",), "network video recorder"))
    else:
        app_groups = ["vms_app_servers"]
        if topology in ("all_in_one", "separate_recorders"):
            app_groups.append("vms_recorders")
        # Valerus runs its Internet Gateway on the application server; XProtect's Mobile Server gets its own
        # host in the DMZ (seed 001: only the Mobile Server is exposed, with firewalls on both sides).
        if with_gateway and gateway_host == "app_server":
            app_groups.append("vms_gateways")
        title = catalog.components["app_server"].title
        hosts.append(Host("app1" if topology != "all_in_one" else "vms1", "10.20.1.10", tuple(app_groups),
                          title + (" and recorder" if "vms_recorders" in app_groups else "")))
        if topology != "all_in_one":
            for i in range(1, 3 if topology == "separate_recorders" else 2):
                hosts.append(Host(f"rec{i}", f"10.20.1.{20 + i}", ("vms_recorders",), "recording server"))
        if with_gateway and gateway_host == "dmz":
            hosts.append(Host("mobile1", "10.20.4.10", ("vms_gateways",), "Mobile Server in the DMZ"))
    if remote_access == "vpn":
        hosts.append(Host("edge1", "10.20.1.1", ("vms_edge",), "Linux edge firewall/router (WireGuard)", "linux"))
    return hosts


def _component_of_group(catalog, group: str):
    return next((c for c in catalog.components.values() if c.group == group), None)


def group_notes(product: str) -> dict[str, str]:
    """What vms_app_servers and vms_gateways hold for the product (the comment atop hosts.yml), from its
    catalog: the component's title, "(one host)" for a single-host group, the DMZ when the gateway_host
    trait puts the gateway there."""
    catalog = load_catalog(product)
    notes = {}
    for group in ("vms_app_servers", "vms_gateways"):
        comp = _component_of_group(catalog, group)
        if comp is None:
            notes[group] = f"(not used by {product})"
            continue
        note = f"{catalog.title} {comp.title}"
        if group == "vms_gateways" and catalog.traits["gateway_host"] == "dmz":
            note += ", alone in the DMZ"
        elif group in catalog.single_host_groups:
            note += " (one host)"
        notes[group] = note
    return notes


def forwards_to(product: str) -> str:
    """Where the router's forwards go: the gateway, or the recorders when the product has no gateway."""
    catalog = load_catalog(product)
    group = "vms_recorders" if catalog.traits["gateway_host"] == "none" else "vms_gateways"
    comp = _component_of_group(catalog, group)
    return f"the {comp.title if comp else 'gateway'}"


def render_site(name: str, product: str, topology: str, remote_access: str = "port_forward") -> dict[str, str]:
    """{relative path: text} of the new site's files."""
    if not NAME_RE.match(name or ""):
        raise SiteGenError(f"site name {name!r} is not usable: use letters, digits, '-' and '_' (at most 63), "
                           "starting with a letter or digit, e.g. 'hq-lobby'")
    for value, allowed, option in ((product, PRODUCTS, "--product"), (topology, TOPOLOGIES, "--topology"),
                                   (remote_access, REMOTE_ACCESS, "--remote-access")):
        if value not in allowed:
            raise SiteGenError(f"{option} {value!r} is not supported; use one of: {', '.join(allowed)}")
    hosts = site_hosts(product, topology, remote_access)
    groups: dict[str, list[str]] = {}
    for host in hosts:
        for group in host.groups:
            groups.setdefault(group, []).append(host.name)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    catalog = load_catalog(product)
    windows_hosts = [h.name for h in hosts if (h.platform or catalog.traits["default_platform"]) == "windows"]
    context = {"name": name, "product": product, "product_title": catalog.title, "topology": topology,
               "windows_hosts": windows_hosts, "remote_access": remote_access, "hosts": hosts, "groups": groups,
               "net": NETWORKS,
               "wireguard_port": WIREGUARD_PORT,
               "has_dmz": any(h.address.startswith("10.20.4.") for h in hosts),
               "group_notes": group_notes(product), "forwards_to": forwards_to(product),
               "site_vars": catalog.new_site["site_vars"], "forwarded_services": catalog.new_site["forwarded_services"]}
    files = {
        "hosts.yml": "newsite_hosts.yml.j2",
        "group_vars/all/main.yml": "newsite_all.yml.j2",
        "group_vars/all/vault.yml": "newsite_vault.yml.j2",
        "README.md": "newsite_README.md.j2",
    }
    if windows_hosts:
        files["group_vars/windows.yml"] = "newsite_windows.yml.j2"
    return {path: env.get_template(template).render(**context) for path, template in files.items()}


def new_site(name: str, product: str, topology: str, parent: str, remote_access: str = "port_forward",
             force: bool = False) -> list[str]:
    """Write the site under parent/name; refuse to overwrite an existing site unless `force`."""
    files = render_site(name, product, topology, remote_access)
    site_dir = os.path.join(parent, name)
    existing = [p for p in files if os.path.exists(os.path.join(site_dir, p))]
    if existing and not force:
        raise SiteGenError(f"{site_dir} already has {', '.join(existing)}: choose another name, remove the "
                           "directory, or pass --force to overwrite these files")
    written = []
    for relative, text in files.items():
        path = os.path.join(site_dir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    return written
