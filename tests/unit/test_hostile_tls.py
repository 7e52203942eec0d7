"""TLS inputs checked by the validator (issue 13, class 1): before this, only the certificates stage
(after hosts had been changed) noticed a missing, wrong or mismatched certificate. Test PKI is made at
run time by tests/fixtures/certs/factory.py; expectations come from how the files were made.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import valerus_split

from vms_deploy.errors import show_value
from vms_deploy.inventory import VAULTED
from vms_deploy.validate import validate

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "certs"))
import factory as f  # noqa: E402 - needs the sys.path entry above


@pytest.fixture
def pki(tmp_path):
    return f.site_pki(tmp_path, now=f.NOW.replace(year=2026, month=11, day=1))


def _site(pki, **tls):
    values = {"vms_tls_mode": "provided", "vms_tls_cert_file": pki["cert"], "vms_tls_key_file": pki["key"],
              "vms_tls_chain_file": pki["chain"], "vms_tls_trust_file": pki["root"]}
    values.update(tls)
    return valerus_split(**{k: v for k, v in values.items() if v is not None})


def _errors(data, variable):
    return [e for e in validate(data) if e.variable == variable]


def test_a_good_provided_certificate_is_accepted(pki):
    assert validate(_site(pki)) == []


def test_a_key_that_belongs_to_another_certificate(pki, tmp_path):
    other = f.key_pem(f.key())
    errs = _errors(_site(pki, vms_tls_key_file=f.write(tmp_path, "other.key", other)), "vms_tls_key_file")
    assert errs and "does not match the certificate" in errs[0].problem
    # Only the hosts that terminate TLS (app server and gateway) are checked.
    assert errs[0].host == "app,gw"


def test_an_expired_certificate(pki, tmp_path):
    objs = pki["objects"]
    old, old_key = f.leaf(objs["inter"], objs["inter_key"], start=-400, days=30)
    data = _site(pki, vms_tls_cert_file=f.write(tmp_path, "old.pem", f.pem(old)),
                 vms_tls_key_file=f.write(tmp_path, "old.key", f.key_pem(old_key)))
    errs = _errors(data, "vms_tls_cert_file")
    assert errs and "expired" in errs[0].problem


def test_a_key_where_the_certificate_goes(pki):
    errs = _errors(_site(pki, vms_tls_cert_file=pki["key"]), "vms_tls_cert_file")
    assert errs and "holds no PEM or DER certificate" in errs[0].problem


def test_missing_files_and_a_missing_half(pki, tmp_path):
    errs = _errors(_site(pki, vms_tls_cert_file=str(tmp_path / "nope.pem")), "vms_tls_cert_file")
    assert errs and "does not exist" in errs[0].problem and "nope.pem" in show_value(errs[0].value)
    errs = _errors(_site(pki, vms_tls_key_file=None), "vms_tls_key_file")
    assert errs and "not given" in errs[0].problem


def test_relative_paths_are_found_next_to_the_inventory(pki, tmp_path):
    data = _site(pki, vms_tls_cert_file="cert.pem", vms_tls_key_file="key.pem", vms_tls_chain_file="chain.pem",
                 vms_tls_trust_file="root.pem")
    data["inventory_dirs"] = {h: str(Path(pki["cert"]).parent) for h in data["hosts"]}
    cwd = os.getcwd()
    os.chdir(ROOT)  # not the PKI directory: the inventory directory must be what finds the files
    try:
        assert validate(data) == []
    finally:
        os.chdir(cwd)


def test_vault_encrypted_files_and_passwords_are_only_checked_for_existence(pki, tmp_path):
    vaulted = f.write(tmp_path, "vaulted.pem", b"$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    assert validate(_site(pki, vms_tls_cert_file=vaulted)) == []
    # Review mode keeps a vaulted PFX password encrypted: the PFX is not opened with it.
    pfx = f.write(tmp_path, "site.pfx", f.pfx(pki["objects"]["cert"], pki["objects"]["key"], [], b"pw"))
    data = _site(pki, vms_tls_cert_file=None, vms_tls_key_file=None, vms_tls_pfx_file=pfx,
                 vms_tls_pfx_password=VAULTED)
    assert validate(data) == []
    data = _site(pki, vms_tls_cert_file=None, vms_tls_key_file=None, vms_tls_pfx_file=pfx,
                 vms_tls_pfx_password="wrong")
    assert [e.variable for e in validate(data)] == ["vms_tls_pfx_password"]


def test_plan_yml_refuses_a_mismatched_key_before_any_host(pki, tmp_path):
    """plan.yml runs the same validator as the first stage of site.yml (vms_plan): the certificate
    problem is reported there, on the controller, instead of in the certificates stage."""
    other = f.write(tmp_path, "other.key", f.key_pem(f.key()))
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text(
        "all:\n  children:\n    vms_app_servers:\n      hosts:\n        app: {ansible_host: 10.9.1.10}\n"
        "    vms_recorders:\n      hosts:\n        app: {}\n")
    (inv / "group_vars" / "all.yml").write_text(
        f"vms_product: valerus\nvms_site: t\nvms_tls_mode: provided\nvms_tls_cert_file: {pki['cert']}\n"
        f"vms_tls_key_file: {other}\nvms_tls_chain_file: {pki['chain']}\nvms_tls_trust_file: {pki['root']}\n")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(["ansible-playbook", "-i", str(inv), str(ROOT / "playbooks" / "plan.yml"),
                           "-e", f"vms_plan_dir={tmp_path / 'out'}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "host app: vms_tls_key_file" in out and "does not match the certificate" in out, out
    assert not (tmp_path / "out").exists()
