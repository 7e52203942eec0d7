"""Issue 21 item 6 with packets: with vms_nat_reflection the client vantage reaches the gateway through the
public address (hairpin NAT on the edge); the camera vantage never does (invariant 2)."""
from __future__ import annotations

import pytest
from conftest import line


def _at_public(results, vantage, plan, fwd):
    public = plan["edge"]["public_address"]
    return next((r for r in results.get(vantage, []) if r["address"] == public and r["protocol"] == fwd["protocol"]
                 and r["port"] == fwd["external_ports"][0]), None)


def test_nat_reflection_serves_clients_never_cameras(plan, results):
    if not (plan.get("edge") or {}).get("nat_reflection"):
        pytest.skip("vms_nat_reflection is off in this lab")
    if "operator" not in results or "camera" not in results:
        pytest.skip("needs the operator and camera vantages")
    fwd = next((f for f in plan["forwards"] if f["to_ports"][0] == 9080), plan["forwards"][0])
    client = _at_public(results, "operator", plan, fwd)
    assert client, "no operator -> public address check was planned"
    assert client["expect_open"] and client["open"], line(client)
    assert str(fwd["to_ports"][0]) in client["target"], line(client)
    for f in plan["forwards"]:
        camera = _at_public(results, "camera", plan, f)
        assert camera and camera["forbidden"], f"no camera -> public {f['external_ports'][0]} invariant check"
        assert not camera["open"] and not camera["reached"], line(camera)
