"""Renderers for the host and edge nftables tables: golden files, structure, real `nft -c`.

Golden files live in tests/golden/nftables/; regenerate with VMS_UPDATE_GOLDEN=1 pytest ...
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import compare_golden

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.render.nft_common import RenderError
from vms_deploy.render.nftables_edge import render_edge_ruleset
from vms_deploy.render.nftables_host import render_host_ruleset
from vms_lab.flows import vantage_checks as flow_checks  # the lab's flow checks (lab/src/vms_lab)

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))  # bench/ is a directory of scripts at the top of the checkout
from bench import gen_site  # noqa: E402

FIXTURES = HERE / "fixtures" / "nftables"
GOLDEN = HERE.parent / "golden" / "nftables"

CASES = [
    ("plan_valerus_aio", "app1", "host"),
    ("plan_valerus_aio", "edge1", "edge"),
    ("plan_xprotect_dmz", "mgmt1", "host"),
    ("plan_xprotect_dmz", "rec1", "host"),
    ("plan_xprotect_dmz", "mobile1", "host"),
    ("plan_xprotect_dmz", "edge1", "edge"),
    ("plan_valerus_srec", "edge1", "edge"),  # inventories/lab/separate_recorders: three recorders
]


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def render(plan: dict, host: str, kind: str) -> str:
    return (render_edge_ruleset if kind == "edge" else render_host_ruleset)(plan, host)


def nft_can_check() -> bool:
    if not shutil.which("nft") or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.parametrize("fixture,host,kind", CASES)
def test_golden(fixture, host, kind):
    text = render(load(fixture), host, kind)
    compare_golden(GOLDEN / f"{fixture}.{host}.nft", text)


@pytest.mark.parametrize("fixture,host,kind", CASES)
def test_deterministic(fixture, host, kind):
    plan = load(fixture)
    shuffled = copy.deepcopy(plan)
    for h in shuffled["hosts"].values():
        h["inbound"].reverse()
    shuffled["zone_flows"].reverse()
    shuffled["forwards"].reverse()
    assert render(plan, host, kind) == render(shuffled, host, kind)


@pytest.mark.skipif(not nft_can_check(), reason="needs nft and unshare -n (root)")
@pytest.mark.parametrize("fixture,host,kind", CASES)
def test_nft_accepts(fixture, host, kind, tmp_path):
    path = tmp_path / "t.nft"
    path.write_text(render(load(fixture), host, kind))
    res = subprocess.run(["unshare", "-n", "nft", "-c", "-f", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_host_default_drop_and_safety_rules_first():
    text = render_host_ruleset(load("plan_valerus_aio"), "app1")
    chain = text[text.index("chain input"):text.index("chain output")]
    lines = [ln.strip() for ln in chain.splitlines()[1:]]
    assert lines[0] == "type filter hook input priority filter; policy drop;"
    assert lines[1:4] == ['iif "lo" accept', "ct state established,related accept", "ct state invalid drop"]
    assert lines[4].startswith("ip saddr @mgmt_sources tcp dport 22 accept")
    assert "policy accept" in text[text.index("chain output"):]


def test_rule_count_grows_with_services_not_sources():
    plan = load("plan_valerus_aio")
    base = render_host_ruleset(plan, "app1")
    many = copy.deepcopy(plan)
    for rule in many["hosts"]["app1"]["inbound"]:
        if rule["service"] == "web_player":
            rule["sources"] = [f"10.{i}.0.0/16" for i in range(50)]
    text = render_host_ruleset(many, "app1")
    count = lambda t: len(re.findall(r"dport .* accept", t))  # noqa: E731
    assert count(text) == count(base)
    assert "10.49.0.0/16" in text


def test_duplicate_service_rules_merge_sources():
    text = render_host_ruleset(load("plan_valerus_aio"), "app1")
    assert text.count("dport 9443 accept") == 1
    assert "elements = { 172.28.12.0/24, 172.28.13.0/24 }" in text


def test_edge_structure():
    text = render_edge_ruleset(load("plan_valerus_aio"), "edge1")
    assert ("ip daddr 172.28.10.2 ip saddr != @internal ip saddr @src_anywhere tcp dport 80 "
            "dnat ip to 172.28.12.10:9080") in text
    fwd = text[text.index("chain forward"):text.index("chain prerouting")]
    assert "policy drop" in fwd and "log prefix" in fwd and "limit rate" in fwd
    # Issue 21 item 7: the connection's original destination too (public address and external port), so a
    # DNAT another table adds toward the gateway (public 8888 -> 9080) is not a planned forward.
    assert ("ct status dnat ip saddr != @internal ip saddr @src_anywhere ip daddr 172.28.12.10 tcp dport 9080 "
            "ct original ip daddr 172.28.10.2 ct original proto-dst 80 accept" in fwd)
    assert all("ct original ip daddr 172.28.10.2 ct original proto-dst" in ln
               for ln in fwd.splitlines() if "ct status dnat" in ln)
    # same-zone flows never reach the edge
    assert "servers->servers" not in fwd
    # cameras only towards recorders: no rule has the camera zone as source except plan flows
    assert "ip saddr @zone_cameras" not in fwd
    assert "ip saddr @internal ip daddr != @internal masquerade" in text


def test_edge_range_forward_maps_port_by_port():
    text = render_edge_ruleset(load("plan_xprotect_dmz"), "edge1")
    for i in range(3):
        assert f"udp dport {20000 + i} dnat ip to 172.28.52.11:{30000 + i}" in text


def test_edge_unmappable_range_is_an_actionable_error():
    plan = load("plan_xprotect_dmz")
    plan["forwards"][2]["to_ports"] = [30000, 30005]
    with pytest.raises(RenderError, match="xprotect-test-range.*cannot be mapped"):
        render_edge_ruleset(plan, "edge1")


def test_edge_forwards_without_public_address_error():
    plan = load("plan_valerus_aio")
    plan["edge"]["public_address"] = None
    with pytest.raises(RenderError, match="vms_public_address"):
        render_edge_ruleset(plan, "edge1")


def test_unknown_host_error_names_host_and_fix():
    with pytest.raises(RenderError, match="'nope' is not in the plan.*vms_"):
        render_host_ruleset(load("plan_valerus_aio"), "nope")


def test_vpn_port_opened_on_edge_input():
    plan = load("plan_valerus_aio")
    plan["vpn"] = {"listen_port": 51820, "network": "10.99.0.0/24", "edge_address": "10.99.0.1", "peers": []}
    text = render_edge_ruleset(plan, "edge1")
    inp = text[text.index("chain input"):text.index("chain forward")]
    assert 'udp dport 51820 accept comment "vpn"' in inp


VANTAGES = [{"name": "internet", "address": "172.28.50.100"}, {"name": "outsider", "address": "172.28.49.100"},
            {"name": "operator", "address": "172.28.53.100"},
            {"name": "camera", "address": "172.28.54.100"}]


def _find(checks, vantage, address, port, protocol="tcp"):
    return next(c for c in checks if c["vantage"] == vantage and c["address"] == address and c["port"] == port
                and c["protocol"] == protocol)


def test_flow_checks_required_cases():
    checks = flow_checks(load("plan_xprotect_dmz"), VANTAGES)
    assert _find(checks, "internet", "172.28.50.2", 8081)["expect_open"] is True        # public -> mobile
    assert _find(checks, "internet", "172.28.50.2", 443)["expect_open"] is True         # in the allow-list
    assert _find(checks, "outsider", "172.28.50.2", 443)["expect_open"] is False        # not in the allow-list
    assert _find(checks, "outsider", "172.28.50.2", 8081)["expect_open"] is True
    assert _find(checks, "internet", "172.28.52.11", 7563)["expect_open"] is False      # recorder directly
    assert _find(checks, "camera", "172.28.52.10", 80)["expect_open"] is False          # camera -> app server
    assert _find(checks, "operator", "172.28.52.10", 9000)["expect_open"] is False      # non-recorder -> MS 9000
    assert _find(checks, "operator", "172.28.52.11", 7563)["expect_open"] is True       # client -> streaming
    assert _find(checks, "camera", "172.28.52.11", 5432, "udp")["expect_open"] is True  # camera -> recorder events
    assert _find(checks, "internet", "172.28.50.2", 7563)["expect_open"] is False       # not forwarded


@pytest.mark.skipif(not nft_can_check(), reason="needs nft and unshare -n (root)")
def test_overlapping_sources_are_collapsed(tmp_path):
    """0.0.0.0/0 plus a LAN in one source list is valid for the plan but nft refuses overlapping intervals."""
    plan = load("plan_valerus_aio")
    plan["hosts"]["app1"]["inbound"][1]["sources"] = ["0.0.0.0/0", "172.28.13.0/24", "172.28.13.5/32"]
    text = render_host_ruleset(plan, "app1")
    assert "elements = { 0.0.0.0/0 }" in text and "172.28.13.5" not in text
    path = tmp_path / "t.nft"
    path.write_text(text)
    res = subprocess.run(["unshare", "-n", "nft", "-c", "-f", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_the_internet_enters_only_through_forwards():
    """No routed Internet flow at the edge: the Mobile Server's private address does not answer the
    Internet; its public forward does, and a camera reaches neither."""
    plan = load("plan_xprotect_dmz")
    text = render_edge_ruleset(plan, "edge1")
    assert not [ln for ln in text.splitlines() if "internet->" in ln]
    checks = flow_checks(plan, VANTAGES)
    assert _find(checks, "camera", "172.28.51.20", 8081)["expect_open"] is False
    assert _find(checks, "internet", "172.28.51.20", 8081)["expect_open"] is False
    assert _find(checks, "internet", "172.28.51.20", 8081)["forbidden"] is True
    assert _find(checks, "internet", "172.28.50.2", 8081)["expect_open"] is True


def _filters():
    import importlib.util
    path = HERE.parents[1] / "plugins" / "filter" / "vms_nftables.py"
    spec = importlib.util.spec_from_file_location("vms_nftables_filter", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.FilterModule().filters()


def test_filter_plugin_wraps_renderers_and_errors():
    from ansible.errors import AnsibleFilterError
    f = _filters()
    plan = load("plan_valerus_aio")
    assert f["vms_nft_host_ruleset"](plan, "app1") == render_host_ruleset(plan, "app1")
    assert f["vms_nft_edge_ruleset"]({"plan": plan}, "edge1") == render_edge_ruleset(plan, "edge1")
    with pytest.raises(AnsibleFilterError, match="'ghost' is not in the plan"):
        f["vms_nft_host_ruleset"](plan, "ghost")
    with pytest.raises(AnsibleFilterError, match="expected the plan dict"):
        f["vms_nft_host_ruleset"]("not a plan", "app1")
    assert not {"vms_flow_checks", "vms_flow_check_line", "vms_standin_ports"} & set(f)  # the lab's, not the product's


# --- The edge's forward chain follows services, not recorders (issue 7) -------------------------

def _generated_plan(tmp_path, recorders: int) -> dict:
    """bench/gen_site.py's synthetic Valerus site (app1, gw1, edge1, N recorders), few clients to stay quick."""
    out = gen_site.write_site(tmp_path / f"r{recorders}", *gen_site.plan_site(recorders, clients=4))
    return compile_plan(load_inventory(out))


