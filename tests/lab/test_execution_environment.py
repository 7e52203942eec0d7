"""The execution environment is built by the project's own scripts and the toolkit runs through it.

Issue 15: "the EE is built by the project's own scripts and a test runs the toolkit through it".
ee/build.sh builds the Debian base (debootstrap + docker import) and then the EE with ansible-builder
(both cached by a hash of their inputs); the tests then run, with ansible-navigator and the docker
runtime, exactly what a user or AWX runs: playbooks/plan.yml (controller only) and the demo site's
deployment (playbooks/site.yml on inventories/lab/all_in_one, verify stage included).

The lab's hosts are containers reached with the community.docker.docker connection, so that run
mounts the host's Docker socket and client into the EE and runs as root (the socket is root's).
A real site connects over SSH/WinRM and needs neither (docs/execution-environment.md).

Uses Docker: run it under the shared lab lock (flock /tmp/vms-lab.lock). VMS_SKIP_LAB=1 skips it.
Cost (measured): on a fresh machine the cold build is about 3.5 min and the whole file about 5 min;
with the images cached, 96 s (docs/execution-environment.md has the table).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("VMS_EE_IMAGE", "vms-deploy-ee:0.1.0")
INVENTORY = "inventories/lab/all_in_one"
BUILD_TIMEOUT = 2400

needs_lab = pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1" or shutil.which("docker") is None,
                               reason="needs Docker (skipped: VMS_SKIP_LAB=1 or no docker)")


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.strip())
        if match:
            found[re.sub(r"\[.*\]", "", match.group(1)).lower()] = match.group(2)
    return found


def test_ee_pins_are_exact_and_match_the_checkout():
    """The EE runs what the tests ran: every EE pin is exact and equal to requirements.txt's."""
    ee, checkout = pins(ROOT / "ee" / "requirements.txt"), pins(ROOT / "requirements.txt")
    lines = [x for x in (ROOT / "ee" / "requirements.txt").read_text().splitlines() if x and not x.startswith("#")]
    assert len(ee) == len(lines), "every line of ee/requirements.txt must be pinned with =="
    assert {name: v for name, v in ee.items() if checkout.get(name) != v} == {}
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    deps = definition["dependencies"]
    assert deps["ansible_core"]["package_pip"] == f"ansible-core=={checkout['ansible-core']}"
    assert deps["ansible_runner"]["package_pip"] == f"ansible-runner=={checkout['ansible-runner']}"
    assert "galaxy" not in deps  # Galaxy is unreachable here; the `ansible` package carries the collections
    assert definition["options"]["tags"] == [IMAGE] or "VMS_EE_IMAGE" in os.environ


def _env(**extra) -> dict:
    return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="0",
                ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), **extra)


def navigator_settings(path: Path, log: Path, docker_access: bool) -> Path:
    """The project's ee/ansible-navigator.yml, plus a log file and what this machine's runs need."""
    settings = yaml.safe_load((ROOT / "ee" / "ansible-navigator.yml").read_text())
    assert settings["ansible-navigator"]["execution-environment"]["image"] == IMAGE
    options = ["--user=0"]  # the checkout (mounted at its own path) and, for the lab, the socket are root's
    if docker_access:
        client = os.path.realpath(shutil.which("docker"))
        options += ["-v=/var/run/docker.sock:/var/run/docker.sock", f"-v={client}:/usr/local/bin/docker:ro"]
    settings["ansible-navigator"]["execution-environment"]["container-options"] = options
    settings["ansible-navigator"]["logging"] = {"file": str(log)}
    path.write_text(yaml.safe_dump(settings))
    return path


