"""Secrets never appear in output, logs, plan files, reports, diffs or host state (issue 8).

The test builds its own lab (one Linux Valerus all-in-one host with the reverse-proxy gateway, site
"vmssec", container vmssec-app1, network 172.31.44.0/24), managed over SSH by a non-root user whose
sudo password is the vaulted ansible_become_password (so the password is really used). Known secret
values are vaulted with a test vault password file. It runs plan.yml, site.yml, audit.yml and
report.yml with -v (site and audit also with --diff), and the CLI's diff and report, collects every
artifact - stdout/stderr, the ANSIBLE_LOG_PATH log, the fact cache, every file written under the
run's build directories, and the files on the host - and asserts none of them holds a secret: the
passwords, the vault password, or any line of the private keys made for the site. The only place
a private key may be on the host is the gateway's key file, mode 0600.

Self-contained (brings its lab up and tears it down); VMS_SKIP_LAB=1 skips it. About 6 minutes (15 on a busy machine).
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from vms_deploy import secrets

ROOT = Path(__file__).resolve().parents[2]
LAB = "vmssec"
SITE = "vmssec"
ADDRESS = "172.31.44.10"
SSH_DIR = f"/tmp/vms-deploy-lab/{LAB}"
USER = "vmsadmin"
VAULT_PASSWORD = "Vt3%leak-test-Vault-60412"
SECRETS = {
    "ansible_become_password": "Bq7!sudo-Pass-48213",
    "vms_tls_pfx_password": "Pf8^pfx-Secret-55102",
}
# Where the site's private keys legitimately live on the host.
KEY_HOME = "/etc/nginx/vms-tls/server.key"
HOST_DIRS = ["/etc", "/var", "/tmp", "/root", "/home", "/usr/local", "/opt", "/run", "/srv"]

pytestmark = [
    pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed"),
]

HOSTS_YML = f"""---
all:
  children:
    vms_app_servers:
      hosts:
        app1:
          ansible_host: {ADDRESS}
          vms_lab_interfaces:
            lab: {ADDRESS}
    vms_recorders:
      hosts:
        app1: {{}}
    vms_gateways:
      hosts:
        app1: {{}}
"""

SITE_YML = f"""---
vms_site: {SITE}
vms_product: valerus
vms_platform: linux
vms_remote_access: none
vms_server_networks: [172.31.44.0/25]
vms_client_networks: [172.31.44.128/25]
vms_camera_networks: [172.31.47.0/24]
vms_management_networks: [172.31.44.1/32]
vms_lab_name: {LAB}
sshlab_image: vms-deploy/lab-base:bookworm
sshlab_subnet: 172.31.44.0/24
sshlab_dir: {SSH_DIR}
ansible_connection: ansible.builtin.ssh
ansible_user: {USER}
ansible_become_method: ansible.builtin.sudo
ansible_python_interpreter: /usr/bin/python3
ansible_ssh_private_key_file: "{{{{ sshlab_dir }}}}/id_ed25519"
ansible_ssh_common_args: >-
  -o UserKnownHostsFile={{{{ sshlab_dir }}}}/known_hosts -o StrictHostKeyChecking=yes -o ConnectTimeout=5
  -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o ControlPath={{{{ sshlab_dir }}}}/cp-%C