def _chain(text: str, name: str) -> list[str]:
    body = text[text.index(f"\tchain {name} {{"):]
    body = body[:body.index("\n\t}")]
    return [ln.strip() for ln in body.splitlines()[2:]]  # without the chain line and its type line


def _sets(text: str) -> dict[str, list]:
    out = {}
    for name, body in re.findall(r"\tset (\w+) \{\n(.*?)\n\t\}", text, re.S):
        found = re.search(r"elements = \{ (.*) \}", body)
        out[name] = [ipaddress.ip_network(e) for e in found.group(1).split(", ")] if found else []
    return out


FLOW_RULE = re.compile(r"(ip saddr != @internal )?ip saddr @(\w+) ip daddr @(\w+) "
                       r"(tcp|udp) dport (\d+)(?:-(\d+))? accept")


def _edge_accepts(text: str):
    """An evaluator of the rendered forward chain for packets that were not DNAT'ed. Every rule
    of the chain must be understood, so a rule shape this test does not know fails it."""
    sets = _sets(text)
    rules = []
    for line in _chain(text, "forward"):
        if line.startswith(("ct state ", "ct status dnat ", "limit rate ")):
            continue
        m = FLOW_RULE.match(line)
        assert m, f"unexpected forward rule: {line}"
        first, last = int(m.group(5)), int(m.group(6) or m.group(5))
        rules.append((bool(m.group(1)), sets[m.group(2)], sets[m.group(3)], m.group(4), first, last))

    def accepts(src, dst, proto, port) -> bool:
        return any(p == proto and first <= port <= last and any(src in n for n in s) and any(dst in n for n in d)
                   and not (outside and any(src in n for n in sets["internal"]))
                   for outside, s, d, p, first, last in rules)
    return accepts


