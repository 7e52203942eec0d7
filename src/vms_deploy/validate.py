"""Every input check, run before anything is compiled, written or touched.

`validate(data) -> list[InputError]` collects ALL problems (never stops at the first) so one run
shows the user everything to fix. Each error names the host, the variable, the bad value and the
fix. Variable names and types come from the validate_inventory role's argument specs (entry point
"inventory"), the single source of truth for the inventory reference. The roles' argument specs are
package data (src/vms_deploy/specs/<role>.yml; roles/<role>/meta/argument_specs.yml link to them),
so an installed package validates without a checkout.
"""
from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from pathlib import Path
from typing import Any

import yaml

from . import checks
from .catalog import (
    CUSTOM_SERVICE_KEYS,
    NETWORK_ROLES,
    OVERRIDE_KEYS,
    PRODUCTS,
    PROTOCOLS,
    SOURCE_ROLES,
    all_groups,
    all_windows_packages,
    load_catalog,
    port_pair,
    safe_load,
)
from .errors import MISSING, InputError, WindowsInputError, merge_errors, preview
from .inventory import VAULTED
from .memo import IdentityMemo
from .model import Site, parse_cidr, parse_ipv4
from .ports import free_management_port, port_range
from .render.windows_install import (
    DEFAULT_ARGS_FILE,
    _check_source,
    install_plan,
)
from .resolve import Resolver, platform_of, zone_of

# Keys of a vms_vpn_peers entry; private_key (vaulted) is read by roles/vpn_wireguard.
VPN_PEER_KEYS = ("name", "address", "public_key", "private_key")

SPEC_DIR = Path(__file__).resolve().parent / "specs"  # <role>.yml: each role's meta/argument_specs.yml
SPEC_PATH = SPEC_DIR / "validate_inventory.yml"
SITE_NAME = checks.SAFE_NAME  # fullmatch: a trailing newline (YAML block scalar) is not part of a name
NETWORK_VARS = ("vms_client_networks", "vms_camera_networks", "vms_remote_allowlist", "vms_server_networks",
                "vms_dmz_networks", "vms_management_networks") + tuple(
                    v for v in NETWORK_ROLES.values() if v.endswith("_networks") and v not in (
                        "vms_client_networks", "vms_camera_networks", "vms_management_networks"))
# Variables that describe the whole site: every host must see the same value (set them in group_vars/all).
SITE_VARS = ("vms_product", "vms_site", "vms_remote_access", "vms_edge_backend", "vms_web_player",
             "vms_enabled_features", "vms_tls_enabled", "vms_device_count", "vms_camera_ports", "vms_vpn_listen_port",
             "vms_vpn_network", "vms_vpn_peers") + NETWORK_VARS
MAX_INSTANCES = 99
# Groups created at run time by stages/prechecks.yml (add_host, once per run); reserved, never inventory topology.
RUNTIME_GROUP_PREFIX = "vms_platform_"
# Machines that probe the site in playbooks/verify.yml: not site hosts, never planned.
VANTAGE_GROUP = "vms_vantages"
RUNTIME_GROUPS = {"vms_platform_linux": "linux", "vms_platform_windows": "windows"}
# Keys of one vms_camera_ports entry (a misspelled protocol must not silently become tcp).
CAMERA_PORT_KEYS = ("protocol", "port", "purpose")
TLS_MODES = ("auto", "provided")
# A management network may hold at most this many Internet addresses (an office's public /24).
MAX_PUBLIC_MANAGEMENT_ADDRESSES = 256
TYPE_WORDS = {"str": "a string", "int": "an integer", "bool": "true or false", "list": "a list",
              "dict": "a mapping (key: value)", "raw": "a value"}


@functools.cache
def inventory_spec(path: str = str(SPEC_PATH)) -> dict[str, dict]:
    """name -> option spec of every documented inventory variable."""
    try:
        raw = safe_load(Path(path).read_text(encoding="utf-8"))
        return dict(raw["argument_specs"]["inventory"]["options"])
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise RuntimeError(f"cannot read the inventory variable reference {path}: {exc}") from None


@functools.cache
def role_variables(spec_dir: str = str(SPEC_DIR)) -> frozenset[str]:
    """vms_* options documented by the other roles' argument_specs (their own inventory knobs, e.g.
    vms_win_installer_source). They are accepted by the unknown-variable check; their roles check
    their types."""
    names: set[str] = set()
    for path in sorted(Path(spec_dir).glob("*.yml")):
        try:
            raw = safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue  # a broken role spec is that role's lint failure, not an inventory error
        for entry in (raw.get("argument_specs") or {}).values():
            names.update(n for n in ((entry or {}).get("options") or {}) if str(n).startswith("vms_"))
    return frozenset(names)


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "dict":
        return isinstance(value, dict)
    return True


def _example(name: str, spec: dict) -> str:
    if "default" in spec:
        return f"{name}: {yaml.safe_dump(spec['default'], default_flow_style=True).strip().removesuffix('...').strip()}"
    if spec.get("choices"):
        return f"{name}: {spec['choices'][0]}"
    return f"{name}: <{TYPE_WORDS.get(spec.get('type', 'raw'), 'value')}>"


