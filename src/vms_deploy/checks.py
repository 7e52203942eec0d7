"""Pure checks on single inventory values, for the validator (vms_deploy.validate) and the renderers.

Each function returns the problem as text (worded to follow "VARIABLE = VALUE ...") or None when
the value is fine; the validator adds host, variable and fix. Hostile input (issue 13) is the
reason most of these exist: names reach file paths, nginx, nftables, WireGuard and PowerShell;
addresses must be usable hosts; networks are judged by what they cover, not how they are spelled.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable
from typing import Any

# A name that becomes a directory, a file name, a configuration token or a command argument: no
# path separators, no quotes, no whitespace, no control characters, at most 63 characters.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
SAFE_NAME_RULE = ("letters, digits, '.', '-' and '_' only, starting with a letter or digit, at most 63 characters, "
                  "no '..'")
DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Free text that ends up in comments of generated files (nft comments, Markdown, CSV): printable,
# no quotes, backslashes, backticks, pipes or angle brackets, so no renderer needs to guess.
FREE_TEXT = re.compile(r"[A-Za-z0-9 _.,:;()/+=@#%&*!?\[\]{}-]{0,120}")
FREE_TEXT_RULE = "up to 120 printable characters without quotes, backslashes, backticks, '|', '<', '>' or '$'"
# Bounds for one variable's value: checked before anything walks the value (aliases in YAML make a
# small file expand to an enormous value; every later check would walk all of it).
MAX_NODES = 20000
MAX_STRING = 65536


def safe_name_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not a name (expected a string)"
    if not SAFE_NAME.fullmatch(value) or ".." in value:
        return "is not a safe name (it becomes a file name and a configuration token)"
    return None


def dns_name_problem(value: Any, wildcard: bool = False) -> str | None:
    """A DNS host name (optionally one leading '*.' label), at most 253 characters."""
    if not isinstance(value, str):
        return "is not a DNS name (expected a string)"
    name = value[2:] if wildcard and value.startswith("*.") else value
    labels = name.split(".")
    if len(value) > 253 or not all(DNS_LABEL.fullmatch(label) for label in labels):
        return "is not a DNS name (letters, digits and '-' in dot-separated labels)"
    return None


def free_text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not text (expected a string)"
    if not FREE_TEXT.fullmatch(value):
        return "holds characters that are not allowed in a description"
    return None


def size_problem(value: Any) -> str | None:
    """'is too large ...' when walking value (aliases expanded, as every later step would see it)
    passes MAX_NODES items or a string longer than MAX_STRING; stops as soon as it knows."""
    budget = MAX_NODES
    stack = [value]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            return f"is too large (more than {MAX_NODES} items once YAML aliases are expanded)"
        if isinstance(item, str):
            if len(item) > MAX_STRING:
                return f"is too large (a string of {len(item)} characters; at most {MAX_STRING})"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


def host_address_problem(addr: ipaddress.IPv4Address) -> str | None:
    """Addresses no host can have, whatever the networks say."""
    if addr == ipaddress.IPv4Address("255.255.255.255"):
        return "is the limited broadcast address, not a host"
    if addr.is_unspecified:
        return "is the unspecified address 0.0.0.0, not a host"
    if addr.is_loopback:
        return "is a loopback address (127.0.0.0/8): other hosts cannot reach it"
    if addr.is_multicast:
        return "is a multicast address (224.0.0.0/4), not a host"
    if addr.is_link_local:
        return "is a link-local address (169.254.0.0/16), given out when DHCP fails: not a planned host address"
    if addr in ipaddress.IPv4Network("240.0.0.0/4"):
        return "is in the reserved range 240.0.0.0/4, not a usable host address"
    return None


def edge_of_network(addr: ipaddress.IPv4Address, nets: Iterable[ipaddress.IPv4Network]) -> str | None:
    """'is the network/broadcast address of N' when addr is one of those of a declared network."""
    for net in nets:
        if net.prefixlen > 30 or addr not in net:
            continue  # /31 and /32 have no network or broadcast address (RFC 3021)
        if addr == net.network_address:
            return f"is the network address of {net}, not a host"
        if addr == net.broadcast_address:
            return f"is the broadcast address of {net}, not a host"
    return None


def network_edges(nets: Iterable[ipaddress.IPv4Network]) -> dict[int, str]:
    """edge_of_network for every address at once: int(address) -> its answer, for each network and broadcast
    address of nets (the first network wins, as in edge_of_network). Built once per list, looked up per host."""
    edges: dict[int, str] = {}
    for net in nets:
        if net.prefixlen > 30:
            continue
        edges.setdefault(int(net.network_address), f"is the network address of {net}, not a host")
        edges.setdefault(int(net.broadcast_address), f"is the broadcast address of {net}, not a host")
    return edges


def network_index(nets: Iterable[ipaddress.IPv4Network]) -> dict[int, dict[int, list]]:
    """prefix length -> network address (int) -> [(position in nets, net)], for networks_holding: which networks
    hold an address is then one dict lookup per distinct prefix length, not a test per network."""
    index: dict[int, dict[int, list]] = {}
    for position, net in enumerate(nets):
        index.setdefault(net.prefixlen, {}).setdefault(int(net.network_address), []).append((position, net))
    return index


def networks_holding(index: dict[int, dict[int, list]], addr: ipaddress.IPv4Address) -> list[ipaddress.IPv4Network]:
    """The networks of network_index(nets) that hold addr, in their order in nets ([n for n in nets if addr in n])."""
    value = int(addr)
    found = []
    for prefix, table in index.items():
        hit = table.get(value & _MASKS[prefix])
        if hit:
            found.extend(hit)
    return [net for _position, net in sorted(found, key=lambda item: item[0])]


def overlapping_pairs(left, right) -> list[tuple[ipaddress.IPv4Network, ipaddress.IPv4Network]]:
    """(a, b) for each a of left and b of right that overlap, in that nested order ([(a, b) for a in left for b
    in right if a.overlaps(b)]), compared as integer intervals."""
    spans = [(b, int(b.network_address), int(b.network_address) + b.num_addresses - 1) for b in right]
    pairs = []
    for a in left:
        first, last = int(a.network_address), int(a.network_address) + a.num_addresses - 1
        pairs.extend((a, b) for b, b_first, b_last in spans if first <= b_last and b_first <= last)
    return pairs


_MASKS = [(0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF for prefix in range(33)]
WHOLE_INTERNET = ipaddress.IPv4Network("0.0.0.0/0")
_ADDRESSES = WHOLE_INTERNET.num_addresses


def covers_everything(nets: Iterable[ipaddress.IPv4Network]) -> bool:
    """True when the union of nets is 0.0.0.0/0, however it is spelled (0/1 + 128/1, ...).

    Integer intervals, sorted once: O(n log n) with small constants (ipaddress.collapse_addresses built
    supernet objects pair by pair, the validator's largest cost on big sites). tests/property/test_coverage.py
    compares it with collapse_addresses and with brute force."""
    covered = 0  # every address below this one is covered
    for first, size in sorted((int(net.network_address), net.num_addresses) for net in nets):
        if first > covered:
            return False  # a gap below `first`
        covered = max(covered, first + size)
    return covered == _ADDRESSES


def public_addresses(net: ipaddress.IPv4Network) -> int:
    """How many globally routable (Internet) addresses net holds (private and special ranges excluded)."""
    total = net.num_addresses
    for special in _NOT_INTERNET:
        if net.overlaps(special):
            if net.subnet_of(special):
                return 0
            if special.subnet_of(net):
                total -= special.num_addresses
    return max(total, 0)


_NOT_INTERNET = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4"))


def wireguard_key_problem(value: Any) -> str | None:
    """A WireGuard key is 32 bytes in standard base64 (44 characters ending in '=')."""
    if not isinstance(value, str):
        return "is not a WireGuard key (expected a string)"
    if len(value) != 44 or not value.endswith("="):
        return "is not a WireGuard key (44 characters of base64 ending in '=', as `wg genkey | wg pubkey` prints)"
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "is not a WireGuard key (not valid base64)"
    if len(raw) != 32:
        return "is not a WireGuard key (it does not decode to 32 bytes)"
    return None


# Windows installer inputs (roles/windows_install): they reach win_package paths and arguments.
WINDOWS_PACKAGE_KEYS = ("file", "arguments", "services", "product_id")
_WINDOWS_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.()+-]{0,127}(\\[A-Za-z0-9][A-Za-z0-9 _.()+-]{0,127}){0,7}")
_WINDOWS_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.$()-]{0,79}")
_PRODUCT_ID = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def windows_text_problem(value: Any, quotes: bool = True) -> str | None:
    """Text passed to a Windows command: one line, no control characters (and no quotes unless allowed)."""
    if not isinstance(value, str):
        return "is not text (expected a string)"
    if _CONTROL.search(value):
        return "holds a line break or control character"
    if not quotes and any(c in value for c in "\"'`$;&|<>"):
        return "holds a quote or shell character"
    return None


def windows_package_problem(key: str, value: Any) -> str | None:
    if key == "arguments":
        return windows_text_problem(value)
    if not isinstance(value, str):
        return "is not text (expected a string)"
    if key == "file" and (not _WINDOWS_FILE.fullmatch(value) or ".." in value):
        return "is not a plain installer file name (no drive, '..', quotes or control characters)"
    if key == "services" and not _WINDOWS_SERVICE.fullmatch(value):
        return "is not a Windows service name"
    if key == "product_id" and not _PRODUCT_ID.fullmatch(value):
        return "is not an MSI product code ({GUID})"
    return None


# A device's interface or zone name (FortiGate port2 / LAN-zone, RouterOS ether1 / vlan20 / sfp-sfpplus1):
# it goes into module data and rule comments, so no spaces, quotes or control characters.
DEVICE_INTERFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/+@-]{0,34}")


def device_interface_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not an interface name (expected a string)"
    if not DEVICE_INTERFACE.fullmatch(value):
        return ("is not an interface name (letters, digits, '.', '_', ':', '/', '+', '@' and '-', starting with a "
                "letter or digit, at most 35 characters)")
    return None