def _plan_accepts(plan: dict, edge_host: str):
    """What the plan's zone flows allow through the edge: one (sources, destinations, protocol,
    ports) tuple per flow whose zones differ and that does not end at the edge itself."""
    internal = [ipaddress.ip_network(c) for z, cs in plan["zones"].items() if z != "internet" for c in cs or []]
    flows = [(f["from"] == "internet", [ipaddress.ip_network(c) for c in f["sources"]],
              [ipaddress.ip_network(c) for c in f["destinations"]], f["protocol"], f["ports"][0], f["ports"][1])
             for f in plan["zone_flows"]
             if f["from"] != f["to"] and f["to"] != "edge" and f.get("to_host") != edge_host]

    def accepts(src, dst, proto, port) -> bool:
        return any(p == proto and first <= port <= last and any(src in n for n in s) and any(dst in n for n in d)
                   and not (outside and any(src in n for n in internal))
                   for outside, s, d, p, first, last in flows)
    return accepts


def _probe_points(plan: dict, edge_host: str):
    """Addresses at the edges of every network the plan names (plus one outsider) and ports at
    the edges of every flow's range; the edge's own addresses are left out (input chain)."""
    edge_addrs = {ipaddress.ip_address(plan["hosts"][edge_host]["address"])}
    nets = {c for f in plan["zone_flows"] for c in f["sources"] + f["destinations"]}
    nets |= {c for cs in plan["zones"].values() for c in cs or []}
    nets |= {f"{h['address']}/32" for h in plan["hosts"].values() if h.get("address")}
    addrs = {ipaddress.ip_address("100.127.0.1")}
    for c in nets:
        n = ipaddress.ip_network(c)
        if n.prefixlen:
            addrs |= {n.network_address, n.broadcast_address, n.network_address + (1 if n.num_addresses > 1 else 0)}
    ports = {(f["protocol"], p) for f in plan["zone_flows"]
             for p in (f["ports"][0] - 1, f["ports"][0], f["ports"][1], f["ports"][1] + 1) if 0 < p < 65536}
    addrs = sorted(addrs - edge_addrs)
    return addrs, sorted(ports)


