"""Cameras in the inventory (issue 25): the camera list is validated like everything else, before anything runs."""
from __future__ import annotations

import copy

import pytest
from conftest import valerus_split

from vms_deploy.cameras.inventory import audit_request
from vms_deploy.model import Site
from vms_deploy.validate import validate


def site_with(**camera_vars):
    return copy.deepcopy(valerus_split(vms_camera_networks=["10.30.0.0/24"], **camera_vars))


def problems(data) -> list[str]:
    return [str(e) for e in validate(data)]


def test_valid_camera_list_has_no_error():
    data = site_with(vms_cameras=[{"address": "10.30.0.11", "name": "cam-door", "onvif_port": 80}],
                     vms_camera_username="recorder", vms_camera_firmware_minimums={"FC-1": "5.7"})
    assert problems(data) == []


@pytest.mark.parametrize("entry, words", [
    ({"address": "10.31.0.5"}, "outside every camera network"),
    ({"address": "10.30.0.255"}, "network or broadcast address"),
    ({"address": "cam.local"}, "is not an IPv4 address"),
    ({"address": "10.30.0.11", "password": "admin"}, "holds a password in the camera list"),
    ({"address": "10.30.0.11", "adress": "x"}, "unknown key"),
    ({"address": "10.30.0.11", "name": "a b;rm"}, "vms_cameras[0].name"),
    ({"address": "10.30.0.11", "onvif_port": 70000}, "is not a port"),
])
def test_bad_camera_entries_are_named(entry, words):
    errors = problems(site_with(vms_cameras=[entry]))
    assert any(words in e for e in errors), errors


def test_duplicate_cameras():
    errors = problems(site_with(vms_cameras=[{"address": "10.30.0.11", "name": "a"},
                                             {"address": "10.30.0.11", "name": "a"}]))
    assert any("is also vms_cameras[0]" in e and ".address" in e for e in errors)
    assert any("is also vms_cameras[0]" in e and ".name" in e for e in errors)


def test_password_in_list_error_does_not_show_it():
    errors = problems(site_with(vms_cameras=[{"address": "10.30.0.11", "password": "Hunter2-Secret"}]))
    assert errors and not any("Hunter2-Secret" in e for e in errors)


def test_audit_settings():
    errors = problems(site_with(vms_camera_clock_tolerance=0, vms_camera_firmware_minimums={"FC-1": "new"}))
    assert any("vms_camera_clock_tolerance" in e for e in errors)
    assert any("vms_camera_firmware_minimums" in e for e in errors)


def test_request_from_site():
    site = Site.from_dict(site_with(vms_cameras=[{"address": "10.30.0.12"}, {"address": "10.30.0.3", "name": "b"}],
                                    vms_camera_username="recorder", vms_camera_password="x" * 16))
    req = audit_request(site.site_var, discovery_seconds=3, max_probes=512)
    assert [c["address"] for c in req["cameras"]] == ["10.30.0.3", "10.30.0.12"]
    assert req["camera_networks"] == ["10.30.0.0/24"] and req["try_default_credentials"] is False


def test_plan_opens_ws_discovery_from_recorders_to_cameras_only():
    """Issue 25: WS-Discovery (UDP 3702, ONVIF's probe) and ONVIF (TCP 80) only between recorders and cameras,
    and the invariant "only recorders reach cameras" covers UDP 3702 too."""
    from vms_deploy import invariants
    from vms_deploy.pipeline import compile_plan

    plan = compile_plan(site_with())
    to_cameras = [f for f in plan["zone_flows"] if f["to"] == "cameras"]
    wsd = [f for f in to_cameras if (f["protocol"], f["ports"]) == ("udp", [3702, 3702])]
    assert wsd and all(f["component"] == "recorder" for f in wsd)
    recorders = sorted(plan["hosts"][h]["address"] + "/32" for h in ("rec1", "rec2"))
    assert sorted(s for f in wsd for s in f["sources"]) == recorders
    assert ("udp", 3702) in invariants.CAMERA_PORTS and ("tcp", 80) in invariants.CAMERA_PORTS


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HOSTILE = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(HOSTILE, st.fixed_dictionaries(
    {"address": HOSTILE}, optional={"name": HOSTILE, "onvif_port": HOSTILE, "model": HOSTILE,
                                    "username": HOSTILE})), max_size=4))
def test_hostile_camera_lists_give_errors_never_a_traceback(entries):
    errors = validate(site_with(vms_cameras=entries))  # never raises
    if any(not isinstance(e, dict) or not isinstance(e.get("address"), str) for e in entries):
        assert errors, entries  # a non-dict item or an entry without an address string is always named
    assert all(e.variable.startswith("vms_cameras") for e in errors), [str(e) for e in errors]
