"""Sources in words (vms_deploy.describe) describe exactly the addresses they stand for.

The words are parsed back here by a grammar written from the module's docstring (not by the
module), turned into address ranges with ipaddress, and compared with the list they describe.
`zones.without` (the compiler's allow-list minus the camera networks) is checked the same way
against a brute-force count of addresses.
"""
from __future__ import annotations

import ipaddress
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vms_deploy.describe import sources
from vms_deploy.zones import without

EXAMPLES = int(os.environ.get("VMS_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES * 2, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow])
ZONE_WORD = {"camera": "cameras", "client": "clients", "server": "servers", "DMZ": "dmz",
             "management": "management", "VPN": "vpn"}


def _ranges(nets) -> list[tuple[int, int]]:
    """Sorted, merged (first, last) integer ranges of networks."""
    spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in nets)
    merged: list[list[int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [tuple(m) for m in merged]


def _items(text: str, zones: dict) -> list[ipaddress.IPv4Network]:
    """ITEM (", " ITEM)*, each "anywhere", a CIDR or an address; a named PART checks the zone's networks."""
    named = re.fullmatch(r"the (\w+) networks? (.+)", text)
    if named:
        nets = _items(named.group(2), zones)
        zone = ZONE_WORD[named.group(1)]
        assert {str(n) for n in nets} <= set(zones.get(zone) or []), f"{text!r} names networks {zone} does not have"
        return nets
    out = []
    for item in text.split(", "):
        out.append(ipaddress.ip_network("0.0.0.0/0" if item == "anywhere" else item))
    return out


def parse(words: str, zones: dict) -> list[tuple[int, int]]:
    """The address ranges the words stand for (grammar: vms_deploy.describe's docstring)."""
    if words == "nobody":
        return []
    base, _, holes = words.partition(" except ")
    kept = _ranges(_items(base, zones))
    if not holes:
        return kept
    cut = _ranges([n for part in holes.split(" and ") for n in _items(part, zones)])
    out = []
    for first, last in kept:
        for a, b in cut:
            assert b < first or a > last or (first <= a and b <= last), "a hole must lie inside the base"
        start = first
        for a, b in cut:
            if a > last or b < first:
                continue
            if a > start:
                out.append((start, a - 1))
            start = b + 1
        if start <= last:
            out.append((start, last))
    return _ranges([ipaddress.ip_network(n) for a, b in out for n in ipaddress.summarize_address_range(
        ipaddress.IPv4Address(a), ipaddress.IPv4Address(b))])


def same_addresses(words: str, cidrs: list[str], zones: dict) -> None:
    expected = _ranges([ipaddress.ip_network(c) for c in cidrs])
    assert parse(words, zones) == expected, (words, cidrs)


@st.composite
def networks(draw, inside: str = "10.0.0.0/8") -> str:
    """A network inside `inside` (small prefixes too: the allow-lists are often /8 or 0.0.0.0/0)."""
    outer = ipaddress.ip_network(inside)
    length = draw(st.integers(min_value=outer.prefixlen, max_value=32))
    offset = draw(st.integers(min_value=0, max_value=outer.num_addresses - 1))
    return str(ipaddress.ip_network((int(outer.network_address) + offset, length), strict=False))


@st.composite
def site_lists(draw):
    """(zones, a source list): an allow-list minus the camera networks, or any list of networks."""
    cameras = draw(st.lists(networks(), min_size=0, max_size=3, unique=True))
    clients = draw(st.lists(networks(), min_size=0, max_size=2, unique=True))
    zones = {"cameras": [str(n) for n in ipaddress.collapse_addresses(ipaddress.ip_network(c) for c in cameras)],
             "clients": clients}
    if draw(st.booleans()):
        allowlist = draw(st.lists(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "100.64.0.0/10"]) | networks(),
                                  min_size=1, max_size=3))
        listed = without(allowlist, zones["cameras"])
    else:
        listed = draw(st.lists(networks(), min_size=0, max_size=8, unique=True))
    return zones, listed


@SETTINGS
@given(site_lists())
def test_the_words_describe_exactly_the_listed_addresses(drawn):
    zones, listed = drawn
    same_addresses(sources(listed, zones), listed, zones)
    same_addresses(sources(listed), listed, {})


@SETTINGS
@given(st.lists(networks(), max_size=4), st.lists(networks(), max_size=4))
def test_without_removes_exactly_the_excluded_addresses(kept, cut):
    got = _ranges([ipaddress.ip_network(c) for c in without(kept, cut)])
    want = []
    for first, last in _ranges([ipaddress.ip_network(c) for c in kept]):
        start = first
        for a, b in _ranges([ipaddress.ip_network(c) for c in cut]):
            if b < first or a > last:
                continue
            if a > start:
                want.append((start, a - 1))
            start = max(start, b + 1)
        if start <= last:
            want.append((start, last))
    assert got == _ranges([n for a, b in want for n in ipaddress.summarize_address_range(
        ipaddress.IPv4Address(a), ipaddress.IPv4Address(b))])


def test_the_whole_internet_except_the_camera_network_in_words():
    """Issue 24 item 6: the demo lab's allow-list minus its cameras is 24 CIDRs, read as one phrase."""
    listed = without(["0.0.0.0/0"], ["172.28.14.0/24"])
    assert len(listed) == 24 and "0.0.0.0/1" in listed
    zones = {"cameras": ["172.28.14.0/24"], "clients": ["172.28.13.0/24"]}
    assert sources(listed, zones) == "anywhere except the camera network 172.28.14.0/24"
    assert sources(listed) == "anywhere except 172.28.14.0/24"


def test_hosts_stay_hosts_and_short_lists_stay_lists():
    assert sources(["10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"]) == "10.0.0.1, 10.0.0.2, 10.0.0.3"
    assert sources(["100.64.12.0/24", "100.64.13.7/32"]) == "100.64.12.0/24, 100.64.13.7"
    assert sources([]) == "nobody" and sources(["0.0.0.0/0"]) == "anywhere"


def test_a_host_address_is_never_called_a_network():
    """The servers zone of a site without vms_server_networks is its hosts' /32s: a hole that is one
    of them is an address, not "the server network"."""
    listed = without(["10.60.0.0/25"], ["10.60.0.20/32"])
    words = sources(listed, {"servers": ["10.60.0.20/32"], "clients": ["10.60.0.0/25"]})
    assert words == "10.60.0.0/25 except 10.60.0.20"


def test_a_hand_edited_list_that_is_not_cidrs_is_shown_as_written():
    assert sources(["garbage", "10.0.0.1/32"]) == "garbage, 10.0.0.1"
