"""The validator's network checks in their fast form against references written without them (issue 23,
"Planning that stays linear").

The check decides whether a list of networks is the whole Internet however it is spelled (0/1 + 128/1,
...), in every network variable and every connects_from. Its fast form (integer intervals) must give the
same answer as

- the standard library: 0.0.0.0/0 in ipaddress.collapse_addresses(nets) (the check's former body), on
  any list of IPv4 networks, and
- brute force: with every prefix at most /K, the list covers everything exactly when each of the 2**K
  blocks of size /K lies inside one of its networks.

Coverings are rare among random lists, so the strategy also draws exact partitions of the address space
(one block split at random, recursively), with a block dropped or a stray network added.

checks.network_edges (an index built once per list) must answer as checks.edge_of_network (a walk per address).
"""
from __future__ import annotations

import ipaddress
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vms_deploy.checks import (
    covers_everything,
    edge_of_network,
    network_edges,
    network_index,
    networks_holding,
    overlapping_pairs,
)

EXAMPLES = int(os.environ.get("VMS_PROPERTY_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
K = 6  # brute force: 64 blocks of /6


def network(address: int, prefix: int) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network((address & (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF, prefix))


ANY_NET = st.builds(network, st.integers(0, 2**32 - 1), st.integers(0, 32))
SHORT_NET = st.builds(network, st.integers(0, 2**32 - 1), st.integers(0, K))


@st.composite
def partition(draw, prefix_max: int = K) -> list[ipaddress.IPv4Network]:
    """Networks that together are exactly 0.0.0.0/0 (a random binary split of the space)."""
    out, todo = [], [ipaddress.IPv4Network("0.0.0.0/0")]
    while todo:
        net = todo.pop()
        if net.prefixlen < prefix_max and draw(st.integers(0, 9)) < 6:
            todo.extend(net.subnets(1))
        else:
            out.append(net)
    return draw(st.permutations(out))


@st.composite
def near_covering(draw) -> list[ipaddress.IPv4Network]:
    """A partition, then one of: unchanged, a block dropped, a stray network added, a block duplicated."""
    nets = list(draw(partition()))
    change = draw(st.sampled_from(["none", "drop", "add", "duplicate"]))
    if change == "drop" and len(nets) > 1:
        nets.pop(draw(st.integers(0, len(nets) - 1)))
    elif change == "add":
        nets.insert(draw(st.integers(0, len(nets))), draw(SHORT_NET))
    elif change == "duplicate":
        nets.append(nets[draw(st.integers(0, len(nets) - 1))])
    return nets


def stdlib_reference(nets) -> bool:
    return ipaddress.IPv4Network("0.0.0.0/0") in ipaddress.collapse_addresses(list(nets))


def brute_force(nets) -> bool:
    """Every /K block of the space is inside some network (all prefixes are at most /K)."""
    assert all(n.prefixlen <= K for n in nets)
    size = 2 ** (32 - K)
    spans = [(int(n.network_address), n.num_addresses) for n in nets]
    return all(any(start <= block * size < start + count for start, count in spans) for block in range(2 ** K))


@SETTINGS
@given(st.one_of(near_covering(), st.lists(SHORT_NET, max_size=12)))
def test_coverage_of_short_prefixes_equals_brute_force(nets):
    assert covers_everything(nets) == brute_force(nets) == stdlib_reference(nets)


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 2))
@given(st.one_of(st.lists(ANY_NET, max_size=30), st.builds(lambda a, b: a + b, partition(prefix_max=16),
                                                         st.lists(ANY_NET, max_size=5))))
def test_coverage_of_any_list_equals_the_standard_library(nets):
    assert covers_everything(nets) == stdlib_reference(nets)


def test_known_answers():
    def nets(*texts):
        return [ipaddress.IPv4Network(t) for t in texts]

    assert covers_everything(nets("0.0.0.0/0"))
    assert covers_everything(nets("128.0.0.0/1", "0.0.0.0/1"))
    assert covers_everything(iter(nets("0.0.0.0/1", "128.0.0.0/1")))  # any iterable, as before
    assert not covers_everything([])
    assert not covers_everything(nets("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5",
                                      "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8", "255.0.0.0/9")
                                 + [ipaddress.IPv4Network(f"255.{i}.0.0/16") for i in range(128, 255)])  # 255.255/16
    assert covers_everything(nets("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2", "255.255.255.255/32"))
    assert not covers_everything(nets("0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/30", "0.0.0.8/29", "0.0.0.16/28",
                                      "0.0.0.32/27", "0.0.0.64/26", "0.0.0.128/25", "0.0.1.0/24", "0.0.2.0/23",
                                      "0.0.4.0/22", "0.0.8.0/21", "0.0.16.0/20", "0.0.32.0/19", "0.0.64.0/18",
                                      "0.0.128.0/17", "0.1.0.0/16", "0.2.0.0/15", "0.4.0.0/14", "0.8.0.0/13",
                                      "0.16.0.0/12", "0.32.0.0/11", "0.64.0.0/10", "0.128.0.0/9", "1.0.0.0/8",
                                      "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/5", "16.0.0.0/4", "32.0.0.0/3",
                                      "64.0.0.0/2", "128.0.0.0/1"))  # all but 0.0.0.0


@st.composite
def nets_and_address(draw):
    nets = draw(st.lists(st.builds(network, st.integers(0, 2**32 - 1), st.integers(20, 32)), min_size=1, max_size=8))
    pick = draw(st.sampled_from(nets))
    addr = draw(st.sampled_from([pick.network_address, pick.broadcast_address, pick.network_address + 1,
                                 ipaddress.IPv4Address(draw(st.integers(0, 2**32 - 1)))]))
    return nets, addr


@SETTINGS
@given(nets_and_address())
def test_the_network_edge_index_answers_as_edge_of_network(case):
    """network_edges (built once per list) gives edge_of_network's answer (walked per address)."""
    nets, addr = case
    assert network_edges(nets).get(int(addr)) == edge_of_network(addr, nets)


@SETTINGS
@given(nets_and_address())
def test_the_network_index_finds_the_networks_that_hold_an_address(case):
    """networks_holding(network_index(nets), a) lists what [n for n in nets if a in n] lists, in that order."""
    nets, addr = case
    nets = nets + [network(int(addr), p) for p in (8, 16, 24)] + nets[:1]  # nested and repeated networks
    assert networks_holding(network_index(nets), addr) == [n for n in nets if addr in n]


@SETTINGS
@given(st.lists(st.builds(network, st.integers(0, 2**32 - 1), st.integers(0, 32)), max_size=12),
       st.lists(st.builds(network, st.integers(0, 2**32 - 1), st.integers(0, 32)), max_size=12))
def test_overlapping_pairs_are_those_ipaddress_finds(left, right):
    assert overlapping_pairs(left, right) == [(a, b) for a in left for b in right if a.overlaps(b)]
