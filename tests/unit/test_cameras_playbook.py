"""playbooks/cameras.yml end to end on this machine: the auditing host is the controller itself (connection
local), the cameras are fake devices on loopback (tests/unit/camera_fakes.py, WS-Discovery on UDP 3702 of
their own 127.77.1.x address). The play writes cameras.json and cameras.md, fails on a finding, keeps the
camera password out of its output; in check mode (one run: ~35 s of Ansible on an idle machine)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from camera_fakes import Device, Responder

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "S3cure-Camera-Pass"

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="needs ansible-playbook")


def inventory(tmp_path: Path, good: Device) -> Path:
    (tmp_path / "hosts.yml").write_text(f"""all:
  children:
    vms_recorders:
      hosts:
        rec1: {{vms_address: 10.60.0.20, ansible_connection: local}}
  vars:
    vms_product: generic_nvr
    vms_site: camplay
    vms_platform: linux
    vms_camera_networks: [127.77.1.0/29]
    vms_camera_username: recorder
    vms_camera_password: {PASSWORD}
    vms_cameras: [{{address: 127.77.1.2, name: cam-good, onvif_port: {good.port}}}]
    ansible_python_interpreter: {os.sys.executable}
""")
    return tmp_path


@pytest.fixture
def devices():
    good = Device("127.77.1.2")
    stranger = Device("127.77.1.3", mode="open")
    try:
        responders = [Responder(d.address, 3702, d.url) for d in (good, stranger)]
    except OSError as exc:
        good.close()
        stranger.close()
        pytest.skip(f"cannot bind UDP 3702 on loopback: {exc}")
    yield good, stranger
    for thing in (good, stranger, *responders):
        thing.close()


def test_playbook_reports_the_stranger_and_fails_in_check_mode(tmp_path, devices):
    """Under --check, as audit.yml (every task is a read or writes only the report): the same run as without."""
    good, _stranger = devices
    out = tmp_path / "out"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               PATH=f"{Path(os.sys.executable).parent}:{os.environ.get('PATH', '')}")
    done = subprocess.run(["ansible-playbook", "-i", str(inventory(tmp_path / "inv" if not (tmp_path / "inv").mkdir()
                                                                   else None, good)),
                           str(ROOT / "playbooks" / "cameras.yml"), "-e", f"vms_cameras_dir={out}",
                           "-e", "vms_camera_discovery_seconds=1", "--check"],
                          capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    assert done.returncode == 2 and (out / "cameras.json").is_file(), done.stdout[-3000:] + done.stderr[-2000:]
    result = json.loads((out / "cameras.json").read_text())
    found = {d["address"]: [f["check"] for f in d["findings"] if f["severity"] == "finding"]
             for d in result["devices"]}
    assert found == {"127.77.1.2": [], "127.77.1.3": ["allow_list", "authentication"]}
    assert "127.77.1.3: is on a camera network but not in the inventory" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr + (out / "cameras.md").read_text()
