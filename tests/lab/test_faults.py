"""Fault handling, against real containers managed over SSH: a host lost mid-run.

Issue 8: "A host unreachable mid-run: the others finish, the run says which host failed, a re-run
converges." The test builds its own lab (three Linux NVRs, site "flt", containers vmsflt-*,
network 172.31.43.0/24) with molecule/ssh_managed/create.yml, runs playbooks/site.yml and stops one
container the moment the host firewall stage starts (its stand-ins are installed, its firewall is
not), then checks the recap and the other hosts, brings the host back and re-runs.

Self-contained (brings its lab up and tears it down); VMS_SKIP_LAB=1 skips it. About 5 minutes.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB = "vmsflt"
SUBNET = "172.31.43"
HOSTS = {"nvr1": f"{SUBNET}.10", "nvr2": f"{SUBNET}.11", "nvr3": f"{SUBNET}.12"}
VICTIM = "nvr2"
# The victim is stopped when this task starts: its stand-ins are in place, its firewall is not yet.
STOP_AT = "TASK [host_firewall : Make sure nftables is installed]"
SSH_DIR = f"/tmp/vms-deploy-lab/{LAB}"  # short: ssh control sockets must fit in 108 bytes
RUN_TIMEOUT = 600

pytestmark = [
    pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed"),
]

INVENTORY = f"""---
all:
  children:
    vms_recorders:
      hosts:
{''.join(f'''        {name}:
          ansible_host: {address}
          vms_lab_interfaces:
            lab: {address}
''' for name, address in HOSTS.items())}  vars:
    vms_site: flt
    vms_product: generic_nvr
    vms_platform: linux
    vms_remote_access: none
    vms_server_networks: [{SUBNET}.0/25]
    vms_client_networks: [{SUBNET}.128/25]
    vms_camera_networks: [172.31.45.0/24]
    vms_management_networks: [{SUBNET}.1/32]
    vms_lab_name: {LAB}
    sshlab_image: vms-deploy/lab-base:bookworm
    sshlab_subnet: {SUBNET}.0/24
    sshlab_dir: {SSH_DIR}
    ansible_connection: ansible.builtin.ssh
    ansible_user: root
    ansible_python_interpreter: /usr/bin/python3
    ansible_ssh_private_key_file: "{{{{ sshlab_dir }}}}/id_ed25519"
    ansible_ssh_common_args: >-
      -o UserKnownHostsFile={{{{ sshlab_dir }}}}/known_hosts -o StrictHostKeyChecking=yes -o ConnectTimeout=5
      -o ServerAliveInterval=5 -o ServerAliveCountMax=3
      -o ControlPath={{{{ sshlab_dir }}}}/cp-%C
"""


def _env():
    return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1",
                ANSIBLE_DEPRECATION_WARNINGS="0")


def playbook(inventory: Path, path: str, *extra: str, timeout: int = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(["ansible-playbook", "-i", str(inventory), path, *extra], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def recap(output: str) -> dict[str, dict[str, int]]:
    """{host: {ok, changed, unreachable, failed, ...}} from the PLAY RECAP of one run."""
    stats = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output.split("PLAY RECAP", 1)[-1], re.MULTILINE):
        stats[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return stats


def nft_table(host: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", f"{LAB}-{host}", "nft", "list", "table", "inet", "vms_deploy"],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    inventory = tmp_path_factory.mktemp("faults") / "hosts.yml"
    inventory.write_text(INVENTORY)
    destroy = str(ROOT / "molecule/ssh_managed/destroy.yml")
    playbook(inventory, destroy, timeout=300)  # leftovers of an interrupted earlier run
    up = playbook(inventory, str(ROOT / "molecule/ssh_managed/create.yml"), timeout=600)
    try:
        assert up.returncode == 0, "lab creation failed:\n" + (up.stdout + up.stderr)[-6000:]
        yield inventory
    finally:
        down = playbook(inventory, destroy, timeout=300)
        print("lab destroyed" if down.returncode == 0 else "lab destroy failed:\n" + down.stdout[-3000:])


def run_and_stop_victim(inventory: Path) -> tuple[int, str, bool]:
    """site.yml, stopping the victim's container when STOP_AT starts. -> (rc, output, stopped)."""
    proc = subprocess.Popen(["ansible-playbook", "-i", str(inventory), "playbooks/site.yml"], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, stopped = [], False
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        for line in proc.stdout:
            lines.append(line)
            if not stopped and line.startswith(STOP_AT):
                subprocess.run(["docker", "stop", "-t", "0", f"{LAB}-{VICTIM}"], capture_output=True, timeout=60,
                               check=True)
                stopped = True
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("site.yml did not finish in time:\n" + "".join(lines[-80:]))
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return rc, "".join(lines), stopped


def test_host_lost_mid_run_others_finish_and_rerun_converges(lab):
    started = time.monotonic()
    rc, out, stopped = run_and_stop_victim(lab)
    first_run = time.monotonic() - started
    assert stopped, "the run never reached the host firewall stage:\n" + out[-6000:]
    stats = recap(out)

    # The run fails, and says which host: the victim is unreachable in the recap and in a fatal line.
    assert rc != 0, out[-6000:]
    assert stats.get(VICTIM, {}).get("unreachable") == 1, f"recap {stats}\n" + out[-6000:]
    assert re.search(rf"fatal: \[{VICTIM}\]: UNREACHABLE!", out), out[-6000:]
    # The others finished: nothing failed there, and their firewall is in force with the plan's policy.
    for host in HOSTS:
        if host == VICTIM:
            continue
        assert stats[host]["failed"] == 0 and stats[host]["unreachable"] == 0, f"{host} did not finish: {stats}"
        table = nft_table(host)
        assert table.returncode == 0 and "policy drop" in table.stdout, f"{host} has no firewall:\n{table.stderr}"

    # The host comes back (container and sshd restarted: the firewall it never got is still missing).
    assert subprocess.run(["docker", "start", f"{LAB}-{VICTIM}"], capture_output=True, timeout=60).returncode == 0
    back = playbook(lab, str(ROOT / "molecule/ssh_managed/create.yml"), timeout=600)
    assert back.returncode == 0, back.stdout[-4000:]
    assert nft_table(VICTIM).returncode != 0

    # A plain re-run converges: every host succeeds and the victim gets its firewall ...
    rerun = playbook(lab, "playbooks/site.yml")
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-6000:]
    assert all(s["failed"] == 0 and s["unreachable"] == 0 for s in recap(rerun.stdout).values())
    assert "policy drop" in nft_table(VICTIM).stdout
    # ... and the site now matches its plan on every host (audit.yml exits 0).
    audit = playbook(lab, "playbooks/audit.yml", "-e", f"vms_audit_dir={SSH_DIR}/audit")
    assert audit.returncode == 0, audit.stdout[-6000:]
    for host in HOSTS:
        assert f"OK      {host}: host firewall" in audit.stdout
    print(f"first run {first_run:.0f}s, total {time.monotonic() - started:.0f}s")