def _assert_same_policy(plan: dict, edge_host: str = "edge1") -> int:
    got, want = _edge_accepts(render_edge_ruleset(plan, edge_host)), _plan_accepts(plan, edge_host)
    addrs, ports = _probe_points(plan, edge_host)
    allowed = 0
    for src in addrs:
        for dst in addrs:
            for proto, port in ports:
                expected = want(src, dst, proto, port)
                assert got(src, dst, proto, port) == expected, (src, dst, proto, port, expected)
                allowed += expected
    return allowed


@pytest.mark.parametrize("fixture", ["plan_valerus_aio", "plan_xprotect_dmz", "plan_valerus_srec"])
def test_edge_forward_chain_accepts_exactly_the_plan_flows(fixture):
    assert _assert_same_policy(load(fixture)) > 0


def test_edge_merged_rules_accept_exactly_the_plan_flows_of_a_generated_site(tmp_path):
    plan = _generated_plan(tmp_path, 3)
    plan["zones"]["clients"] = plan["zones"]["clients"][:2]  # fewer probe points, same shape
    for f in plan["zone_flows"]:
        if f["from"] == "clients":
            f["sources"] = list(plan["zones"]["clients"])
    assert _assert_same_policy(plan) > 0


def test_edge_merges_only_flows_with_the_same_sources(tmp_path):
    """A recorder whose streaming port admits fewer clients keeps its own rule: merging it into the
    others' destination set would let every client network reach it (a cross product)."""
    plan = _generated_plan(tmp_path, 3)
    narrow = plan["zones"]["clients"][0]
    for f in plan["zone_flows"]:
        if f["from"] == "clients" and f.get("to_host") == "rec0002" and f["service"] == "recorder_streaming":
            f["sources"] = [narrow]
    text = render_edge_ruleset(plan, "edge1")
    streaming = [ln for ln in _chain(text, "forward") if "clients->servers recorder/recorder_streaming" in ln]
    assert len(streaming) == 2
    accepts = _edge_accepts(text)
    other_client = ipaddress.ip_network(plan["zones"]["clients"][1]).network_address + 5
    rec1, rec2 = (ipaddress.ip_address(plan["hosts"][h]["address"]) for h in ("rec0001", "rec0002"))
    assert accepts(other_client, rec1, "tcp", 554)
    assert not accepts(other_client, rec2, "tcp", 554)
    assert accepts(ipaddress.ip_network(narrow).network_address + 5, rec2, "tcp", 554)
    plan["zones"]["clients"] = plan["zones"]["clients"][:2]
    assert _assert_same_policy(plan) > 0


