"""Plan diff: semantic keys, admin wording, the three output formats (golden files), CLI exit codes.

Regenerate the golden files after an intended wording change: VMS_UPDATE_GOLDEN=1 pytest tests/unit/test_diff.py
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import compare_golden

from vms_deploy import cli
from vms_deploy.diff import ADDED, CHANGED, REMOVED, diff_plans, render_json, render_markdown, render_text

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "tests" / "fixtures" / "plans"
GOLDEN = ROOT / "tests" / "golden" / "diff"


def load(name: str) -> dict:
    return json.loads((PLANS / f"{name}.json").read_text())


def check_golden(name: str, text: str) -> None:
    compare_golden(GOLDEN / name, text)


@pytest.mark.parametrize("fmt,render", [("txt", render_text), ("md", render_markdown), ("json", render_json)])
@pytest.mark.parametrize("new", ["valerus_changed", "valerus_vpn"])
def test_golden(new, fmt, render):
    check_golden(f"base_to_{new.removeprefix('valerus_')}.{fmt}", render(diff_plans(load("valerus_base"), load(new))))


def test_identical_plans_have_no_changes():
    plan = load("valerus_base")
    assert diff_plans(plan, copy.deepcopy(plan)) == []
    assert "no changes" in render_text([])


def test_rule_order_does_not_matter():
    old = load("valerus_base")
    new = copy.deepcopy(old)
    for host in new["hosts"].values():
        host["inbound"].reverse()
    new["forwards"].reverse()
    assert diff_plans(old, new) == []


def test_source_change_is_one_change_not_add_and_remove():
    old = load("valerus_base")
    new = copy.deepcopy(old)
    rule = next(r for r in new["hosts"]["rec2"]["inbound"] if r["ports"] == [7563, 7563])
    rule["sources"] = sorted(rule["sources"] + ["10.40.7.0/24"])
    changes = diff_plans(old, new)
    assert [(c.kind, c.action) for c in changes] == [("rule", CHANGED)]
    assert changes[0].text.startswith("~ rec2 (10.40.1.22): tcp/7563 (recorder: video streams to clients)")
    assert "added 10.40.7.0/24" in changes[0].text


def test_port_change_is_one_move_with_admin_wording():
    old = load("valerus_base")
    new = copy.deepcopy(old)
    rule = next(r for r in new["hosts"]["rec1"]["inbound"] if r["ports"] == [7563, 7563])
    rule["ports"] = [7564, 7564]
    changes = diff_plans(old, new)
    assert [c.text for c in changes] == [
        "~ rec1 (10.40.1.21): port moves tcp/7563 -> tcp/7564 (recorder: video streams to clients) "
        "(open to 10.40.1.10, 10.40.2.0/24)"]
    assert changes[0].key["moved_from"]["ports"] == [7563, 7563]


def test_close_and_open_stay_separate_when_not_a_move():
    old = load("valerus_base")
    new = copy.deepcopy(old)
    rules = new["hosts"]["rec1"]["inbound"]
    streaming = next(r for r in rules if r["ports"] == [7563, 7563])
    rules.remove(streaming)
    rules.append({**streaming, "ports": [7564, 7564], "service": "streaming_alt"})
    texts = [c.text for c in diff_plans(old, new)]
    assert "- rec1 (10.40.1.21): close tcp/7563 (recorder: video streams to clients) (was open to 10.40.1.10, " \
           "10.40.2.0/24)" in texts
    assert ("+ rec1 (10.40.1.21): open tcp/7564 (recorder: video streams to clients) to 10.40.1.10, 10.40.2.0/24"
            in texts)


def test_forward_external_port_move():
    old = load("valerus_base")
    new = copy.deepcopy(old)
    next(f for f in new["forwards"] if f["external_ports"] == [9081, 9081])["external_ports"] = [19081, 19081]
    assert [c.text for c in diff_plans(old, new)] == [
        "~ router: forward to app1 (10.40.1.10) tcp/9081 (gateway: Internet Gateway streaming) moves from external "
        "tcp/9081 to tcp/19081"]


def test_forward_keyed_by_external_port():
    old = load("valerus_base")
    new = copy.deepcopy(old)
    fwd = next(f for f in new["forwards"] if f["external_ports"] == [80, 80])
    fwd["to_ports"] = [9443, 9443]
    changes = diff_plans(old, new)
    assert [(c.kind, c.action) for c in changes] == [("forward", CHANGED)]
    assert "now to app1 (10.40.1.10) tcp/9443 (was app1 (10.40.1.10) tcp/9080)" in changes[0].text


def test_host_topology_and_vpn_changes():
    old, new = load("valerus_base"), load("valerus_vpn")
    new = copy.deepcopy(new)
    new["topology"] = "all_in_one"
    new["hosts"]["rec1"]["address"] = "10.40.1.31"
    del new["hosts"]["rec2"]
    texts = [c.text for c in diff_plans(old, new)]
    assert "~ topology: separate_recorders -> all_in_one" in texts
    assert "~ host rec1: address 10.40.1.21 -> 10.40.1.31" in texts
    assert "- host rec2 (10.40.1.22) removed (its rules go with it)" in texts
    assert "+ VPN: WireGuard on udp/51820 for 10.40.8.0/24, 2 peer(s)" in texts
    peers = copy.deepcopy(new)
    peers["vpn"]["peers"] = peers["vpn"]["peers"][:1] + [{"name": "carol", "address": "10.40.8.12/32"}]
    texts = [c.text for c in diff_plans(new, peers)]
    assert texts == ["- VPN peer bob-phone (10.40.8.11/32)", "+ VPN peer carol (10.40.8.12/32)"]


def test_json_is_machine_readable():
    doc = json.loads(render_json(diff_plans(load("valerus_base"), load("valerus_changed"))))
    assert doc["changed"] is True
    actions = {c["action"] for c in doc["changes"]}
    assert actions == {ADDED, REMOVED, CHANGED}
    added_forward = next(c for c in doc["changes"] if c["kind"] == "forward" and c["action"] == ADDED
                         and c["key"]["external_ports"] == [443, 443])
    assert added_forward["new"]["to_ports"] == [9443, 9443]


def test_cli_exit_codes(capsys):
    base, changed = str(PLANS / "valerus_base.json"), str(PLANS / "valerus_changed.json")
    assert cli.main(["diff", base, base]) == 0
    assert "no changes" in capsys.readouterr().out
    assert cli.main(["diff", base, changed, "--format", "markdown"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("### plan diff for demo") and "```diff" in out
    # errors are 1 for diff (0 and 2 are taken by "no change" and "changes", like terraform -detailed-exitcode)
    assert cli.main(["diff", base]) == 1
    assert "diff needs two plans" in capsys.readouterr().err
    assert cli.main(["diff", base, str(PLANS / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert "missing.json" in err and "Traceback" not in err
