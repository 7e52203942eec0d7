"""bench/bench_rerun.py reads what it reports from Ansible's json callback: changed counts, how many
tasks compiled the plan, the time spent in the certificates role and per role (no timing asserted)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench import bench_rerun  # noqa: E402 - needs the sys.path entry above


def _task(name, hosts, start="2026-01-01T00:00:00.000000Z", end="2026-01-01T00:00:01.500000Z"):
    return {"task": {"name": name, "duration": {"start": start, "end": end}}, "hosts": hosts}


def test_analyse_counts_compiles_changes_and_certificate_time():
    plan_result = {"summary": {"site": "s", "zone_flows": 3}, "warnings_list": []}
    data = {"plays": [{"tasks": [
        _task("validate_inventory : Validate the inventory and compile the site plan", {"app1": plan_result}),
        _task("certificates : Are the site CA and this host's key, certificate and chain already in place?",
              {"app1": {"current": True}}),
        _task("certificates : Site CA private key", {"app1": {"skipped": True}}),
        _task("host_firewall : Apply the host firewall table", {"app1": {"changed": False}}),
    ]}], "stats": {"app1": {"changed": 0}, "edge1": {"changed": 2}}}
    out = "warning text before the JSON\n" + json.dumps(data)
    facts = bench_rerun.analyse(out)
    assert facts == {"changed": 2, "compiles": 1, "certificates_seconds": 1.5, "tasks_run": 3, "tasks_skipped": 1,
                     "parts": {"certificates": 3.0, "validate_inventory": 1.5, "host_firewall": 1.5}}


def test_analyse_books_tasks_outside_a_role_to_their_play():
    data = {"plays": [{"play": {"name": "Connect from every vantage point"}, "tasks": [
        _task("Try every check (all at once, 1.5 s time-out each)", {"internet": {"changed": False}}),
        _task("Compare with the plan and the invariants", {"internet": {"skipped": True}}),
    ]}], "stats": {}}
    facts = bench_rerun.analyse(json.dumps(data))
    assert facts["parts"] == {"play: Connect from every vantage point": 3.0}
    assert (facts["tasks_run"], facts["tasks_skipped"]) == (1, 1)
