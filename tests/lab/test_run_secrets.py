"""No key material left on the controller when a Windows host goes away or a task fails (issue 20, item 6).

The certificates stage opens each Windows host's PFX on the controller (a plain copy, private key included)
for the length of a block whose `always:` deletes it. A host that becomes unreachable inside that block leaves
the play without running `always:`: before the fix the opened PFX stayed in the controller's /tmp, one per
host and run. Now it lives in the run's private directory (plugins/callback/vms_run_dir.py), removed when
the run ends, however it ends.

A real `site.yml --tags certificates` run against a Windows host that is not there (WinRM to a closed port on
loopback: unreachable at the first task on the host, "Is the certificate already in LocalMachine\\My", right
after the PFX was opened), and one where the task on the host fails (a local connection, where the
PowerShell module cannot run). TMPDIR and the run directory's parent are the test's own, so anything left
behind is seen. The same site also shows check mode on a site never deployed (item 1) and the CLI keeping
the PKI beside the inventory (item 7). No containers; about 3 minutes (four runs, two make a PKI).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PFX_PASSWORD = "Pf8^run-Secret-55102"

pytestmark = pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is: nothing listens there


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runsec")
    inventory = tmp / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text("""---
all:
  children:
    vms_app_servers:
      hosts:
        win1: {ansible_host: 127.0.0.1, vms_address: 10.10.1.10}
    vms_recorders:
      hosts:
        win1: {}
    vms_gateways:
      hosts:
        win1: {}
""")
    (inventory / "group_vars" / "all.yml").write_text(f"""---
vms_product: valerus
vms_site: runsec
vms_server_networks: [10.10.1.0/24]
vms_client_networks: [10.10.2.0/24]
vms_camera_networks: [10.10.50.0/24]
vms_public_address: 100.64.0.9
vms_management_networks: [10.10.1.5/32]
vms_tls_dir: {tmp / "pki"}
vms_tls_pfx_password: "{PFX_PASSWORD}"
ansible_connection: winrm
ansible_port: {_closed_port()}
ansible_winrm_scheme: http
ansible_winrm_transport: ntlm
ansible_winrm_operation_timeout_sec: 5
ansible_winrm_read_timeout_sec: 10
ansible_user: admin
ansible_password: "Pw-unused-Run-4412"
""")
    return tmp, inventory


def _run(tmp: Path, inventory: Path, label: str, *extra: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
    tmpdir, parent = tmp / f"{label}-tmp", tmp / f"{label}-shm"
    tmpdir.mkdir()
    parent.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir), VMS_RUN_DIR_PARENT=str(parent), ANSIBLE_NOCOLOR="1",
               VMS_LOCK_DIR=str(tmp / "locks"), ANSIBLE_CACHE_PLUGIN_CONNECTION=str(tmp / "facts"))
    env.pop("VMS_RUN_DIR", None)
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), "playbooks/site.yml", "--tags", "certificates",
                           *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc, tmpdir, parent


def _left(*dirs: Path) -> list[str]:
    return sorted(str(p) for d in dirs for p in d.rglob("*"))


def test_an_unreachable_windows_host_leaves_no_opened_pfx(site):
    tmp, inventory = site
    proc, tmpdir, parent = _run(tmp, inventory, "unreachable")
    out = proc.stdout + proc.stderr
    # The host went away after the PFX was opened (the path this test is about), not before.
    assert "Read the opened PFX" in out and "UNREACHABLE" in out, out[-4000:]
    assert proc.returncode == 4, out[-4000:]
    assert _left(tmpdir, parent) == []
    assert PFX_PASSWORD not in out
    # Item 9: one line says what the stopped run did and did not change (the controller-side PKI is not a host).
    assert "vms-deploy: the run stopped (unreachable: win1). Changed:" in out, out[-3000:]


def test_a_failing_task_leaves_no_opened_pfx(site):
    tmp, inventory = site
    proc, tmpdir, parent = _run(tmp, inventory, "failing", "-e", "ansible_connection=local")
    out = proc.stdout + proc.stderr
    assert "Read the opened PFX" in out and "FAILED" in out, out[-4000:]
    assert proc.returncode == 2, out[-4000:]
    assert _left(tmpdir, parent) == []


def test_check_mode_on_a_site_never_deployed(site):
    """Issue 20, item 1, the controller's side: `--check --diff` on a site whose PKI was never made passes, says
    what the real run makes, and creates nothing (before: the CA key task failed, "The directory ... does not
    exist", hidden by no_log; then the Windows play failed on the PFX that was never written)."""
    tmp, inventory = site
    fresh = tmp / "never-made-pki"
    proc, tmpdir, parent = _run(tmp, inventory, "check", "--check", "--diff", "-e", f"vms_tls_dir={fresh}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "would make or renew" in out and "ca.key, ca.crt, server.key" in out and "win1.pfx" in out, out[-4000:]
    assert "not on the controller yet" in out, out[-4000:]
    assert not fresh.exists()
    assert _left(tmpdir, parent) == []


def test_the_cli_keeps_the_site_pki_beside_the_inventory(site, tmp_path):
    """Issue 20, item 7, without containers: `vms-deploy deploy` from the site's own directory, outside the
    checkout, with no vms_tls_dir, makes the site CA under SITE/build/pki (0700), none in the checkout; the
    unreachable host ends the run with its one summary line (item 9)."""
    _tmp, inventory = site
    repo = tmp_path / "acme"
    shutil.copytree(inventory, repo)
    main = repo / "group_vars" / "all.yml"
    main.write_text("".join(line for line in main.read_text().splitlines(keepends=True)
                            if not line.startswith("vms_tls_dir:")))
    checkout_pki = ROOT / "build" / "pki" / "runsec"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "VMS_BUILD_DIR"}
    proc = subprocess.run(["vms-deploy", "deploy", ".", "--tags", "certificates"], cwd=repo,
                          env=dict(env, ANSIBLE_NOCOLOR="1", VMS_RUN_DIR_PARENT=str(tmp_path)),
                          capture_output=True, text=True, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out[-4000:]  # win1 unreachable, as in the tests above
    pki = repo / "build" / "pki" / "runsec"
    assert (pki / "ca.key").is_file() and (pki / "win1" / "win1.pfx").is_file(), out[-4000:]
    assert oct(pki.stat().st_mode & 0o777) == "0o700"
    assert not checkout_pki.exists()
    assert "vms-deploy: the run stopped (unreachable: win1)." in out
    assert "CryptographyDeprecationWarning" not in out