"""


class Site:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.inventory = tmp / "inventory"
        self.vault_file = tmp / "vault-pass"
        self.build = tmp / "build"
        self.log = tmp / "ansible.log"
        self.outputs: dict[str, str] = {}

    def env(self):
        return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOG_PATH=str(self.log),
                    ANSIBLE_VAULT_PASSWORD_FILE=str(self.vault_file),
                    ANSIBLE_CACHE_PLUGIN_CONNECTION=str(self.tmp / "facts"), ANSIBLE_DEPRECATION_WARNINGS="0")

    def run(self, label, argv, timeout=900, expect=0):
        proc = subprocess.run(argv, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=timeout,
                              check=False)
        self.outputs[label] = proc.stdout + proc.stderr
        if expect is not None:
            assert proc.returncode == expect, f"{label}: exit {proc.returncode}\n" + self.outputs[label][-6000:]
        return proc

    def playbook(self, label, path, *extra, **kw):
        return self.run(label, ["ansible-playbook", "-i", str(self.inventory), path, *extra], **kw)


def _write_site(tmp: Path) -> Site:
    site = Site(tmp)
    site.vault_file.write_text(VAULT_PASSWORD + "\n")
    site.vault_file.chmod(0o600)
    group_vars = site.inventory / "group_vars" / "all"
    group_vars.mkdir(parents=True)
    (site.inventory / "hosts.yml").write_text(HOSTS_YML)
    (group_vars / "site.yml").write_text(SITE_YML)
    vaulted = []
    for name, value in SECRETS.items():
        enc = subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", str(site.vault_file),
                              "--name", name, value], capture_output=True, text=True, check=True, timeout=60)
        vaulted.append(enc.stdout)
    (group_vars / "vault.yml").write_text("---\n" + "".join(vaulted))
    return site


def _docker(*argv, stdin=None, check=True):
    return subprocess.run(["docker", *argv], input=stdin, capture_output=True, text=True, timeout=300, check=check)


def _add_sudo_user():
    """A non-root admin whose sudo asks for the (vaulted) become password, with the lab key."""
    container = f"{LAB}-app1"
    _docker("exec", container, "sh", "-c",
            f"id {USER} >/dev/null 2>&1 || useradd -m -s /bin/bash {USER}; "
            f"echo '{USER} ALL=(ALL:ALL) ALL' > /etc/sudoers.d/{USER}; chmod 0440 /etc/sudoers.d/{USER}; "
            f"install -d -m 700 -o {USER} -g {USER} /home/{USER}/.ssh; "
            f"install -m 600 -o {USER} -g {USER} /root/.ssh/authorized_keys /home/{USER}/.ssh/authorized_keys")
    # Through stdin, so the password is in no command line.
    _docker("exec", "-i", container, "chpasswd", stdin=f"{USER}:{SECRETS['ansible_become_password']}\n")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    site = _write_site(tmp_path_factory.mktemp("leaks"))
    pki = ROOT / "build" / "pki" / SITE
    shutil.rmtree(pki, ignore_errors=True)
    destroy = str(ROOT / "molecule/ssh_managed/destroy.yml")
    site.playbook("destroy-before", destroy, timeout=300, expect=None)
    try:
        site.playbook("create", str(ROOT / "molecule/ssh_managed/create.yml"), timeout=600)
        _add_sudo_user()
        yield site
    finally:
        site.playbook("destroy", destroy, timeout=300, expect=None)
        shutil.rmtree(pki, ignore_errors=True)


def _key_lines(path: Path) -> list[str]:
    """The base64 body lines of a PEM private key (each identifies the key; 40+ characters)."""
    text = path.read_text()
    assert "PRIVATE KEY" in text, f"{path} is not a private key"
    return [line for line in text.splitlines() if len(line) >= 40 and not line.startswith("-----")]


def _host_hits(labels: dict[str, str]) -> dict[str, list[str]]:
    """{file on the host: [labels of the secrets in it]}: one grep for all needles over the host's
    writable directories, then each matching file read back and searched label by label."""
    patterns = [arg for needle in labels for arg in ("-e", needle)]
    proc = _docker("exec", f"{LAB}-app1", "grep", "-rlF", "--no-messages", *patterns, *HOST_DIRS, check=False)
    assert proc.returncode in (0, 1, 2), proc.stderr
    hits = {}
    for path in sorted(set(proc.stdout.split())):
        content = subprocess.run(["docker", "exec", f"{LAB}-app1", "cat", path], capture_output=True, timeout=60,
                                 check=False).stdout
        hits[path] = secrets.leaked(content, labels)
    return hits


def test_no_secret_in_any_artifact(lab):
    site = lab
    plan_dir = site.build / "plan"
    site.playbook("plan.yml -v", "playbooks/plan.yml", "-v", "-e", f"vms_plan_dir={plan_dir}")
    site.playbook("site.yml -v --diff", "playbooks/site.yml", "-v", "--diff")
    site.playbook("audit.yml -v --diff", "playbooks/audit.yml", "-v", "--diff", "-e",
                  f"vms_audit_dir={site.build / 'audit'}")
    site.playbook("report.yml -v", "playbooks/report.yml", "-v", "-e", f"report_dir={site.build / 'report'}")
    site.run("vms-deploy diff", ["vms-deploy", "diff", str(plan_dir / "plan.json"), str(site.inventory)])
    site.run("vms-deploy report", ["vms-deploy", "report", str(site.inventory), "--out",
                                   str(site.build / "cli-report")])

    # The become password was really used (sudo asks for it): a root-owned table exists.
    listing = _docker("exec", f"{LAB}-app1", "nft", "list", "table", "inet", "vms_deploy")
    assert "policy drop" in listing.stdout

    pki = ROOT / "build" / "pki" / SITE
    keys = sorted(pki.rglob("*.key"))
    assert keys, f"no private keys were made under {pki}"
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, f"{key} is not mode 0600"
    needles = dict(SECRETS)
    needles["vault password"] = VAULT_PASSWORD
    for key in keys:
        for index, line in enumerate(_key_lines(key)):
            needles[f"{key.relative_to(ROOT)} line {index + 1}"] = line
    labels = {value: label for label, value in needles.items()}

    # Controller artifacts: every command's output, the log, the fact cache, every file written.
    artifacts = {f"output of {label}": text for label, text in site.outputs.items()}
    assert site.log.exists(), "ANSIBLE_LOG_PATH was not written"
    files = [site.log] + [p for d in (site.build, site.tmp / "facts") if d.exists() for p in d.rglob("*")
                          if p.is_file()]
    assert any(p.name == "plan.json" for p in files) and any(p.name == "audit.json" for p in files)
    for path in files:
        artifacts[str(path)] = path.read_bytes()
    found = {where: secrets.leaked(text, labels) for where, text in artifacts.items()}
    found = {where: hits for where, hits in found.items() if hits}
    assert not found, f"secrets found in controller artifacts: {found}"

    # Host files: the passwords and the vault password nowhere; key lines only in the key file.
    host_hits = {}
    for path, hits in _host_hits(labels).items():
        allowed = path == KEY_HOME
        bad = [h for h in hits if not (allowed and "server.key line" in h)]
        if bad:
            host_hits[path] = bad
    assert not host_hits, f"secrets found in files on the host: {host_hits}"
    mode = _docker("exec", f"{LAB}-app1", "stat", "-c", "%a %U", KEY_HOME).stdout.split()
    assert mode == ["600", "root"], f"{KEY_HOME} is {mode}"