def test_edge_rule_count_does_not_grow_with_recorders(tmp_path):
    """10 and 100 recorders: the same rules and sets; only the recorders' set gains elements."""
    small, large = (render_edge_ruleset(_generated_plan(tmp_path, n), "edge1") for n in (10, 100))
    for chain in ("input", "forward", "prerouting", "postrouting"):
        assert len(_chain(small, chain)) == len(_chain(large, chain)), chain
    assert sorted(_sets(small)) == sorted(_sets(large))
    assert len(_sets(small)["hosts_recorder"]) == 10 and len(_sets(large)["hosts_recorder"]) == 100
    assert 'comment "100 hosts: rec0001, rec0002' in large and "more)" in large
    assert "ip saddr @zone_clients ip daddr @hosts_recorder tcp dport 554 accept" in large


@pytest.mark.skipif(not nft_can_check(), reason="needs nft and unshare -n (root)")
def test_nft_accepts_the_merged_edge_of_a_generated_site(tmp_path):
    path = tmp_path / "t.nft"
    path.write_text(render_edge_ruleset(_generated_plan(tmp_path, 10), "edge1"))
    res = subprocess.run(["unshare", "-n", "nft", "-c", "-f", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_edge_refuses_forged_sources_before_conntrack_and_dnat():
    """Issue 21 item 5 (BCP 38 / RFC 3704 strict): a strict reverse-path check in a prerouting chain
    of raw priority, binding every zone to the interface its networks are routed on (no names)."""
    text = render_edge_ruleset(load("plan_valerus_aio"), "edge1")
    chain = text[text.index("chain ingress {"):text.index("chain forward {")]
    assert "type filter hook prerouting priority raw; policy accept;" in chain
    assert "fib saddr . iif oif missing drop" in chain
    assert "eth0" not in text and "iifname" not in text
