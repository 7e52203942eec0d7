"""The report's picture shows what the evaluator admits: the Internet only through forward arrows, cameras only
to recorders. Read from the picture's data (graph.picture), which the DOT text is drawn from."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import plan_of

from vms_deploy.inventory import load_inventory
from vms_deploy.report.graph import picture, plan_to_dot

LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"


@pytest.mark.parametrize("name", ["all_in_one", "dmz_xprotect", "dmz_valerus"])
def test_internet_arrows_are_forwards_only(name):
    plan = plan_of(load_inventory(LAB / name))
    pic = picture(plan)
    from_internet = [a for (src, _dst, _fwd), a in pic.arrows.items() if src == "internet"]
    assert from_internet, plan_to_dot(plan)
    edge_zone = plan["hosts"][plan["edge"]["host"]]["zone"]
    for arrow in from_internet:
        assert arrow.dst == edge_zone and arrow.forward, (arrow.dst, arrow.services)
    # every forward of the plan is on that arrow, and nothing else is
    assert {(p, ports.split()[0]) for a in from_internet for p, ports, _n in a.services} == \
        {(f["protocol"], str(f["external_ports"][0]) if f["external_ports"][0] == f["external_ports"][1]
          else f"{f['external_ports'][0]}-{f['external_ports'][1]}") for f in plan["forwards"]}
    assert 'zone_internet -> zone_edge [label="forward' in plan_to_dot(plan)


def test_camera_network_draws_no_arrow_to_a_non_recorder():
    plan = plan_of(load_inventory(LAB / "dmz_xprotect"))
    recorders = {h for h, v in plan["hosts"].items() if "recorder" in v["components"]}
    for (src, _dst, _fwd), arrow in picture(plan).arrows.items():
        if src == "cameras":
            assert set().union(*arrow.services.values()) <= recorders, arrow.services
