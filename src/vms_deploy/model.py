"""The site model: hosts, their variables and group membership, as plain data.

`Site.from_dict({"hosts": {name: vars}, "groups": {group: [hosts]}})` takes variables already
merged per host (like Ansible's hostvars). Topology is group membership alone; site-wide
variables (vms_product, networks...) are read from the hosts, which validate.py checks agree.
"""
from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .errors import MISSING

# Groups that Ansible always has and that carry no meaning for the site.
IMPLICIT_GROUPS = ("all", "ungrouped")
FIXED_GROUPS = ("vms_app_servers", "vms_recorders", "vms_gateways", "vms_edge")


def parse_ipv4(value: Any) -> ipaddress.IPv4Address:
    """An IPv4 address, or ValueError naming what is wrong (IPv6 is refused for now)."""
    if not isinstance(value, str):
        raise ValueError("is not an IPv4 address (expected a string like '10.0.0.5')")
    text = value.strip()
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        if "/" in text:
            raise ValueError("is a network, not a single IPv4 address") from None
        raise ValueError("is not an IPv4 address") from None
    if addr.version != 4:
        raise ValueError("is an IPv6 address; only IPv4 is supported for now")
    return addr


def parse_cidr(value: Any) -> ipaddress.IPv4Network:
    """An IPv4 network in CIDR form (a bare address means /32), or ValueError with the reason."""
    if not isinstance(value, str):
        raise ValueError("is not a CIDR (expected a string like '10.0.0.0/24')")
    text = value.strip()
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError("is not a CIDR (like 10.0.0.0/24) or IPv4 address") from exc
        raise ValueError(f"has host bits set (the network is {loose})") from None
    if net.version != 4:
        raise ValueError("is an IPv6 network; only IPv4 is supported for now")
    return net


@functools.lru_cache(maxsize=65536)
def _cidr_text(text: str) -> str:
    # Memoised: the compiler canonicalises the same few hundred networks for every rule of every host.
    return str(ipaddress.ip_network(text.strip(), strict=False))


def cidr(value: Any) -> str:
    """Canonical CIDR text of a validated address or network ('10.0.0.5' -> '10.0.0.5/32')."""
    return _cidr_text(str(value))


@functools.lru_cache(maxsize=65536)
def cidr_sort_key(text: str) -> tuple[int, int]:
    net = ipaddress.ip_network(text, strict=False)
    return (int(net.network_address), net.prefixlen)


def sorted_cidrs(values) -> list[str]:
    return sorted({cidr(v) for v in values}, key=cidr_sort_key)


@dataclass
class Site:
    hosts: dict[str, dict[str, Any]]
    groups: dict[str, list[str]] = field(default_factory=dict)
    # Ansible's connection per host ({ansible_connection, ansible_port, ...}: vms_deploy.inventory.collect),
    # empty for a site built in code: the WinRM rule opens the port Ansible really connects on.
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> Site:
        from .catalog import all_groups

        groups: dict[str, list[str]] = {}
        for group, members in (data.get("groups") or {}).items():
            if group in IMPLICIT_GROUPS:
                continue
            groups[str(group)] = sorted({str(m) for m in (members or [])})
        # Only hosts in a vms-deploy group belong to the site: others (a jump host, probe
        # containers added at run time by add_host) are neither planned nor validated.
        known = set(all_groups())
        members = {h for g, hs in groups.items() if g in known for h in hs}
        raw_hosts = data.get("hosts") or {}
        hosts = {str(name): dict(hvars or {}) for name, hvars in raw_hosts.items() if str(name) in members}
        found = data.get("connections")
        connections = {str(h): dict(c) for h, c in found.items() if str(h) in hosts and isinstance(c, dict)} \
            if isinstance(found, dict) else {}
        return cls(hosts=dict(sorted(hosts.items())), groups=groups, connections=connections)

    def members(self, group: str) -> list[str]:
        return list(self.groups.get(group, []))

    def host_groups(self, host: str) -> list[str]:
        """The host's vms-deploy groups (the ones the catalogs know). Other groups, including the
        vms_platform_* groups that stages/prechecks.yml creates at run time, carry no topology."""
        from .catalog import all_groups
        known = set(all_groups())
        return sorted(g for g, members in self.groups.items() if host in members and g in known)

    def all_host_groups(self, host: str) -> list[str]:
        return sorted(g for g, members in self.groups.items() if host in members)

    def var(self, host: str, name: str, default: Any = MISSING) -> Any:
        return self.hosts[host].get(name, default)

    def site_var(self, name: str, default: Any = None) -> Any:
        """A site-wide variable: the value the hosts carry (validate.py checks they agree)."""
        for hvars in self.hosts.values():
            if name in hvars:
                return hvars[name]
        return default

    def address_source(self, host: str) -> tuple[str, Any]:
        """(variable, value) the host's address comes from: vms_address, ansible_host or the name."""
        hvars = self.hosts[host]
        if hvars.get("vms_address") not in (None, ""):
            return "vms_address", hvars["vms_address"]
        if hvars.get("ansible_host") not in (None, ""):
            return "ansible_host", hvars["ansible_host"]
        try:
            parse_ipv4(host)
        except ValueError:
            return "vms_address", MISSING
        return "inventory_hostname", host

    def address(self, host: str) -> str:
        return str(parse_ipv4(self.address_source(host)[1]))

    def product(self) -> Any:
        return self.site_var("vms_product")
