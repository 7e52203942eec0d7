"""The camera audit against a third-party ONVIF implementation (issue 25): three ipycam virtual cameras (from
the package index) on the site's camera network behind the site's own nftables edge, rendered from the plan
(recorders alone may reach the cameras: UDP 3702 and TCP 80/443/554). One camera is configured well
(WS-Security on, the recorders' account), one has no authentication at all (factory state), one is not in the
inventory. playbooks/cameras.yml, from the recorder, must find exactly the open camera and the stranger; from a
host of the server network that is not a recorder, the edge lets nothing through, so nothing answers.

Its own tiny lab (containers and networks prefixed "cameras-", 172.31.125.0/24 and 172.31.126.0/24); about two
minutes with the image cached (lab/cameras/build-image.sh builds it once). Run it under the lab lock:
    flock -w 5400 /tmp/vms-lab.lock python -m pytest tests/lab/test_cameras_lab.py -q
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.render.nftables_edge import render_edge_ruleset

ROOT = Path(__file__).resolve().parents[2]
LAB = "cameras"
IMAGE = os.environ.get("VMS_CAMERA_IMAGE", "vms-deploy/lab-cameras:bookworm")
SRV, CAM = "172.31.125", "172.31.126"
PASSWORD = "Lab-Camera-Pass-2026!"
CAMERAS = {  # name -> (address, CameraConfig fields)
    "good": (f"{CAM}.11", {"username": "recorder", "password": PASSWORD}),
    "weak": (f"{CAM}.12", {"username": "", "password": ""}),  # factory state: no authentication
    "stranger": (f"{CAM}.13", {"username": "owner", "password": "Someone-Elses-Pass-77"}),
}
HOSTS = {"edge": None, "rec1": f"{SRV}.10", "client": f"{SRV}.50"}

pytestmark = [
    pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed"),
]

INVENTORY = f"""---
all:
  children:
    vms_recorders:
      hosts:
        rec1: {{vms_address: {SRV}.10, ansible_host: {LAB}-rec1}}
    vms_edge:
      hosts:
        edge: {{vms_address: {SRV}.2, ansible_host: {LAB}-edge}}
    vms_vantages:
      hosts:
        client: {{vms_address: {SRV}.50, ansible_host: {LAB}-client}}
  vars:
    vms_product: generic_nvr
    vms_site: camlab
    vms_platform: linux
    vms_remote_access: none
    vms_camera_networks: [{CAM}.0/24]
    vms_camera_username: recorder
    vms_camera_password: "{PASSWORD}"
    vms_cameras:
      - {{address: {CAM}.11, name: cam-good}}
      - {{address: {CAM}.12, name: cam-weak}}
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
"""


def sh(*argv: str, stdin: str | None = None, timeout: int = 120, check: bool = True,
       env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(argv)}: rc {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def teardown() -> None:
    names = [f"{LAB}-{n}" for n in (*HOSTS, *CAMERAS)]
    sh("docker", "rm", "-f", *names, check=False)
    sh("docker", "network", "rm", f"{LAB}-srv", f"{LAB}-cam", check=False)


def container(name: str, network: str, address: str, *extra: str) -> None:
    sh("docker", "run", "-d", "--name", f"{LAB}-{name}", "--hostname", name, "--network", f"{LAB}-{network}",
       "--ip", address, "--cap-add", "NET_ADMIN", *extra, IMAGE, "sleep", "infinity")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    sh(str(ROOT / "lab" / "cameras" / "build-image.sh"), timeout=900,
       env=dict(os.environ, PIP=os.environ.get("PIP", f"{sys.executable} -m pip")))
    teardown()
    inventory = tmp_path_factory.mktemp("camlab")
    (inventory / "hosts.yml").write_text(INVENTORY)
    plan = compile_plan(load_inventory(str(inventory)))
    try:
        # Not --internal: with br_netfilter on, Docker's isolation rules for internal networks drop the routed
        # traffic between them. The edge container routes between the two networks.
        sh("docker", "network", "create", "--subnet", f"{SRV}.0/24", f"{LAB}-srv")
        sh("docker", "network", "create", "--subnet", f"{CAM}.0/24", f"{LAB}-cam")
        container("edge", "srv", f"{SRV}.2", "--sysctl", "net.ipv4.ip_forward=1")
        sh("docker", "network", "connect", "--ip", f"{CAM}.2", f"{LAB}-cam", f"{LAB}-edge")
        sh("docker", "exec", "-i", f"{LAB}-edge", "nft", "-f", "-", stdin=render_edge_ruleset(plan, "edge"))
        for name in ("rec1", "client"):
            container(name, "srv", HOSTS[name])
            sh("docker", "exec", f"{LAB}-{name}", "ip", "route", "add", f"{CAM}.0/24", "via", f"{SRV}.2")
        launcher = (ROOT / "lab" / "cameras" / "ipycam_launch.py").read_text()
        for name, (address, auth) in CAMERAS.items():
            container(name, "cam", address)
            sh("docker", "exec", f"{LAB}-{name}", "ip", "route", "add", f"{SRV}.0/24", "via", f"{CAM}.2")
            config = {"name": f"lab-{name}", "local_ip": address, "onvif_port": 80, "rtsp_port": 554, **auth}
            sh("docker", "exec", "-i", f"{LAB}-{name}", "sh", "-c", "cat > /ipycam.json", stdin=json.dumps(config))
            sh("docker", "exec", "-i", f"{LAB}-{name}", "sh", "-c", "cat > /ipycam_launch.py", stdin=launcher)
            sh("docker", "exec", "-d", "-w", "/tmp", f"{LAB}-{name}", "sh", "-c",
               "python3 /ipycam_launch.py /ipycam.json > /ipycam.log 2>&1")
        deadline = time.monotonic() + 90
        for name, (address, _auth) in CAMERAS.items():  # ONVIF up, seen from the edge (on the camera network)
            while sh("docker", "exec", f"{LAB}-edge", "nc", "-z", "-w", "1", address, "80", check=False).returncode:
                if time.monotonic() > deadline:
                    log = sh("docker", "exec", f"{LAB}-{name}", "cat", "/ipycam.log", check=False).stdout
                    raise AssertionError(f"ipycam {name} did not start:\n{log[-2000:]}")
                time.sleep(1)
        yield inventory
    finally:
        teardown()


def audit(inventory: Path, out: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    done = subprocess.run(["ansible-playbook", "-i", str(inventory), str(ROOT / "playbooks" / "cameras.yml"),
                           "-e", f"vms_cameras_dir={out}", "-e", "vms_camera_discovery_seconds=3", *extra],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    result_file = out / "cameras.json"
    assert result_file.is_file(), done.stdout[-4000:] + done.stderr[-2000:]
    return done, json.loads(result_file.read_text())


def findings(result: dict) -> dict[str, list[str]]:
    return {d["address"]: [f["check"] for f in d["findings"] if f["severity"] == "finding"]
            for d in result["devices"]}


def test_from_the_recorder_exactly_the_open_camera_and_the_stranger(lab, tmp_path):
    done, result = audit(lab, tmp_path / "rec1")
    assert findings(result) == {f"{CAM}.11": [], f"{CAM}.12": ["authentication"], f"{CAM}.13": ["allow_list"]}, \
        json.dumps(result, indent=1)[-4000:]
    assert result["findings"] == [] and result["discovery"]["answered"] == 3
    assert done.returncode != 0 and "is on a camera network but not in the inventory" in done.stdout
    good = next(d for d in result["devices"] if d["address"] == f"{CAM}.11")
    assert good["facts"]["unauthenticated"] == "refused" and good["facts"]["login"] == "ok"
    assert good["facts"]["info"]["Manufacturer"] == "PythonCam"  # what ipycam itself reports
    # The stranger was never sent the recorders' account; no secret in the report.
    stranger = next(d for d in result["devices"] if d["address"] == f"{CAM}.13")
    assert stranger["facts"]["logins"] == 0
    text = (tmp_path / "rec1" / "cameras.json").read_text() + (tmp_path / "rec1" / "cameras.md").read_text()
    assert PASSWORD not in text and PASSWORD not in done.stdout
    assert f"| {CAM}.13 | - | NO | yes | PythonCam |" not in text  # unauthenticated: no device details
    # Nothing of the audit's code stays on the recorder.
    left = sh("docker", "exec", f"{LAB}-rec1", "sh", "-c", "ls -d /tmp/*.vms-cameras 2>/dev/null || true").stdout
    assert left.strip() == ""


def test_from_a_server_network_host_that_is_no_recorder_nothing_answers(lab, tmp_path):
    """The edge keeps WS-Discovery and ONVIF to the recorders: from another host nothing is discovered."""
    _done, result = audit(lab, tmp_path / "client", "-e", "vms_camera_auditor=client")
    assert result["discovery"]["answered"] == 0
    assert findings(result) == {f"{CAM}.11": ["allow_list"], f"{CAM}.12": ["allow_list"]}