class _Validator:
    def __init__(self, data: Any):
        self.errors: list[InputError] = []
        self.bad: set[tuple[str, str]] = set()  # (host, variable) already reported: skip deeper checks
        # Every host carries the site-wide network lists: parse and check each distinct list once.
        # Lists are keyed by their items (tuple of strings: hashing cached str hashes is cheap); the
        # parsed tuple is then one object per distinct list, so the pair checks below key on identity.
        self._parsed_lists: dict[tuple, tuple] = {}
        self._networks_by_identity = IdentityMemo()
        self._overlaps = IdentityMemo()
        self._zero_nets = IdentityMemo()
        self._covering = IdentityMemo()
        self._element_checks: dict[tuple, list] = {}
        self.data = data

    def err(self, host, variable, value, problem, fix):
        self.errors.append(InputError(host, variable, value, problem, fix))
        self.bad.add((host, variable))

    # ----------------------------------------------------------------------------------------
    def run(self) -> list[InputError]:
        data = self.data
        if not isinstance(data, dict) or not isinstance(data.get("hosts"), dict) or not data["hosts"]:
            self.err("", "hosts", MISSING, "is empty: the inventory has no hosts",
                     "check the inventory path and that its YAML parses (ansible-inventory -i PATH --graph), then "
                     "list the site's hosts in the groups vms_app_servers, vms_recorders, ...")
            return self.errors
        if not isinstance(data.get("groups") or {}, dict):
            self.err("", "groups", data.get("groups"), "is not a mapping of group names to hosts",
                     "pass groups as {group: [hosts]}")
            return self.errors
        self.site = Site.from_dict(data)
        if not self.site.hosts:
            self.err("", "hosts", sorted(map(str, data["hosts"])), "are in no vms-deploy group",
                     "put the site's hosts in vms_app_servers, vms_recorders, vms_gateways, vms_edge (see "
                     "docs/inventory.md)")
            return self.errors
        self.check_sizes()
        self.check_host_names()
        self.check_variables()
        self.check_site_consistency()
        product = self.check_product()
        self.check_site_name()
        # Deeper checks see only values of the documented type: a reported bad value is dropped
        # (as if unset) so one mistake gives one message, never a crash in a later check.
        for host, name in self.bad:
            self.site.hosts.get(host, {}).pop(name, None)
        self.check_addresses()
        self.check_networks()
        self.check_names()
        self.check_tls()
        if product:
            self.catalog = load_catalog(product)
            self.check_groups(product)
            self.check_features(product)
            self.check_host_ports(product)
            self.check_remote_access(product)
            self.check_edge_backend()
            self.check_windows_inputs()
            if not self.errors:
                self.check_conflicts()
        return self.dedupe()

    def dedupe(self) -> list[InputError]:
        return merge_errors(self.errors, set(self.site.hosts) if hasattr(self, "site") else set())


    # --- names and types ----------------------------------------------------------------
    def check_variables(self):
        spec = inventory_spec()
        others = role_variables()
        known = sorted(set(spec) | others)
        for host, hvars in self.site.hosts.items():
            for name, value in sorted(hvars.items()):
                if not name.startswith("vms_") or (name in others and name not in spec):
                    continue
                if name not in spec:
                    hint = did_you_mean(name, known + list(all_groups()))
                    self.err(host, name, value, f"is not a vms-deploy variable{hint}",
                             "correct the name or remove it; every variable is listed in docs/inventory.md")
                    continue
                opt = spec[name]
                kind = opt.get("type", "raw")
                if value is None:
                    if "default" in opt and opt["default"] is not None:
                        self.err(host, name, value, "is empty (null)",
                                 f"give {TYPE_WORDS[kind]} or remove the line, e.g. {_example(name, opt)}")
                    continue
                if not _type_ok(value, kind):
                    got = type(value).__name__
                    hint = ""
                    if kind == "list" and isinstance(value, str):
                        items = [part.strip() for part in value.split(",") if part.strip()]
                        hint = f"; write it as a list: {name}: [{', '.join(items)}]"
                    self.err(host, name, value, f"is {got}, not {TYPE_WORDS[kind]}",
                             f"use {TYPE_WORDS[kind]}{hint or ', e.g. ' + _example(name, opt)}")
                    continue
                if kind == "list" and opt.get("elements") in ("str", "dict", "int"):
                    wrong = self._wrong_elements(value, opt["elements"])
                    if wrong:
                        self.err(host, name, value,
                                 f"has an item {wrong[0]!r} that is not {TYPE_WORDS[opt['elements']]}",
                                 f"make every item {TYPE_WORDS[opt['elements']]}, e.g. {_example(name, opt)}")
                        continue
                if opt.get("choices") and value not in opt["choices"]:
                    self.err(host, name, value, f"is not one of {', '.join(opt['choices'])}"
                             f"{did_you_mean(str(value), opt['choices'])}",
                             f"set {name} to one of: {', '.join(opt['choices'])}")

    def _wrong_elements(self, value: list, kind: str) -> list:
        """Items of a list that are not of `kind`, once per distinct list (see _parsed_lists)."""
        key = _list_key(value)
        if key is None:
            return [v for v in value if not _type_ok(v, kind)]
        if (key, kind) not in self._element_checks:
            self._element_checks[(key, kind)] = [v for v in value if not _type_ok(v, kind)]
        return self._element_checks[(key, kind)]

    def check_site_consistency(self):
        for name in SITE_VARS:
            by_object: dict[Any, tuple[Any, list[str]]] = {}  # repr() each distinct value once
            for host, hvars in self.site.hosts.items():
                if name in hvars and (host, name) not in self.bad:
                    value = hvars[name]
                    key = _list_key(value) or ("object", id(value))
                    by_object.setdefault(key, (value, []))[1].append(host)
            values: dict[str, list[str]] = {}
            for value, hosts in by_object.values():
                values.setdefault(repr(value), []).extend(hosts)
            if len(values) > 1:
                detail = "; ".join(f"{', '.join(sorted(h))}: {v}" for v, h in sorted(values.items()))
                for host in sorted(h for hs in values.values() for h in hs):
                    self.err(host, name, self.site.hosts[host][name],
                             f"differs between hosts ({detail}); it is site-wide",
                             f"set {name} once, in group_vars/all.yml, and remove it from host and group variables")

    def check_product(self) -> str | None:
        missing = [h for h in self.site.hosts if self.site.hosts[h].get("vms_product") is None]
        if missing:
            for host in missing:
                self.err(host, "vms_product", MISSING, "is not set",
                         f"set vms_product to one of {', '.join(PRODUCTS)} in group_vars/all.yml")
            return None
        product = self.site.product()
        if any((h, "vms_product") in self.bad for h in self.site.hosts):
            return None
        return product if product in PRODUCTS else None

    def check_site_name(self):
        for host, hvars in self.site.hosts.items():
            if (host, "vms_site") in self.bad:
                continue
            value = hvars.get("vms_site", MISSING)
            if value is MISSING or value is None:
                self.err(host, "vms_site", MISSING, "is not set",
                         "set vms_site (the site's short name, e.g. vms_site: hq) in group_vars/all.yml")
            elif checks.safe_name_problem(value):
                self.err(host, "vms_site", value, "is not a valid site name (it names a directory)",
                         f"use {checks.SAFE_NAME_RULE} (e.g. hq-01); a YAML block scalar (|) adds a newline: "
                         "write vms_site: hq-01 on one line")

    # --- hostile input: sizes and names (issue 13) -------------------------------------------------
    def check_sizes(self):
        """Refuse huge or alias-expanded values before any other check walks them (each distinct
        object is measured once: group_vars are shared by every host of the group)."""
        measured: dict[int, tuple[Any, str | None]] = {}
        for host, hvars in self.site.hosts.items():
            for name in sorted(hvars, key=str):
                value = hvars[name]
                if not isinstance(value, (list, dict, str)):
                    continue
                hit = measured.get(id(value))
                if hit is None or hit[0] is not value:
                    hit = measured[id(value)] = (value, checks.size_problem(value))
                if hit[1]:
                    self.err(host, str(name), preview(value), hit[1],
                             f"give {name} a value of normal size; check the file for YAML anchors and aliases (&, *)")
                    del hvars[name]  # no later check may walk it

    def check_host_names(self):
        for host in self.site.hosts:
            problem = checks.safe_name_problem(host)
            if problem:
                self.err(host, "inventory_hostname", host, problem,
                         f"rename the host in the inventory: {checks.SAFE_NAME_RULE} (e.g. rec-01)")

    def check_names(self):
        """Names and free text that reach configuration files: DNS names, TLS names."""
        for host in self.site.hosts:
            name = self.site.var(host, "vms_public_name", None)
            if name is not None and (host, "vms_public_name") not in self.bad:
                problem = checks.dns_name_problem(name)
                if problem:
                    self.err(host, "vms_public_name", name, problem,
                             "set vms_public_name to the DNS name clients use, e.g. vms.example.com")
            for item in self.site.var(host, "vms_tls_names", None) or []:
                if (host, "vms_tls_names") in self.bad:
                    break
                try:
                    parse_ipv4(item)
                    continue
                except ValueError:
                    pass
                problem = checks.dns_name_problem(item, wildcard=True)
                if problem:
                    self.err(host, "vms_tls_names", item, problem + " or IPv4 address",
                             "list DNS names (e.g. vms.example.com) or IPv4 addresses in vms_tls_names")

    def check_tls(self):
        """TLS inputs, checked here so plan.yml and the first stage of site.yml refuse them (before
        any host is touched); the certificates stage runs the same certs.check again."""
        from . import certs

        for host in self.site.hosts:
            v = self.site.var
            mode = v(host, "vms_tls_mode", None)
            if mode is not None and (host, "vms_tls_mode") not in self.bad and mode not in TLS_MODES:
                self.err(host, "vms_tls_mode", mode,
                         f"is not one of {', '.join(TLS_MODES)}{did_you_mean(str(mode), TLS_MODES)}",
                         "set vms_tls_mode to auto (a site CA made by vms-deploy) or provided (your certificate files)")
                continue
            for name, least in (("vms_tls_validity_days", 1), ("vms_tls_ca_validity_days", 1),
                                ("vms_tls_expiry_warning_days", 0)):
                days = v(host, name, None)
                if days is not None and (host, name) not in self.bad and days < least:
                    self.err(host, name, days, f"is less than {least}", f"set {name} to a number of days, e.g. "
                             f"{_example(name, inventory_spec().get(name, {})).split(': ', 1)[-1]}")
            if mode != "provided" or not set(self.site.host_groups(host)) & {"vms_gateways", "vms_app_servers"}:
                continue
            for issue in certs.inventory_issues(self.site.hosts[host], self.data.get("inventory_dirs", {}).get(host)):
                self.err(host, issue.variable, issue.value, issue.problem, issue.fix)

    # --- addresses ----------------------------------------------------------------------------
    def check_addresses(self):
        by_address: dict[str, list[str]] = {}
        for host in self.site.hosts:
            variable, value = self.site.address_source(host)
            if (host, variable) in self.bad:
                continue
            if value is MISSING:
                self.err(host, "vms_address", MISSING, "is not set and the host has no ansible_host (no IP address)",
                         f"set vms_address (or ansible_host) for {host} to its IPv4 address")
                continue
            try:
                addr = parse_ipv4(value)
            except ValueError as exc:
                self.err(host, variable, value, str(exc),
                         "set vms_address (or ansible_host) to the host's IPv4 address")
                continue
            problem = checks.host_address_problem(addr)
            if problem:
                self.err(host, variable, value, problem, "set vms_address (or ansible_host) to the host's own unicast "
                         "IPv4 address on the site network")
                continue
            by_address.setdefault(str(addr), []).append(host)
        for addr, hosts in sorted(by_address.items()):
            if len(hosts) > 1:
                for host in hosts:
                    others = ", ".join(h for h in hosts if h != host)
                    self.err(host, self.site.address_source(host)[0], addr,
                             f"is also the address of {others} (two hosts with one address)",
                             "give every host its own address; one machine with several roles is one host in several "
                             "groups")
        for host in self.site.hosts:
            value = self.site.var(host, "vms_public_address", None)
            if value is None or (host, "vms_public_address") in self.bad:
                continue
            try:
                public = parse_ipv4(value)
            except ValueError as exc:
                self.err(host, "vms_public_address", value, str(exc),
                         "set vms_public_address to the site's public IPv4 address (as the router sees it)")
                continue
            problem = checks.host_address_problem(public)
            # The edge may be managed on its own WAN address; any other host's address is a LAN address.
            lan = [h for h in by_address.get(str(public), []) if h not in self.site.members("vms_edge")]
            if not problem and lan:
                problem = f"is the LAN address of {', '.join(lan)}, not the site's public address"
            if problem:
                self.err(host, "vms_public_address", value, problem,
                         "set vms_public_address to the address the Internet reaches the router on (its WAN address)")

    def _networks(self, host: str, name: str) -> tuple[ipaddress.IPv4Network, ...] | None:
        value = self.site.var(host, name, None)
        if value is None or (host, name) in self.bad:
            return None
        # The same group_vars object as another host's: found by identity, no walk of its items.
        return self._networks_by_identity.get(lambda v: self._parsed(host, name, v), value)

    def _parsed(self, host: str, name: str, value) -> tuple[ipaddress.IPv4Network, ...] | None:
        key = _list_key(value)
        if key is not None and key in self._parsed_lists:
            return self._parsed_lists[key]
        nets = []
        for item in value:
            try:
                nets.append(_parse_cidr_cached(item) if isinstance(item, str) else parse_cidr(item))
            except ValueError as exc:
                self.err(host, name, item, str(exc),
                         f"write every entry of {name} as an IPv4 CIDR such as 10.20.0.0/24 (a single address is "
                         "x.x.x.x/32)")
                return None
        if key is None:
            return tuple(nets)
        self._parsed_lists[key] = tuple(nets)
        return self._parsed_lists[key]

    def _overlapping(self, left: tuple, right: tuple) -> list:
        """(a, b) pairs of overlapping networks of two parsed lists, computed once per pair."""
        return self._overlaps.get(lambda a_list, b_list: [(a, b) for a in a_list for b in b_list if a.overlaps(b)],
                                  left, right)

    def _whole_internet(self, nets: tuple) -> list:
        """The 0.0.0.0/0 entries of a parsed list (once per list, as _overlapping)."""
        return self._zero_nets.get(lambda found: [net for net in found if net.prefixlen == 0], nets)

    def check_networks(self):
        for host in self.site.hosts:
            nets = {name: self._networks(host, name) for name in NETWORK_VARS}
            for name, value in nets.items():
                self._coverage(host, name, value)
                if name == "vms_remote_allowlist":
                    continue
                for net in self._whole_internet(value or ()):
                    if name == "vms_management_networks":
                        self.err(host, name, str(net), "opens the management port (SSH/WinRM) to the whole Internet",
                                 "list only the administrators' networks, e.g. [10.0.99.0/24]")
                    else:
                        self.err(host, name, str(net), "covers the whole Internet (only vms_remote_allowlist may)",
                                 f"list the real networks in {name}; Internet access goes through vms_remote_allowlist")
            # An empty vms_remote_allowlist is valid: the forwards then admit nobody.
            pairs = (("vms_client_networks", "vms_camera_networks", "the camera network must hold only cameras"),
                     ("vms_management_networks", "vms_camera_networks", "a camera must never reach SSH/WinRM"),
                     ("vms_management_networks", "vms_client_networks",
                      "every client would reach SSH/WinRM; administrators get their own network"),
                     ("vms_server_networks", "vms_camera_networks", "cameras may reach only the recorders"),
                     ("vms_dmz_networks", "vms_server_networks", "the DMZ must be separate from the server zone"),
                     ("vms_dmz_networks", "vms_camera_networks", "cameras may reach only the recorders"),
                     ("vms_dmz_networks", "vms_client_networks", "the DMZ must be separate from the client network"))
            for left, right, why in pairs:
                # Site-wide lists are the same on every host: each pair of lists is compared once.
                for a, b in self._overlapping(nets.get(left) or (), nets.get(right) or ()):
                    self.err(host, left, str(a), f"overlaps {right} entry {b} ({why})",
                             f"make {left} and {right} separate networks, or correct the CIDR")
            for net in nets.get("vms_management_networks") or ():
                count = checks.public_addresses(net)
                if count > MAX_PUBLIC_MANAGEMENT_ADDRESSES:
                    self.err(host, "vms_management_networks", str(net),
                             f"holds {count} Internet addresses: SSH/WinRM would be open to that part of the Internet",
                             "list the administrators' own networks only (private ranges, or public addresses as "
                             "a /24 or smaller)")
            self.check_host_zone(host, nets)

    def _coverage(self, host, name, nets):
        """A list whose union is 0.0.0.0/0 without the literal 0.0.0.0/0 entry (0/1 + 128/1, ...):
        refused, so "the whole Internet" is judged the same however it is spelled."""
        if not nets or any(n.prefixlen == 0 for n in nets) or (host, name) in self.bad:
            return
        if self._covering.get(lambda found: checks.covers_everything(found) or None, nets):
            fix = (f"list only the networks that need access, or write {name}: [0.0.0.0/0] to allow everyone "
                   "openly (the plan then warns)" if name == "vms_remote_allowlist"
                   else f"list the real networks in {name}; Internet access goes through vms_remote_allowlist")
            self.err(host, name, [str(n) for n in nets], "covers the whole Internet (0.0.0.0/0) as several networks",
                     fix)

    def check_host_zone(self, host, nets):
        variable, value = self.site.address_source(host)
        try:
            addr = parse_ipv4(value)
        except ValueError:
            return
        for name in ("vms_server_networks", "vms_dmz_networks", "vms_client_networks", "vms_camera_networks",
                     "vms_management_networks"):
            problem = checks.edge_of_network(addr, nets.get(name) or ())
            if problem:
                self.err(host, variable, str(addr), f"{problem} ({name})",
                         "give the host a usable address inside the network (not its first or last address)")
        zone = zone_of(self.site, host)
        declared = {"servers": nets.get("vms_server_networks"), "dmz": nets.get("vms_dmz_networks")}.get(zone)
        if declared and not any(addr in net for net in declared):
            var = "vms_server_networks" if zone == "servers" else "vms_dmz_networks"
            self.err(host, variable, str(addr), f"is in zone {zone} but outside {var} {[str(n) for n in declared]}",
                     f"add the host's network to {var}, correct the address, or set vms_zone for the host")
        routed = self.site.var(host, "vms_routed_public", None)
        if routed and zone != "dmz":
            self.err(host, "vms_routed_public", routed, f"is set on a host in zone {zone}; only a DMZ host may have "
                     "its own public address routed to it", "remove vms_routed_public, or put the host in the DMZ "
                     "(vms_zone: dmz)")
        elif routed and addr.is_private:
            self.err(host, "vms_routed_public", routed, f"is set but the host's address {addr} is private, so the "
                     "Internet cannot be routed to it", "give the host its public address, or remove "
                     "vms_routed_public and reach it through the edge's forwards")
        for net in nets.get("vms_camera_networks") or ():
            if addr in net:
                self.err(host, variable, str(addr), f"is in the camera network {net} (host in zone {zone})",
                         "keep servers out of the camera network: give the host an address on the server or client "
                         "network, or correct vms_camera_networks")

    # --- groups ------------------------------------------------------------------------------------
    def check_groups(self, product: str):
        cat = self.catalog
        members = self.site.groups
        for group in cat.required_groups:
            if not members.get(group):
                self.err("", group, [], f"is empty, but a {cat.title} site needs at least one host in it",
                         f"add the host(s) to group {group} in the inventory (one host may be in several groups)")
        known = set(cat.groups())
        for group in sorted(set(all_groups()) - known):
            for host in members.get(group, []):
                self.err(host, group, host, f"is a group that {cat.title} does not have",
                         f"remove {host} from {group}; {cat.title} uses: {', '.join(cat.groups())}")
        self.check_reserved_groups(product)
        for group, hosts in sorted(members.items()):
            if group.startswith("vms_") and group not in set(all_groups()) \
                    and not group.startswith(RUNTIME_GROUP_PREFIX) and group != VANTAGE_GROUP:
                for host in hosts:
                    self.err(host, group, host, f"is not a vms-deploy group{did_you_mean(group, all_groups())}",
                             "correct the group name or use a name that does not start with vms_")
        for group in cat.single_host_groups:
            hosts = members.get(group, [])
            if len(hosts) > 1:
                for host in hosts:
                    self.err(host, group, hosts, f"holds {len(hosts)} hosts; a {cat.title} site has exactly one",
                             f"keep one host in {group}")
        edge = members.get("vms_edge", [])
        for host in edge:
            others = [g for g in self.site.host_groups(host) if g != "vms_edge"]
            if others:
                self.err(host, "vms_edge", host, f"is the edge firewall but also in {', '.join(others)}",
                         "run the edge router on its own host; VMS components belong behind it")
        if len(edge) > 1:
            for host in edge:
                self.err(host, "vms_edge", edge, "holds more than one host", "keep one edge host per site")

    def check_reserved_groups(self, product: str):
        """vms_platform_* groups are made at run time by stages/prechecks.yml (add_host, once per run). An inventory
        that defines one could move a host into the other platform's stages: refused when read from
        files; inside a playbook run only the two runtime groups, each holding hosts of its platform
        (what add_host makes, possibly for a --limit subset), are accepted."""
        from_files = bool(self.data.get("groups_from_files"))
        for group, hosts in sorted(self.site.groups.items()):
            if not group.startswith(RUNTIME_GROUP_PREFIX):
                continue
            platform = RUNTIME_GROUPS.get(group)
            for host in hosts:
                if host not in self.site.hosts:
                    continue
                if from_files or platform is None or platform_of(self.site, host, product) != platform:
                    self.err(host, group, host, f"is a reserved group name ({RUNTIME_GROUP_PREFIX}* groups are made at "
                             "run time from each host's platform)",
                             "rename the group to a name that does not start with vms_; set a host's platform with "
                             "vms_platform")

    def check_features(self, product: str):
        names = sorted(self.catalog.features)
        for host in self.site.hosts:
            for feat in self.site.var(host, "vms_enabled_features", None) or []:
                if (host, "vms_enabled_features") in self.bad:
                    break
                if feat not in names:
                    self.err(host, "vms_enabled_features", feat,
                             f"is not a {self.catalog.title} feature{did_you_mean(str(feat), names)}",
                             f"use one of: {', '.join(names) or '(none for this product)'}")

    # --- ports --------------------------------------------------------------------------------------
    def _port(self, host, variable, value, what="port") -> tuple[int, int] | None:
        if isinstance(value, str) and value.strip().isdigit():
            self.err(host, variable, value, "is a quoted number (a string), not a port number",
                     f"write the number without quotes, e.g. {variable.rsplit('.', 1)[-1]}: {value.strip()}")
            return None
        try:
            return port_pair(value)
        except ValueError as exc:
            self.err(host, variable, value, f"{exc}" if what == "port" else f"({what}) {exc}",
                     "use a port number 1-65535, or [first, last] with first <= last")
            return None

    def _external_port(self, host, variable, value):
        """The router-side port: one number (a range forward keeps the internal range's length)."""
        if isinstance(value, (list, tuple)):
            first = value[0] if value and isinstance(value[0], int) and not isinstance(value[0], bool) else 8443
            self.err(host, variable, value, "is a list; external_port is one number (the first external port of "
                     "the forward)", f"write external_port: {first}")
            return None
        return self._port(host, variable, value)

    def _sources(self, host, variable, roles):
        if not isinstance(roles, list):
            self.err(host, variable, roles, "is not a list of sources",
                     f"use a list of roles ({', '.join(SOURCE_ROLES)}) or CIDRs")
            return
        nets = []
        for role in roles:
            if isinstance(role, str) and role in SOURCE_ROLES:
                continue
            try:
                net = parse_cidr(role)
            except ValueError:
                self.err(host, variable, role,
                         f"is neither a source role nor a CIDR{did_you_mean(str(role), SOURCE_ROLES)}",
                         f"use a role ({', '.join(SOURCE_ROLES)}) or an IPv4 CIDR")
                continue
            if net.prefixlen == 0:
                self.err(host, variable, role, "opens the service to the whole Internet",
                         "name the 'internet' role (limited by vms_remote_allowlist) or a narrower CIDR")
            else:
                nets.append(net)
        if checks.covers_everything(nets):
            self.err(host, variable, [str(n) for n in nets],
                     "opens the service to the whole Internet (0.0.0.0/0) as several networks",
                     "name the 'internet' role (limited by vms_remote_allowlist) or the real networks")

    def check_host_ports(self, product: str):
        services = self.catalog.services()
        for host in self.site.hosts:
            v = self.site.var
            port = v(host, "vms_management_port", None)
            if port is not None and (host, "vms_management_port") not in self.bad:
                self._port(host, "vms_management_port", port)
            inst = v(host, "vms_recorder_instances", None)
            if inst is not None and (host, "vms_recorder_instances") not in self.bad and not 1 <= inst <= MAX_INSTANCES:
                self.err(host, "vms_recorder_instances", inst, f"is outside 1-{MAX_INSTANCES}",
                         "set the number of Recording Server instances on the host (usually 1)")
            count = v(host, "vms_device_count", None)
            if count is not None and (host, "vms_device_count") not in self.bad and count < 0:
                self.err(host, "vms_device_count", count, "is negative", "set the number of IP devices (0 or more)")
            overrides = v(host, "vms_port_overrides", None)
            if overrides and (host, "vms_port_overrides") not in self.bad:
                for name, ovr in sorted(overrides.items(), key=lambda kv: str(kv[0])):
                    var = f"vms_port_overrides.{name}"
                    if name not in services:
                        self.err(host, "vms_port_overrides", name,
                                 f"names no {self.catalog.title} service{did_you_mean(str(name), services)}",
                                 "use a service name from docs/policy.md, or vms_custom_services for a new service")
                        continue
                    if not isinstance(ovr, dict):
                        self.err(host, var, ovr, "is not a mapping", "write e.g. {port: 9080} or {enabled: false}")
                        continue
                    self._entry_fields(host, var, ovr, OVERRIDE_KEYS)
            self.check_custom(host, services)
            self.check_segmentation(host, services)
            self.check_camera_ports(host)
            self.check_forwarded(host, product, services)

    def check_custom(self, host, services):
        entries = self.site.var(host, "vms_custom_services", None)
        if not entries or (host, "vms_custom_services") in self.bad:
            return
        names = set()
        for i, entry in enumerate(entries):
            var = f"vms_custom_services[{i}]"
            self._entry_fields(host, var, entry, CUSTOM_SERVICE_KEYS)
            name = entry.get("name")
            if "purpose" in entry and checks.free_text_problem(entry["purpose"]):
                self.err(host, f"{var}.purpose", entry["purpose"], checks.free_text_problem(entry["purpose"]),
                         f"describe the service in {checks.FREE_TEXT_RULE}")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
                self.err(host, f"{var}.name", name, "is missing or not a lower-case identifier",
                         "give each custom service a name such as backup_agent")
            elif name in names or name in services:
                self.err(host, f"{var}.name", name, "is already used by another service",
                         "give the custom service a unique name")
            else:
                names.add(name)
            if entry.get("protocol", "tcp") not in PROTOCOLS:
                self.err(host, f"{var}.protocol", entry.get("protocol"), "is not tcp, udp or tcp+udp",
                         "set protocol to tcp, udp or tcp+udp")
            if "port" not in entry:
                self.err(host, f"{var}.port", MISSING, "is not set", "give port: N or port: [first, last]")

    def check_segmentation(self, host, services):
        """Sources the seeds fix stay fixed: cameras reach only recorders, and only on what the catalog
        gives them (or a service declared on a recorder); a restricted service (XProtect 9000: only
        recording servers) keeps its catalog sources. vms_deploy.invariants holds the same on the plan."""
        cameras = []
        for text in self.site.var(host, "vms_camera_networks", None) or []:
            try:
                cameras.append(parse_cidr(text))
            except ValueError:
                pass  # reported by the network checks

        def names_cameras(roles):
            if not isinstance(roles, list):
                return False
            for role in roles:
                if role == "cameras":
                    return True
                try:
                    net = parse_cidr(role) if isinstance(role, str) and role not in SOURCE_ROLES else None
                except ValueError:
                    net = None
                if net is not None and any(net.overlaps(c) for c in cameras):
                    return True
            return False

        overrides = self.site.var(host, "vms_port_overrides", None)
        if isinstance(overrides, dict) and (host, "vms_port_overrides") not in self.bad:
            for name, ovr in sorted(overrides.items(), key=lambda kv: str(kv[0])):
                svc = services.get(name)
                if svc is None or not isinstance(ovr, dict) or "connects_from" not in ovr:
                    continue
                var = f"vms_port_overrides.{name}.connects_from"
                if svc.restricted:
                    self.err(host, var, ovr["connects_from"],
                             f"changes who may reach {name}, which the vendor restricts to "
                             f"{', '.join(svc.connects_from)} ({self.catalog.title} documentation)",
                             f"remove connects_from from the override of {name}")
                elif names_cameras(ovr["connects_from"]) and "cameras" not in svc.connects_from:
                    self.err(host, var, ovr["connects_from"],
                             f"opens {name} to the camera network, but cameras may reach only what the catalog gives "
                             "them on recorders", "remove cameras (and camera networks) from connects_from")
        groups = set(self.site.host_groups(host))
        customs = self.site.var(host, "vms_custom_services", None)
        if isinstance(customs, list) and (host, "vms_custom_services") not in self.bad \
                and not groups & {"vms_recorders", "vms_failover_recorders"}:
            for i, entry in enumerate(customs):
                if isinstance(entry, dict) and names_cameras(entry.get("connects_from")):
                    self.err(host, f"vms_custom_services[{i}].connects_from", entry.get("connects_from"),
                             f"opens a service on {host}, which records nothing, to the camera network; cameras "
                             "reach only recorders", "remove cameras from connects_from, or declare the service on "
                             "the recorder the cameras talk to")

    def _entry_fields(self, host, var, entry, allowed):
        """Checks shared by a vms_port_overrides entry and a vms_custom_services entry."""
        for key in sorted(set(entry) - set(allowed), key=str):
            self.err(host, var, key, f"is an unknown key{did_you_mean(str(key), allowed)}",
                     f"use only: {', '.join(allowed)}")
        if "port" in entry:
            self._port(host, f"{var}.port", entry["port"])
        if "external_port" in entry:
            self._external_port(host, f"{var}.external_port", entry["external_port"])
        for key in ("enabled", "forward"):
            if key in entry and not isinstance(entry[key], bool):
                self.err(host, f"{var}.{key}", entry[key], "is not true or false", f"use {key}: true or false")
        if "connects_from" in entry:
            self._sources(host, f"{var}.connects_from", entry["connects_from"])

    def check_camera_ports(self, host):
        entries = self.site.var(host, "vms_camera_ports", None)
        if not entries or (host, "vms_camera_ports") in self.bad:
            return
        for i, entry in enumerate(entries):
            var = f"vms_camera_ports[{i}]"
            for key in sorted(set(entry) - set(CAMERA_PORT_KEYS), key=str):
                self.err(host, var, key, f"is an unknown key{did_you_mean(str(key), CAMERA_PORT_KEYS)}",
                         f"use only: {', '.join(CAMERA_PORT_KEYS)}")
            if "purpose" in entry and checks.free_text_problem(entry["purpose"]):
                self.err(host, f"{var}.purpose", entry["purpose"], checks.free_text_problem(entry["purpose"]),
                         f"describe the port in {checks.FREE_TEXT_RULE}")
            if entry.get("protocol", "tcp") not in PROTOCOLS:
                self.err(host, f"{var}.protocol", entry.get("protocol"), "is not tcp, udp or tcp+udp",
                         "set protocol to tcp, udp or tcp+udp")
            if "port" not in entry:
                self.err(host, f"{var}.port", MISSING, "is not set", "give port: N or port: [first, last]")
            else:
                self._port(host, f"{var}.port", entry["port"])

    def check_forwarded(self, host, product, services):
        entries = self.site.var(host, "vms_forwarded_services", None)
        if not entries or (host, "vms_forwarded_services") in self.bad:
            return
        if self.catalog.traits["forwarding"] != "listed_services" or "vms_recorders" not in self.site.host_groups(host):
            listed = [p for p in PRODUCTS if load_catalog(p).traits["forwarding"] == "listed_services"]
            self.err(host, "vms_forwarded_services", entries,
                     f"is only used for recorders of products that forward listed services ({', '.join(listed)})",
                     f"remove it; {self.catalog.title} forwards its gateway's ports (change them with "
                     "vms_port_overrides)"
                     if self.catalog.traits["forwarding"] == "gateway" else
                     "remove it, or move it to a host in vms_recorders")
            return
        custom = {e.get("name") for e in self.site.var(host, "vms_custom_services", None) or [] if isinstance(e, dict)}
        for i, entry in enumerate(entries):
            var = f"vms_forwarded_services[{i}]"
            if isinstance(entry, dict):
                unknown = sorted(set(entry) - {"service", "external_port"}, key=str)
                for key in unknown:
                    self.err(host, var, key, f"is an unknown key{did_you_mean(str(key), ['service', 'external_port'])}",
                             "use only service and external_port")
                name = entry.get("service")
                if "external_port" in entry:
                    self._external_port(host, f"{var}.external_port", entry["external_port"])
            else:
                name = entry
            if not isinstance(name, str) or (name not in services and name not in custom):
                self.err(host, var, name, f"names no NVR service{did_you_mean(str(name), list(services))}",
                         f"use one of: {', '.join(services)} (or a vms_custom_services name)")

    # --- Windows installer inputs (read by roles/windows_install; checked here, before any host) -----
    def check_windows_inputs(self):
        # vms_win_packages is keyed by the installable Windows component (docs/windows.md, "Installers"),
        # e.g. xprotect_management_server, not by the plan's component names: the catalogs' windows_package.
        components = set(all_windows_packages())
        for host in self.site.hosts:
            v = self.site.var
            source = v(host, "vms_win_installer_source", None)
            if source not in (None, ""):
                try:
                    _check_source(host, source)
                    problem = checks.windows_text_problem(source, quotes=False)
                    if problem:
                        self.err(host, "vms_win_installer_source", source, problem,
                                 r"use a plain UNC path (\\fileserver\vms\installers) or https:// URL")
                except WindowsInputError as exc:
                    self.errors.append(exc.error)
                    self.bad.add((host, "vms_win_installer_source"))
            packages = v(host, "vms_win_packages", None)
            if packages is None or packages == {}:
                continue
            if not isinstance(packages, dict):
                self.err(host, "vms_win_packages", packages, f"is {type(packages).__name__}, not a mapping",
                         "write vms_win_packages as {component: {file: ..., arguments: ..., services: [...]}}")
                continue
            for comp, spec in sorted(packages.items(), key=lambda kv: str(kv[0])):
                self._windows_package(host, comp, spec, components)

    def _windows_package(self, host, comp, spec, components):
        var = f"vms_win_packages.{comp}"
        if comp not in components:
            self.err(host, "vms_win_packages", comp, "names no installable Windows component"
                     f"{did_you_mean(str(comp), sorted(components))}", f"use one of: {', '.join(sorted(components))}")
            return
        if not isinstance(spec, dict):
            self.err(host, var, spec, "is not a mapping", "write {file: ..., arguments: ..., services: [...]}")
            return
        for key in sorted(set(spec) - set(checks.WINDOWS_PACKAGE_KEYS), key=str):
            self.err(host, var, key, f"is an unknown key{did_you_mean(str(key), checks.WINDOWS_PACKAGE_KEYS)}",
                     f"use only: {', '.join(checks.WINDOWS_PACKAGE_KEYS)}")
        fixes = {"file": "give the installer's file name inside vms_win_installer_source, e.g. ValerusSetup.exe",
                 "arguments": "give the installer's documented silent-install arguments on one line",
                 "product_id": "give the MSI product code, e.g. {12345678-1234-1234-1234-123456789012}"}
        for key, fix in fixes.items():
            if key in spec and spec[key] not in (None, ""):
                problem = checks.windows_package_problem(key, spec[key])
                if problem:
                    self.err(host, f"{var}.{key}", spec[key], problem, fix)
        services = spec.get("services")
        if services is not None:
            if not isinstance(services, list):
                self.err(host, f"{var}.services", services, "is not a list of Windows service names",
                         "write services: [ServiceName, ...]")
            else:
                for name in services:
                    problem = checks.windows_package_problem("services", name)
                    if problem:
                        self.err(host, f"{var}.services", name, problem,
                                 "list the Windows service names (sc query), e.g. [ViconValerusRecorder]")

    # --- remote access ---------------------------------------------------------------------------
    def check_remote_access(self, product: str):
        site = self.site
        remote = site.site_var("vms_remote_access")
        if any((h, "vms_remote_access") in self.bad for h in site.hosts):
            return
        gateways = site.members("vms_gateways")
        if remote == "port_forward" and self.catalog.traits["gateway_host"] != "none" and not gateways:
            self.err("all", "vms_remote_access", remote, "needs a gateway, but vms_gateways is empty",
                     "add the Internet Gateway / Mobile Server host to vms_gateways, or set vms_remote_access: none")
        if remote == "vpn":
            self.check_vpn()
        port = site.site_var("vms_vpn_listen_port")
        if port is not None and not any((h, "vms_vpn_listen_port") in self.bad for h in site.hosts):
            self._port("all", "vms_vpn_listen_port", port)

    def check_edge_backend(self):
        """vms_edge_backend must fit the vms_edge group: a backend that manages the edge needs its host,
        the router sheet (a router vms-deploy does not manage) cannot stand in for one."""
        site = self.site
        name = site.site_var("vms_edge_backend")
        if name is None or any((h, "vms_edge_backend") in self.bad for h in site.hosts):
            return  # unset: the default fits (vms_deploy.edge.default_backend); a bad choice is reported already
        from .edge import backend as edge_backend

        managed = edge_backend(name).MANAGED_EDGE
        edge = site.members("vms_edge")
        setters = sorted(h for h in site.hosts if "vms_edge_backend" in site.hosts[h])
        holder = "all" if len(setters) == len(site.hosts) else setters[0]
        if managed and not edge:
            self.err(holder, "vms_edge_backend", name,
                     "needs the site's edge host, but group vms_edge is empty",
                     "add the Linux edge host to group vms_edge, or set vms_edge_backend: router_sheet "
                     "(or remove it: router_sheet is the default without a vms_edge host)")
        elif not managed and edge:
            self.err(holder, "vms_edge_backend", name,
                     f"is a router vms-deploy does not manage, but {', '.join(edge)} in vms_edge is the site's "
                     "managed edge (the plan's zone flows would go unenforced)",
                     "set vms_edge_backend: nftables (or remove it: nftables is the default with a vms_edge host), "
                     f"or take {', '.join(edge)} out of vms_edge")

    def check_vpn(self):
        site = self.site
        if not site.members("vms_edge"):
            self.err("", "vms_edge", [], "is empty, but vms_remote_access: vpn terminates the VPN on the edge host",
                     "add the Linux edge host to group vms_edge, or use vms_remote_access: port_forward")
        network = site.site_var("vms_vpn_network")
        if any((h, "vms_vpn_network") in self.bad for h in site.hosts):
            return
        if network is None:
            self.err("all", "vms_vpn_network", MISSING, "is not set but vms_remote_access is vpn",
                     "set vms_vpn_network to an unused private CIDR, e.g. 10.99.0.0/24")
            return
        try:
            net = parse_cidr(network)
        except ValueError as exc:
            self.err("all", "vms_vpn_network", network, str(exc), "set vms_vpn_network to a CIDR such as 10.99.0.0/24")
            return
        if net.prefixlen > 30:
            self.err("all", "vms_vpn_network", network,
                     f"is a /{net.prefixlen}: it has no room for the edge and a peer",
                     "set vms_vpn_network to a /24 (or at most a /30), e.g. 10.99.0.0/24")
            return
        problem = checks.host_address_problem(net.network_address) if net.prefixlen >= 8 else None
        if problem or checks.public_addresses(net):
            self.err("all", "vms_vpn_network", network, "is not a private network (" + (problem or "it holds Internet "
                     "addresses") + ")", "choose an unused private CIDR, e.g. 10.99.0.0/24")
            return
        for var in NETWORK_VARS:
            if var == "vms_remote_allowlist":
                continue
            for item in site.site_var(var) or []:
                try:
                    if net.overlaps(parse_cidr(item)):
                        self.err("all", "vms_vpn_network", network, f"overlaps {var} entry {item}",
                                 "choose a VPN network that no site network uses")
                except ValueError:
                    pass
        for host in site.hosts:
            try:
                addr = parse_ipv4(site.address_source(host)[1])
            except ValueError:
                continue
            if addr in net:
                self.err("all", "vms_vpn_network", network, f"holds the address {addr} of host {host}",
                         "choose a VPN network that no site host uses")
        key = site.site_var("vms_vpn_edge_private_key")
        if key is not None and key != VAULTED:
            problem = checks.wireguard_key_problem(key)
            if problem:
                self.err("all", "vms_vpn_edge_private_key", key, problem,
                         "remove it (vms-deploy generates one) or set it to the output of `wg genkey`, in Ansible "
                         "Vault")
        peers = site.site_var("vms_vpn_peers") or []
        if any((h, "vms_vpn_peers") in self.bad for h in site.hosts):
            return
        seen_names, seen_addr = set(), set()
        for i, peer in enumerate(peers):
            self._vpn_peer(i, peer, net, seen_names, seen_addr)

    def _vpn_peer(self, i, peer, net, seen_names, seen_addr):
        var = f"vms_vpn_peers[{i}]"
        for key in sorted(set(peer) - set(VPN_PEER_KEYS), key=str):
            self.err("all", var, key, f"is an unknown key{did_you_mean(str(key), list(VPN_PEER_KEYS))}",
                     "use only name, address, public_key and private_key (vaulted)")
        name = peer.get("name")
        if not isinstance(name, str) or not name:
            self.err("all", f"{var}.name", name, "is missing", "give every peer a name")
        elif checks.safe_name_problem(name):
            self.err("all", f"{var}.name", name, checks.safe_name_problem(name),
                     f"name the peer with {checks.SAFE_NAME_RULE} (e.g. laptop-anna)")
        elif name in seen_names:
            self.err("all", f"{var}.name", name, "is used by two peers", "give every peer its own name")
        seen_names.add(name if isinstance(name, str) else repr(name))
        for key, fix in (("public_key", ("set it to the peer's public key (`wg pubkey` output), or remove it and "
                                         "let vms-deploy generate the peer's keys")),
                         ("private_key", ("remove it (vms-deploy generates one) or set it to `wg genkey` output, in "
                                          "Ansible Vault"))):
            if key in peer and peer[key] != VAULTED:
                problem = checks.wireguard_key_problem(peer[key])
                if problem:
                    self.err("all", f"{var}.{key}", peer[key], problem, fix)
        address = peer.get("address")
        if not isinstance(address, str):
            self.err("all", f"{var}.address", MISSING if address is None else address,
                     "is not set" if address is None else "is not an IPv4 address (expected a string)",
                     f"give the peer's tunnel address, e.g. {_peer_example(net)}")
            return
        try:
            addr = parse_cidr(address if "/" in address else f"{address}/32")
        except ValueError as exc:
            self.err("all", f"{var}.address", address, str(exc),
                     f"give the peer's tunnel address, e.g. {_peer_example(net)}")
            return
        if addr.prefixlen != 32 or not addr.subnet_of(net):
            self.err("all", f"{var}.address", address, f"is not a single address inside vms_vpn_network {net}",
                     f"give a /32 inside {net}, e.g. {_peer_example(net)}")
        elif addr.network_address in (net.network_address, net.broadcast_address):
            which = "network" if addr.network_address == net.network_address else "broadcast"
            self.err("all", f"{var}.address", address, f"is the {which} address of vms_vpn_network {net}",
                     f"give the peer a usable address inside {net}, e.g. {_peer_example(net)}")
        elif addr in seen_addr:
            self.err("all", f"{var}.address", address, "is used by two peers", "give every peer its own address")
        elif addr.network_address == next(net.hosts()):
            self.err("all", f"{var}.address", address,
                     "is the edge's own tunnel address (the first address of vms_vpn_network)",
                     f"give the peer another address in the VPN network, e.g. {_peer_example(net)}")
        seen_addr.add(addr)

    # --- port conflicts (needs the rest to be valid) -----------------------------------------------
    def check_conflicts(self):
        comp = Resolver(self.site)
        for host in self.site.hosts:
            claims = []
            for svc in comp.host_services(host):
                if not comp.is_open(svc):
                    continue
                ports = comp.instance_ports(host, svc)
                for proto in svc.transports():
                    claims.append((proto, ports, svc.component, svc.name, svc.shared))
            management = comp.management_rule(host)
            if management:
                claims.append(("tcp", tuple(management["ports"]), "management", "management", None))
            for i, a in enumerate(claims):
                for b in claims[i + 1:]:
                    if a[0] != b[0] or a[1][1] < b[1][0] or b[1][1] < a[1][0]:
                        continue
                    if a[4] and a[4] == b[4]:
                        continue  # one web server (IIS) serving both components
                    if "management" in (a[2], b[2]):
                        other = b if a[2] == "management" else a
                        fix = (f"set vms_management_port for {host} to a free port (e.g. vms_management_port: "
                               f"{free_management_port(c[1] for c in claims)}), or move {other[3]} with "
                               f"vms_port_overrides ({{{other[3]}: {{port: N}}}})")
                    else:
                        fix = (f"move one of them with vms_port_overrides (e.g. {{{b[3]}: {{port: N}}}}) "
                               "or disable it with {enabled: false}")
                    self.err(host, "ports", f"{a[0]} {port_range(a[1])} / {port_range(b[1])}",
                             f"is claimed by two services: {a[2]}.{a[3]} and {b[2]}.{b[3]}", fix)
        seen: dict[tuple, str] = {}
        forwarded = comp.forwarded()
        for (host, name), ext in sorted(forwarded.items()):
            svc = next(s for s in comp.host_services(host) if s.name == name)
            first, last = comp.instance_ports(host, svc)
            for proto in svc.transports():
                for port in range(ext, ext + last - first + 1):
                    if not 1 <= port <= 65535:
                        self.err(host, "external_port", ext, f"makes forward {name} end past 65535",
                                 "choose a lower external_port")
                        break
                    key = (proto, port)
                    if key in seen and seen[key] != f"{host}.{name}":
                        self.err(host, "external_port", port,
                                 f"is forwarded twice on the router ({proto}): {seen[key]} and {host}.{name}",
                                 "give each forward its own external_port (vms_port_overrides or "
                                 "vms_forwarded_services)")
                        break
                    seen[key] = f"{host}.{name}"


