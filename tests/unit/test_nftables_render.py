"""Renderers for the host and edge nftables tables: golden files, structure, real `nft -c`.

Golden files live in tests/golden/nftables/; regenerate with VMS_UPDATE_GOLDEN=1 pytest ...
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vms_deploy.render.nft_common import RenderError, flow_checks
from vms_deploy.render.nftables_edge import render_edge_ruleset
from vms_deploy.render.nftables_host import render_host_ruleset
from conftest import compare_golden

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "nftables"
GOLDEN = HERE.parent / "golden" / "nftables"

CASES = [
    ("plan_valerus_aio", "app1", "host"),
    ("plan_valerus_aio", "edge1", "edge"),
    ("plan_xprotect_dmz", "mgmt1", "host"),
    ("plan_xprotect_dmz", "rec1", "host"),
    ("plan_xprotect_dmz", "mobile1", "host"),
    ("plan_xprotect_dmz", "edge1", "edge"),
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
    assert "ct status dnat ip saddr != @internal ip saddr @src_anywhere ip daddr 172.28.12.10 tcp dport 9080 accept" in fwd
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


VANTAGES = [{"name": "internet", "address": "172.28.50.100"}, {"name": "outsider", "address": "172.28.49.100"}, {"name": "operator", "address": "172.28.53.100"},
            {"name": "camera", "address": "172.28.54.100"}]


def _find(checks, vantage, address, port):
    return [c for c in checks if c["vantage"] == vantage and c["address"] == address and c["port"] == port][0]


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
    assert _find(checks, "camera", "172.28.52.11", 5432)["expect_open"] is True         # camera -> recorder events
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


def test_internet_flows_exclude_internal_sources():
    """A flow from the internet zone (0.0.0.0/0) must not let a camera or client through the edge."""
    plan = load("plan_xprotect_dmz")
    text = render_edge_ruleset(plan, "edge1")
    line = [ln for ln in text.splitlines() if "internet->dmz" in ln][0]
    assert line.strip().startswith("ip saddr != @internal ip saddr @src_anywhere ip daddr @host_mobile1")
    checks = flow_checks(plan, VANTAGES)
    assert _find(checks, "camera", "172.28.51.20", 8081)["expect_open"] is False
    assert _find(checks, "internet", "172.28.51.20", 8081)["expect_open"] is True


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
    line = f["vms_flow_check_line"](dict(flow_checks(plan, VANTAGES[:1])[0], open=False))
    assert "expect" in line and "got closed" in line
