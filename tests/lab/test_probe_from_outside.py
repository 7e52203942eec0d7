"""`vms-deploy probe` from the Internet vantage of the all-in-one lab, then with one forward broken.

Issue 15: "a test breaks one forward and shows the probe reports it." The test brings up the demo
lab (inventories/lab/all_in_one, containers vmslab-aio-*), deploys it with playbooks/site.yml, copies
the vms_deploy package and its declared dependencies (PyYAML, Jinja2, MarkupSafe: what `pip install
vms-deploy` brings) into the Internet vantage container and runs `python3 -m vms_deploy.cli probe plan.json`
there, as an operator would from a laptop outside the site. It must match the plan (exit 0). Then the DNAT rule of one
forward is deleted on the edge with nft, and the same probe must report exactly that port as a
difference (exit 1). The lab is torn down afterwards.

Uses Docker: run it under the shared lab lock (flock /tmp/vms-lab.lock). VMS_SKIP_LAB=1 skips it.
About 1.5 minutes (measured 85 s), almost all of it lab_up + site.yml.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import markupsafe
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = "inventories/lab/all_in_one"
LAB = "vmslab-aio"
VANTAGE = f"{LAB}-internet"
EDGE = f"{LAB}-edge1"
BROKEN = "valerus-gateway-https"  # the forward whose DNAT rule is deleted (tcp/9443)
BROKEN_PORT = 9443

pytestmark = [
    pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed"),
]


def _env():
    return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="0",
                ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))


def playbook(path: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["ansible-playbook", "-i", INVENTORY, path], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)


def docker(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    playbook("playbooks/lab_down.yml", timeout=300)  # leftovers of an interrupted earlier run
    try:
        up = playbook("playbooks/lab_up.yml")
        assert up.returncode == 0, "lab_up failed:\n" + (up.stdout + up.stderr)[-5000:]
        site = playbook("playbooks/site.yml")
        assert site.returncode == 0, "site.yml failed:\n" + (site.stdout + site.stderr)[-5000:]
        # The package and the site's plan go into the vantage: nothing there knows vms-deploy yet.
        work = tmp_path_factory.mktemp("probe")
        plan = subprocess.run(["vms-deploy", "plan", INVENTORY, "--out", str(work)], cwd=ROOT, env=_env(),
                              capture_output=True, text=True, timeout=300, check=False)
        assert plan.returncode == 0, plan.stderr
        assert docker("exec", VANTAGE, "mkdir", "-p", "/opt/vms").returncode == 0
        packages = [Path(m.__file__).parent for m in (yaml, jinja2, markupsafe)]
        for source in (ROOT / "src" / "vms_deploy", *packages, work / "plan.json"):
            copied = docker("cp", str(source), f"{VANTAGE}:/opt/vms/")
            assert copied.returncode == 0, copied.stderr
        yield
    finally:
        down = playbook("playbooks/lab_down.yml", timeout=300)
        print("lab destroyed" if down.returncode == 0 else "lab destroy failed:\n" + down.stdout[-3000:])


def probe_from_internet() -> tuple[int, str, dict]:
    """Run the probe in the Internet vantage: (exit code, printed text, probe.json)."""
    run = docker("exec", "-e", "PYTHONPATH=/opt/vms", "-w", "/tmp", VANTAGE, "python3", "-m", "vms_deploy.cli",
                 "probe", "/opt/vms/plan.json", "--timeout", "1.5", "--out", "/tmp/probe", timeout=300)
    assert "Traceback" not in run.stderr, run.stderr
    report = docker("exec", VANTAGE, "cat", "/tmp/probe/probe.json")
    assert report.returncode == 0, run.stdout + run.stderr
    return run.returncode, run.stdout + run.stderr, json.loads(report.stdout)


def dnat_handle(forward: str) -> str | None:
    listing = docker("exec", EDGE, "nft", "-a", "list", "chain", "inet", "vms_deploy", "prerouting")
    assert listing.returncode == 0, listing.stderr
    for line in listing.stdout.splitlines():
        if "dnat" in line and f'comment "forward {forward}"' in line:  # render/nftables_edge.py _dnat_rules
            return re.search(r"# handle (\d+)", line).group(1)
    return None


def test_probe_from_outside_matches_then_reports_a_broken_forward(lab):
    code, text, doc = probe_from_internet()
    assert code == 0, text
    checks = {(c["protocol"], c["port"]): c for c in doc["checks"]}
    forwards = [c for c in doc["checks"] if c["kind"] == "forward"]
    # Every forward of the plan was tried and answered; management, RDP, SMB and the catalog's
    # un-forwarded ports were tried and did not.
    assert sorted(c["port"] for c in forwards) == [80, 3000, 3001, 9081, 9443], text
    assert all(c["actual"] == "open" and c["status"] == "ok" for c in forwards), text
    for port in (22, 445, 3389, 5985, 5986, 443, 554, 8080, 9080):
        assert checks[("tcp", port)]["kind"] == "must be closed" and checks[("tcp", port)]["actual"] == "closed", text
    assert doc["summary"]["DIFF"] == 0 and doc["address"] == "172.28.10.2"

    handle = dnat_handle(BROKEN)
    assert handle, f"no DNAT rule for {BROKEN} on the edge"
    deleted = docker("exec", EDGE, "nft", "delete", "rule", "inet", "vms_deploy", "prerouting", "handle", handle)
    assert deleted.returncode == 0, deleted.stderr

    code, text, doc = probe_from_internet()
    print(text)
    assert code == 1, text
    diffs = [c for c in doc["checks"] if c["status"] == "DIFF"]
    assert [(c["protocol"], c["port"]) for c in diffs] == [("tcp", BROKEN_PORT)], text
    assert diffs[0]["expected"] == "open" and diffs[0]["actual"] == "closed"
    assert diffs[0]["rule"] == f"forward {BROKEN}"
    assert re.search(rf"tcp/{BROKEN_PORT}\s+forward\s+open\s+closed\s+DIFF", text), text