def _peer_example(net) -> str:
    """A peer address inside net that is neither the edge's (the first) nor special."""
    return f"{net.network_address + 2}/32"


def _list_key(value: Any) -> tuple | None:
    """A list of strings as a dict key; None for anything else (not memoised)."""
    if isinstance(value, list) and all(type(v) is str for v in value):
        return tuple(value)
    return None


def validate(data: Any, extra_errors=None) -> list[InputError]:
    """Every problem in the inventory data, sorted; empty when the site compiles.

    extra_errors (e.g. undecryptable vault values found while reading hostvars) are merged in.
    The one check that needs the compiled plan, windows_install_errors, is run by
    vms_deploy.pipeline.compile_plan once this returns nothing.
    """
    validator = _Validator(data)
    validator.errors.extend(extra_errors or [])
    return validator.run()


def windows_install_errors(site: Site, plan: dict) -> list[InputError]:
    """Once installer inputs are given, each Windows host's install must be complete (source, the
    package of each of its components, the XProtect licence): the same install_plan the
    windows_install role runs, so site.yml stops here and not after the Linux stage. A site that
    gives none is only planned (plan.yml); its install stage says what is missing.

    Run on the compiled plan of a valid site (the components and ports each host really gets)."""
    names = ("vms_win_installer_source", "vms_win_packages")
    if not any(site.var(h, n, None) not in (None, "", {}) for h in site.hosts for n in names):
        return []
    errors = []
    v = site.var
    for host, info in sorted(plan["hosts"].items()):
        if info.get("platform") != "windows":
            continue
        try:
            install_plan(plan, host, v(host, "vms_win_packages", None) or {}, v(host, "vms_win_installer_source", ""),
                         v(host, "vms_win_xprotect_args_file", None) or DEFAULT_ARGS_FILE,
                         v(host, "vms_win_xprotect_license_file", None) or "")
        except WindowsInputError as exc:
            errors.append(exc.error)
    return merge_errors(errors, set(site.hosts))


@functools.lru_cache(maxsize=65536)
def _parse_cidr_cached(text: str):
    """parse_cidr for strings, memoised: every host carries the same site-wide network lists."""
    return parse_cidr(text)
