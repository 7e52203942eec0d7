"""The integrator's paths, walked as a user would on a real lab (issue 20, items 1, 2 and 7).

The site lives in its own repository, outside the toolkit checkout: a copy of the all-in-one lab inventory
(Valerus app server + recorder + gateway on one host, the Linux nftables edge; containers field-ansible-aio-*,
networks 172.29.70-74.0/24 of its own). Every run is `vms-deploy ...` from that directory, so the toolkit's
ansible.cfg is found by the CLI, not by the working directory, and the run's files go to build/ beside the
inventory. In order, on one lab:

1. `vms-deploy check SITE` on the freshly created lab (never deployed): passes, says what it would make
   (the site CA), and changes nothing: no table on any host, no PKI written (item 1).
2. `vms-deploy deploy SITE --tags install`: the VMS (the lab's stand-ins) is installed, as by someone else
   before vms-deploy came; no firewall is touched.
3. `vms-deploy deploy SITE -e vms_install=skip`: brownfield, by the switch: every host gets its owned
   table and the verify stage's connections from the vantages pass (item 2).
4. The tables are deleted by hand, then `vms-deploy deploy SITE --skip-tags install`: every host has its
   table again (item 2: --skip-tags install never skips a firewall; before the fix the app server had none).

The site CA key is under SITE/build/pki, never in the checkout (item 7). Self-contained (brings its lab up
and tears it down); VMS_SKIP_LAB=1 skips it. About 6 minutes (four site runs).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "inventories" / "lab" / "all_in_one"
LAB = "field-ansible-aio"
HOSTS = ("app1", "edge1")
TIMEOUT = 1200

pytestmark = [
    pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed"),
]


def _relabel(text: str) -> str:
    """The lab inventory with this test's own container names and subnets (172.28.1x -> 172.29.7x)."""
    return text.replace("vmslab-aio", LAB).replace("172.28.1", "172.29.7")


def _copy_site(repo: Path) -> Path:
    site = repo / "aio"
    for path in SOURCE.rglob("*"):
        if path.is_file():
            target = site / path.relative_to(SOURCE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_relabel(path.read_text(encoding="utf-8")), encoding="utf-8")
    return site


def _env(repo: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "VMS_BUILD_DIR"}
    return dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(repo / ".ansible-tmp"))


def _run(repo: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), cwd=repo, env=_env(repo), capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


def _ok(proc: subprocess.CompletedProcess, label: str) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{label}: exit {proc.returncode}\n{out[-8000:]}"
    return out


def _tables() -> dict[str, bool]:
    """Does each host have its owned nftables table (inet vms_deploy)?"""
    return {host: subprocess.run(["docker", "exec", f"{LAB}-{host}", "nft", "list", "table", "inet", "vms_deploy"],
                                 capture_output=True, timeout=60, check=False).returncode == 0 for host in HOSTS}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("site-repo")
    site = _copy_site(repo)
    lab = ["ansible-playbook", "-i", str(site)]
    env = dict(_env(repo), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    subprocess.run([*lab, str(ROOT / "playbooks" / "lab_down.yml")], cwd=ROOT, env=env, capture_output=True,
                   timeout=600, check=False)
    try:
        up = subprocess.run([*lab, str(ROOT / "playbooks" / "lab_up.yml")], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=900, check=False)
        assert up.returncode == 0, (up.stdout + up.stderr)[-6000:]
        yield repo
    finally:
        subprocess.run([*lab, str(ROOT / "playbooks" / "lab_down.yml")], cwd=ROOT, env=env, capture_output=True,
                       timeout=600, check=False)


def test_dry_run_brownfield_and_site_repo(repo):
    started = time.time()
    site = "aio"
    build = repo / site / "build"

    # 1. Dry run of a site never deployed: passes, says what it would do, changes nothing.
    out = _ok(_run(repo, "vms-deploy", "check", site), "vms-deploy check (fresh lab)")
    assert f"ANSIBLE_CONFIG={ROOT / 'ansible.cfg'}" in out
    assert "would make or renew" in out and "ca.key" in out, out[-6000:]
    assert _tables() == {host: False for host in HOSTS}
    assert not (build / "pki").exists() or not any((build / "pki").rglob("*.key"))

    # 2. The VMS is installed first (here: the lab's stand-ins), no firewall with it.
    _ok(_run(repo, "vms-deploy", "deploy", site, "--tags", "install"), "deploy --tags install")
    assert _tables() == {host: False for host in HOSTS}

    # 3. Brownfield by the switch: everything but the install, verified from the vantages.
    out = _ok(_run(repo, "vms-deploy", "deploy", site, "-e", "vms_install=skip"), "deploy -e vms_install=skip")
    standins = out.split("TASK [Stand-in listeners for the VMS services (lab only)]")[1].split("TASK [")[0]
    assert "skipping: [app1]" in standins, standins
    assert _tables() == {host: True for host in HOSTS}

    # 4. Brownfield by the tag: no firewall is skipped with the install stage.
    for host in HOSTS:
        subprocess.run(["docker", "exec", f"{LAB}-{host}", "nft", "delete", "table", "inet", "vms_deploy"],
                       capture_output=True, timeout=60, check=True)
    assert _tables() == {host: False for host in HOSTS}
    _ok(_run(repo, "vms-deploy", "deploy", site, "--skip-tags", "install"), "deploy --skip-tags install")
    assert _tables() == {host: True for host in HOSTS}

    # The site's files are beside its inventory; the checkout got none of this site's PKI.
    assert (build / "pki" / "aio" / "ca.key").is_file()
    assert oct((build / "pki" / "aio").stat().st_mode & 0o777) == "0o700"
    checkout_pki = ROOT / "build" / "pki" / "aio"
    assert not checkout_pki.exists() or all(p.stat().st_mtime < started for p in checkout_pki.rglob("*"))
