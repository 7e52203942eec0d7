"""The report's picture shows what the evaluator admits: the Internet only through forward arrows."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import plan_of

from vms_deploy.inventory import load_inventory
from vms_deploy.report.graph import plan_to_dot

LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"


@pytest.mark.parametrize("name", ["all_in_one", "dmz_xprotect", "dmz_valerus"])
def test_internet_arrows_are_forwards_only(name):
    plan = plan_of(load_inventory(LAB / name))
    dot = plan_to_dot(plan)
    arrows = [line for line in dot.splitlines() if line.strip().startswith("net_internet ->")]
    assert arrows, dot
    edge = plan["edge"]["host"]
    for line in arrows:
        target = re.match(r"\s*net_internet -> (\S+)", line).group(1)
        assert target == f"host_{edge}" and "forward" in line, line


def test_camera_network_draws_no_arrow_to_a_non_recorder():
    plan = plan_of(load_inventory(LAB / "dmz_xprotect"))
    dot = plan_to_dot(plan)
    recorders = {f"host_{h}" for h, v in plan["hosts"].items() if "recorder" in v["components"]}
    for line in dot.splitlines():
        m = re.match(r"\s*net_cameras -> (\S+)", line)
        if m:
            assert m.group(1) in recorders, line
