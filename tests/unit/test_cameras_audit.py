"""The camera audit against fake devices on loopback (tests/unit/camera_fakes.py): the planted weaknesses are
found and nothing else; devices that answer slowly, wrongly or not at all keep the run within its bounds.

Expectations from outside the audit: the seeds' sentences (checks.SEED_*), the ONVIF Core Specification's
UsernameToken digest (the fake device checks it itself), WS-Discovery's ProbeMatch (the fake responder).
"""
from __future__ import annotations

import socket
import time

import pytest
from camera_fakes import Device, Responder

from vms_deploy.cameras import audit, discovery, report
from vms_deploy.cameras.discovery import Budget

NET = "127.77.1.0/29"  # loopback: 127.77.1.1-6 are all this host's


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.77.1.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab():
    made = []

    def make(cls, *args, **kwargs):
        made.append(cls(*args, **kwargs))
        return made[-1]

    yield make
    for thing in made:
        thing.close()


def request(cameras, **over):
    base = {"camera_networks": [NET], "cameras": cameras, "username": "recorder", "password": "S3cure-Camera-Pass",
            "firmware_minimums": {}, "clock_tolerance": 30, "try_default_credentials": False,
            "discovery_seconds": 1.0, "max_probes": 64, "device_seconds": 4.0, "request_seconds": 1.0}
    base.update(over)
    return base


def cam(device: Device, name: str) -> dict:
    return {"address": device.address, "name": name, "model": "", "username": "", "onvif_port": device.port}


def by_address(result):
    return {d["address"]: d for d in result["devices"]}


def checks_of(device: dict, severity: str = "finding") -> list[str]:
    return [f["check"] for f in device["findings"] if f["severity"] == severity]


def test_exactly_the_weak_camera_and_the_stranger(lab):
    port = free_udp_port()
    good = lab(Device, "127.77.1.2")
    weak = lab(Device, "127.77.1.3", mode="open", firmware="1.0")
    stranger = lab(Device, "127.77.1.4", username="someone", password="Another-Long-Pass1")
    for d in (good, weak, stranger):
        lab(Responder, d.address, port, d.url)
    result = audit.run(request([cam(good, "cam-good"), cam(weak, "cam-weak")],
                               firmware_minimums={"FakeCam FC-1": "5.7"}), port=port)
    devices = by_address(result)
    assert checks_of(devices["127.77.1.2"]) == []
    assert checks_of(devices["127.77.1.3"]) == ["authentication", "firmware"]
    assert checks_of(devices["127.77.1.4"]) == ["allow_list"]
    assert report.exit_code(result) == 1
    # The recorders' account is never sent to a device the inventory does not name.
    assert {user for _, _, user in stranger.requests} == {None}
    assert devices["127.77.1.2"]["facts"]["info"]["FirmwareVersion"] == "5.7.3"
    # Plain RTSP without any secure alternative is a note, not a finding.
    assert checks_of(devices["127.77.1.2"], "note") == ["streaming"]


def test_a_clean_site_exits_0_and_the_report_holds_no_secret(lab):
    port = free_udp_port()
    good = lab(Device, "127.77.1.2")
    lab(Responder, good.address, port, good.url)
    result = audit.run(request([cam(good, "cam-good")]), port=port)
    assert report.exit_code(result) == 0
    text = report.to_json(result) + report.to_markdown(result, "site1")
    assert "S3cure-Camera-Pass" not in text
    assert "| 127.77.1.2 | cam-good | yes | yes | FakeCam | FC-1 | 5.7.3 | required |" in text


def test_named_camera_that_answers_nothing_is_a_finding_within_the_bounds(lab):
    port = free_udp_port()
    lab(Responder, "127.77.1.5", port, mode="silent")
    start = time.monotonic()
    result = audit.run(request([{"address": "127.77.1.5", "name": "gone", "onvif_port": free_udp_port()}]),
                       port=port)
    assert checks_of(by_address(result)["127.77.1.5"]) == ["allow_list"]
    assert time.monotonic() - start < 1.0 + 4.0 + 1.0


