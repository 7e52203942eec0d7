"""Sources in words (issue 24 item 6) in the port matrix, the report, `diff` and the plan's warnings,
while plan.json and the rulesets keep the exact CIDRs.

The case is the issue's: the demo lab (inventories/lab/all_in_one) leaves vms_remote_allowlist at
0.0.0.0/0 and has the camera network 172.28.14.0/24, so the gateway's sources are 25 CIDRs.
"""
from __future__ import annotations

import json

import pytest
from conftest import ROOT, plan_of

from vms_deploy import cli
from vms_deploy.diff import diff_plans, render_text
from vms_deploy.inventory import load_inventory
from vms_deploy.render import port_matrix
from vms_deploy.render.nftables_host import render_host_ruleset
from vms_deploy.report.html import render_html

LAB = ROOT / "inventories" / "lab" / "all_in_one"
WORDS = "anywhere except the camera network 172.28.14.0/24"


@pytest.fixture(scope="module")
def lab() -> dict:
    return plan_of(load_inventory(LAB))


def _gateway_rule(plan: dict) -> dict:
    return next(r for r in plan["hosts"]["app1"]["inbound"] if r["service"] == "gateway_http")


def test_the_plan_and_the_ruleset_keep_the_exact_set(lab):
    sources = _gateway_rule(lab)["sources"]
    assert len(sources) == 25 and "0.0.0.0/1" in sources and "172.28.14.0/24" not in sources
    assert "0.0.0.0/1" in render_host_ruleset(lab, "app1")


def test_the_port_matrix_and_the_report_say_it_in_words(lab):
    matrix = port_matrix.render(lab)
    row = next(ln for ln in matrix.splitlines() if "| gateway_http |" in ln)
    assert WORDS in row and "0.0.0.0/1" not in matrix
    page = render_html(lab, None)
    assert WORDS in page and "0.0.0.0/1" not in page


def test_diff_says_it_in_words(lab, tmp_path, capsys):
    narrowed = json.loads(json.dumps(lab))
    for rule in narrowed["hosts"]["app1"]["inbound"]:
        if len(rule["sources"]) == 25:
            rule["sources"] = ["100.64.0.0/10", "172.28.13.0/24"]
    text = render_text(diff_plans(narrowed, lab), "t")
    changed = [ln for ln in text.splitlines() if "now open to" in ln and "9080" in ln]
    assert changed and WORDS in changed[0] and "0.0.0.0/1" not in text
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(narrowed))
    new.write_text(json.dumps(lab))
    assert cli.main(["diff", str(old), str(new)]) == 2
    assert WORDS in capsys.readouterr().out