def navigator(settings: Path, playbook: str, *extra: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(["ansible-navigator", "run", playbook, "-i", INVENTORY, *extra], cwd=ROOT,
                          env=_env(ANSIBLE_NAVIGATOR_CONFIG=str(settings)), capture_output=True, text=True,
                          timeout=timeout, check=False)


def plain(output: str) -> str:
    """ansible-navigator's stdout without the terminal escapes it wraps its event markers in."""
    return re.sub(r"\x1b\[K(?:[A-Za-z0-9+/=]*\x1b\[\d+D\x1b\[K)?", "", output)


def recap(output: str) -> dict[str, dict[str, int]]:
    output = plain(output)
    stats = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output.split("PLAY RECAP", 1)[-1], re.MULTILINE):
        stats[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return stats


def task_output(output: str, task: str) -> str:
    """What one task (named by the start of its name) printed, up to the next task or play."""
    body = plain(output).split(f"TASK [{task}", 1)
    assert len(body) == 2, f"task {task!r} did not run"
    return re.split(r"^(?:TASK|PLAY) \[", body[1], maxsplit=1, flags=re.MULTILINE)[0]


@pytest.fixture(scope="module")
def ee_image():
    started = time.monotonic()
    build = subprocess.run([str(ROOT / "ee" / "build.sh")], cwd=ROOT, env=_env(), capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT, check=False)
    assert build.returncode == 0, "ee/build.sh failed:\n" + (build.stdout + build.stderr)[-5000:]
    assert build.stdout.strip().splitlines()[-1] == IMAGE
    print(f"ee/build.sh: {time.monotonic() - started:.0f} s ({build.stdout.strip().splitlines()[-2]})")
    return IMAGE


@needs_lab
def test_image_holds_the_controller_side(ee_image):
    script = ("vms-deploy --version && ansible --version | head -1 && ansible-runner --version && dot -V 2>&1 "
              "&& ssh -V 2>&1 && python3 -c 'import winrm, docker, vms_deploy.validate as v; "
              "print(v.SPEC_PATH.exists())' && ansible-galaxy collection list 2>/dev/null")
    run = subprocess.run(["docker", "run", "--rm", ee_image, "bash", "-c", script], capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "vms-deploy 0.1.0" in out and "core 2.19.14" in out and "\nTrue\n" in out
    for collection in ("ansible.windows", "community.windows", "microsoft.iis", "community.crypto",
                       "community.docker", "ansible.posix", "community.general", "ansible.utils"):
        assert re.search(rf"^{re.escape(collection)}\s+\d", out, re.MULTILINE), f"{collection} missing:\n{out}"


@needs_lab
def test_plan_playbook_runs_in_the_ee(ee_image, tmp_path):
    out_dir = ROOT / "build" / "ee-test" / "plan"  # inside the checkout: the EE sees only the project
    shutil.rmtree(out_dir, ignore_errors=True)
    settings = navigator_settings(tmp_path / "navigator.yml", tmp_path / "navigator.log", docker_access=False)
    started = time.monotonic()
    run = navigator(settings, "playbooks/plan.yml", "-e", f"vms_plan_dir={out_dir}", timeout=600)
    print(f"plan.yml in the EE: {time.monotonic() - started:.1f} s")
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    assert recap(run.stdout)["localhost"]["failed"] == 0
    # The EE's compiler made the same plan as this checkout's.
    here = subprocess.run(["vms-deploy", "plan", INVENTORY], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=300, check=True)
    assert json.loads((out_dir / "plan.json").read_text()) == json.loads(here.stdout)
    assert {p.name for p in out_dir.iterdir()} >= {"plan.json", "ports.md", "router.csv", "router.md"}


@needs_lab
def test_demo_site_deploys_and_verifies_through_the_ee(ee_image, tmp_path):
    def host_playbook(path: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["ansible-playbook", "-i", INVENTORY, path], cwd=ROOT, env=_env(),
                              capture_output=True, text=True, timeout=timeout, check=False)

    host_playbook("playbooks/lab_down.yml")  # leftovers of an interrupted run
    try:
        up = host_playbook("playbooks/lab_up.yml")
        assert up.returncode == 0, "lab_up failed:\n" + (up.stdout + up.stderr)[-5000:]
        settings = navigator_settings(tmp_path / "navigator.yml", tmp_path / "navigator.log", docker_access=True)
        started = time.monotonic()
        run = navigator(settings, "playbooks/site.yml", timeout=1500)
        print(f"site.yml in the EE: {time.monotonic() - started:.0f} s")
        assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
        stats = recap(run.stdout)
        assert {"app1", "edge1"} <= set(stats), stats
        assert all(s["failed"] == 0 and s["unreachable"] == 0 for s in stats.values()), stats
        # The verify stage ran on the Internet, operator and camera containers, inside the same run,
        # and its checks (connect, then compare and assert) passed there.
        verdicts = task_output(run.stdout, "Every allowed flow connects")
        for vantage in ("internet", "operator", "camera"):
            assert stats.get(f"vmslab-aio-{vantage}", {}).get("ok", 0) >= 2, plain(run.stdout)[-6000:]
            assert f"ok: [vmslab-aio-{vantage}] =>" in verdicts, plain(run.stdout)[-6000:]
    finally:
        down = host_playbook("playbooks/lab_down.yml")
        print("lab destroyed" if down.returncode == 0 else "lab destroy failed:\n" + down.stdout[-3000:])