@pytest.mark.parametrize("mode", ["trickle", "garbage"])
def test_slow_or_wrong_device_is_bounded_and_reported(lab, mode):
    port = free_udp_port()
    bad = lab(Device, "127.77.1.2", mode=mode)
    lab(Responder, bad.address, port, bad.url)
    start = time.monotonic()
    result = audit.run(request([cam(bad, "odd")], device_seconds=3.0), port=port)
    took = time.monotonic() - start
    device = by_address(result)["127.77.1.2"]
    assert device["facts"]["reached"] is False and device["facts"]["error"]
    assert took < 1.0 + 3.0 + 1.0, took


def test_default_credentials_off_unless_asked_then_a_few_spaced_tries(lab):
    port = free_udp_port()
    weak = lab(Device, "127.77.1.2", username="admin", password="12345")
    lab(Responder, weak.address, port, weak.url)
    off = audit.run(request([cam(weak, "w")]), port=port)
    assert not [u for _, _, u in weak.requests if u == "admin"]
    assert "default_credentials" not in checks_of(by_address(off)["127.77.1.2"])
    weak.requests.clear()
    on = audit.run(request([cam(weak, "w")], try_default_credentials=True, default_spacing=0.3), port=port)
    assert "default_credentials" in checks_of(by_address(on)["127.77.1.2"])
    tries = [t for t, _, u in weak.requests if u == "admin"]
    assert 2 <= len(tries) <= 3 * 3  # admin/admin then admin/12345 (onveef may resync the clock once per try)
    assert tries[-1] - tries[0] >= 0.3


def test_clock_outside_tolerance(lab):
    port = free_udp_port()
    skewed = lab(Device, "127.77.1.2", clock_offset=-600)
    lab(Responder, skewed.address, port, skewed.url)
    result = audit.run(request([cam(skewed, "c")]), port=port)
    assert "clock" in checks_of(by_address(result)["127.77.1.2"])


def test_plain_streaming_with_https_offered_is_a_finding(lab):
    port = free_udp_port()
    dev = lab(Device, "127.77.1.2", https=True)
    lab(Responder, dev.address, port, dev.url)
    result = audit.run(request([cam(dev, "c")]), port=port)
    assert checks_of(by_address(result)["127.77.1.2"]) == ["streaming"]


def test_discovery_budget_packets_time_and_forged_replies(lab):
    port = free_udp_port()
    lab(Responder, "127.77.1.2", port, "http://127.77.1.2:1/onvif/device_service")
    lab(Responder, "127.77.1.3", port, mode="garbage")
    lab(Responder, "127.77.1.4", port, "http://127.77.1.4:1/x", delay=3.0)  # answers after the window
    start = time.monotonic()
    found = discovery.sweep([NET], Budget(seconds=1.0, max_probes=64), port=port)
    assert time.monotonic() - start < 1.5
    assert found.probed == 6 and list(found.devices) == ["127.77.1.2"]
    assert found.ignored == 1
    # A network bigger than what is left of the budget is not swept at all, and said so.
    found = discovery.sweep([NET, "127.78.0.0/24"], Budget(seconds=0.3, max_probes=10), port=port)
    assert found.probed == 6 and found.not_swept == ["127.78.0.0/24"]


def test_not_swept_network_is_a_finding():
    result = audit.run(request([], camera_networks=["127.78.0.0/22"], max_probes=8, discovery_seconds=0.2))
    assert [f["check"] for f in result["findings"]] == ["discovery"]
    assert report.exit_code(result) == 1


def test_the_auditing_host_part_needs_only_this_package_and_onveef():
    """playbooks/cameras.yml copies vms_deploy/__init__.py and vms_deploy/cameras/ alone to the auditing host."""
    import ast
    import sys
    from pathlib import Path

    package = Path(audit.__file__).parent
    for name in ("__main__", "audit", "checks", "device", "discovery", "report"):
        tree = ast.parse((package / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 or (node.module or "").split(".")[0] in {*sys.stdlib_module_names, "onveef"}, \
                    f"{name}.py imports {node.module} (level {node.level})"
            elif isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] in {*sys.stdlib_module_names, "onveef"} for a in node.names), name
    assert "import" not in (package.parent / "__init__.py").read_text().split('"""')[-1]
