"""Inputs that would break segmentation are refused before anything runs (generator findings of issue 12)."""
from __future__ import annotations

import pytest
from conftest import plan_of, valerus_split, xprotect_dmz

from vms_deploy.errors import ValidationFailed
from vms_deploy.pipeline import compile_plan


def refused(data) -> str:
    with pytest.raises(ValidationFailed) as err:
        compile_plan(data)
    return str(err.value)


def test_custom_service_open_to_cameras_on_a_non_recorder_is_refused():
    data = valerus_split()
    data["hosts"]["app"]["vms_custom_services"] = [{"name": "cam_push", "port": 30000, "connects_from": ["cameras"]}]
    text = refused(data)
    assert "host app: vms_custom_services[0].connects_from" in text and "records nothing" in text


def test_camera_network_as_a_cidr_counts_as_cameras():
    data = valerus_split()
    data["hosts"]["gw"]["vms_custom_services"] = [{"name": "cam_push", "port": 30000,
                                                   "connects_from": ["10.9.50.0/25"]}]
    assert "host gw: vms_custom_services[0].connects_from" in refused(data)


def test_custom_service_open_to_cameras_on_a_recorder_is_declared_and_accepted():
    data = valerus_split()
    data["hosts"]["rec1"]["vms_custom_services"] = [{"name": "cam_push", "port": 30000, "connects_from": ["cameras"]}]
    plan = plan_of(data)  # plan_of holds the plan to the invariants too
    assert any(r["service"] == "cam_push" for r in plan["hosts"]["rec1"]["inbound"])


def test_override_giving_a_recorder_service_to_cameras_is_refused():
    data = valerus_split()
    data["hosts"]["rec1"]["vms_port_overrides"] = {"recorder_streaming": {"connects_from": ["cameras", "clients"]}}
    text = refused(data)
    assert "vms_port_overrides.recorder_streaming.connects_from" in text and "remove cameras" in text


def test_override_widening_a_restricted_service_is_refused_and_the_fix_works():
    data = xprotect_dmz()
    data["hosts"]["mgmt"]["vms_port_overrides"] = {"mgmt_server_api": {"connects_from": ["gateways"]}}
    text = refused(data)
    assert "vms_port_overrides.mgmt_server_api.connects_from" in text and "remove connects_from" in text
    data["hosts"]["mgmt"]["vms_port_overrides"] = {"mgmt_server_api": {"port": 9000}}  # the fix, applied
    plan_of(data)
