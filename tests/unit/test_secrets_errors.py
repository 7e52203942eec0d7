"""Input errors about a secret variable must never echo its value (issue 8: secrets never appear in output).

A misspelled or mistyped password variable is exactly when a user's password is about to be
printed: the message must name the host and the variable, and say "(secret, not shown)" instead.
"""
import subprocess

import pytest

from vms_deploy import secrets
from vms_deploy.errors import InputError
from vms_deploy.validate import validate

SECRET = "Kq4!unit-Secret-90817"
BASE = {"vms_site": "demo", "vms_product": "generic_nvr", "vms_platform": "linux", "ansible_host": "10.9.0.10",
        "vms_client_networks": ["10.9.1.0/24"], "vms_camera_networks": ["10.9.2.0/24"], "vms_remote_access": "none"}


def _errors(extra):
    data = {"hosts": {"nvr": dict(BASE, **extra)}, "groups": {"vms_recorders": ["nvr"]}}
    return validate(data)


@pytest.mark.parametrize("extra,variable", [
    ({"vms_tls_pfx_pasword": SECRET}, "vms_tls_pfx_pasword"),           # misspelled: unknown variable
    ({"vms_tls_pfx_password": [SECRET]}, "vms_tls_pfx_password"),       # wrong type
    ({"vms_recorder_secret": SECRET}, "vms_recorder_secret"),           # unknown, secret-looking name
])
def test_validation_errors_never_show_secret_values(extra, variable):
    errors = _errors(extra)
    mine = [e for e in errors if e.variable == variable]
    assert mine, f"expected an error about {variable}, got {[str(e) for e in errors]}"
    for err in mine:
        for text in (str(err), repr(err.as_dict()), repr(err.key())):
            assert SECRET not in text, f"the secret value of {variable} is printed: {text}"
        assert variable in str(err) and "host nvr" in str(err)


def test_plain_input_error_of_a_secret_variable_masks_value():
    err = InputError("nvr", "ansible_become_password", SECRET, "is not a string", "quote it")
    assert SECRET not in str(err) and SECRET not in repr(err.as_dict())


@pytest.mark.parametrize("name", ["vms_tls_pfx_pasword", "vms_recorder_secret", "ansible_become_pass", "vms_admin_pwd",
                                  "vms_api_key", "vms_sql_credentials"])
def test_may_hold_secret_catches_misspellings(name):
    assert secrets.may_hold_secret(name)
    assert secrets.shown_value(name, SECRET) == "(secret, not shown)"


@pytest.mark.parametrize("name", ["vms_site", "vms_tls_key_file", "vms_remote_allowlist", "vms_port_overrides"])
def test_ordinary_values_still_shown(name):
    assert not secrets.may_hold_secret(name)
    assert secrets.shown_value(name, "x") == "'x'"


def test_nested_secret_value_not_shown():
    assert secrets.shown_value("vms_custom_services", {"svc": {"password": SECRET}}) == "(secret, not shown)"


def test_plan_playbook_never_echoes_a_misspelled_vaulted_secret(tmp_path):
    """End to end through Ansible: a vaulted value under a misspelled name is decrypted by Ansible
    and then reported as an unknown variable; the report must not contain the plaintext."""
    vault = tmp_path / "vault-pass"
    vault.write_text("unit-test-vault\n")
    enc = subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", str(vault), "--name",
                          "vms_tls_pfx_pasword", SECRET], capture_output=True, text=True, check=True, timeout=60)
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  children:\n    vms_recorders:\n      hosts:\n        nvr:\n"
                                   "          ansible_host: 10.9.0.10\n")
    (inv / "group_vars" / "all" / "site.yml").write_text(
        "".join(f"{k}: {v!r}\n".replace("'", '"') for k, v in BASE.items() if k != "ansible_host"))
    (inv / "group_vars" / "all" / "vault.yml").write_text(enc.stdout)
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    proc = subprocess.run(["ansible-playbook", "-i", str(inv), "playbooks/plan.yml", "-v", "--vault-password-file",
                           str(vault), "-e", f"vms_plan_dir={tmp_path / 'plan'}"], cwd=root, capture_output=True,
                          text=True, timeout=180, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "vms_tls_pfx_pasword" in out, out[-3000:]
    assert SECRET not in out, "plan.yml printed the decrypted secret of a misspelled variable"
