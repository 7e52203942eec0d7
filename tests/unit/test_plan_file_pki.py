"""roles/certificates' fast path (action vms_pki_current): after the role has made the site CA and a
host's certificate, a no-change run reads the files once and skips the community.crypto module runs;
anything missing, different or due sends it back through them, which repair it.

Runs the real certificates stage on the controller (local connection), as test_certs_playbook does.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "vms_pki_current", ROOT / "roles" / "certificates" / "action_plugins" / "vms_pki_current.py")
pki = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pki)


def playbook(inventory: Path, *extra: str):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), "playbooks/stages/certificates.yml", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return json.loads(proc.stdout[proc.stdout.index("{"):])


def ran(data: dict) -> list[str]:
    """Names of the tasks that ran (not skipped) on gw1."""
    return [t["task"]["name"] for p in data["plays"] for t in p["tasks"]
            if "gw1" in t["hosts"] and not t["hosts"]["gw1"].get("skipped")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pki")
    data = {"all": {
        "vars": {"vms_site": "pkiunit", "vms_product": "valerus", "ansible_connection": "local",
                 "ansible_python_interpreter": sys.executable, "vms_public_name": "gw.example.test",
                 "vms_tls_dir": str(tmp / "pki"), "vms_tls_names": ["gw1.internal.test"]},
        "children": {"vms_gateways": {"hosts": {"gw1": {"vms_address": "10.30.1.5", "vms_platform": "linux"}}}}}}
    (tmp / "hosts.yml").write_text(yaml.safe_dump(data))
    first = playbook(tmp / "hosts.yml")
    assert "certificates : Site CA private key" in ran(first)
    return tmp


def args(site: Path, **over) -> dict:
    base = {"ca_dir": str(site / "pki"), "host_dir": str(site / "pki" / "gw1"), "key_type": "RSA",
            "ca_common_name": "pkiunit VMS site CA", "common_name": "gw.example.test",
            "subject_alt_names": ["DNS:gw.example.test", "DNS:gw1", "DNS:gw1.internal.test", "IP:10.30.1.5"],
            "renew_days": 30, "rotate": False}
    return {**base, **over}


def test_a_no_change_run_skips_every_module_run(site):
    data = playbook(site / "hosts.yml")
    names = ran(data)
    assert "certificates : Are the site CA and this host's key, certificate and chain already in place?" in names
    modules = ("Site CA private key", "Site CA signing request", "Site CA certificate", "Look at the current",
               "Server private key", "Server signing request", "Server certificate signed", "Chain and full chain")
    made = [n for n in names if n.startswith(tuple(f"certificates : {m}" for m in modules))]
    assert not made, made
    assert "certificates : Check the server certificate as clients will see it" in names  # the same final check
    assert data["stats"]["gw1"]["changed"] == 0


def test_what_the_role_made_is_current(site):
    assert pki.check(args(site)) == []


@pytest.mark.parametrize("change, reason", [
    ({"subject_alt_names": ["DNS:gw.example.test", "DNS:gw1", "IP:10.30.1.5"]}, "does not name exactly"),
    ({"common_name": "other.example.test"}, "common name"),
    ({"key_type": "ECC"}, "is not an ECC secp256r1 key"),
    ({"ca_common_name": "another VMS site CA"}, "subject is not the site CA's"),
    ({"rotate": True}, "a rotation was asked for"),
    ({"renew_days": 400}, "expires within 400 days"),
    ({"ca_passphrase": "not-the-passphrase"}, "cannot be read with the configured passphrase"),
])
def test_any_difference_is_not_current(site, change, reason):
    reasons = pki.check(args(site, **change))
    assert any(reason in r for r in reasons), reasons


def test_changed_files_are_not_current_and_the_role_repairs_them(site):
    host = site / "pki" / "gw1"
    fullchain = (host / "fullchain.pem").read_text()
    (host / "fullchain.pem").write_text(fullchain.replace("\n", "\n\n", 1))
    (host / "server.key").chmod(0o644)
    reasons = pki.check(args(site))
    assert any("fullchain.pem is not the certificate chain" in r for r in reasons), reasons
    assert any("server key" in r and "not 0600" in r for r in reasons), reasons
    data = playbook(site / "hosts.yml")
    assert data["stats"]["gw1"]["changed"] > 0
    assert pki.check(args(site)) == []
    assert (host / "fullchain.pem").read_text() == fullchain


def test_a_missing_certificate_is_not_current(site, tmp_path):
    assert pki.check(args(site, host_dir=str(tmp_path))) != []
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3650)
    assert any("expires within" in r for r in pki.check(args(site), now=later))
