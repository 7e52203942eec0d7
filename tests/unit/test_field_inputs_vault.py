"""Issue 20 item 5: the vault as people use it. The generated README says to encrypt
group_vars/all/vault.yml as a whole file; such a site is vaulted (no "plain text" warning), and review
mode (`vms-deploy plan --untrusted`) plans it with no vault password, its secrets opaque.

Driven through the CLI on a site written by `vms-deploy new-site`, as an integrator would.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vms_deploy import cli

SECRETS = {"vault_windows_admin_password": "Xk9#mPq2vLw8zR!t", "vault_tls_pfx_password": "Yk9#mPq2vLw8zR!u"}
VAULT_PASSWORD = "correct horse battery staple 20"


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _encrypt(text: str) -> bytes:
    from ansible.parsing.vault import VaultLib, VaultSecret

    return VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))]).encrypt(text)


def _site(tmp_path: Path, capsys, encrypt: bool = True) -> Path:
    """A new-site Valerus all-in-one whose secrets live in a vault.yml encrypted as a whole file, referenced
    from main.yml the way the template's comments show."""
    code, _, err = _run(capsys, "new-site", "s1", "--product", "valerus", "--topology", "all_in_one",
                        "--dir", tmp_path)
    assert code == 0, err
    site = tmp_path / "s1"
    vault = "---\n" + "".join(f"{k}: '{v}'\n" for k, v in SECRETS.items())
    (site / "group_vars" / "all" / "vault.yml").write_bytes(_encrypt(vault) if encrypt else vault.encode())
    main = site / "group_vars" / "all" / "main.yml"
    main.write_text(main.read_text().replace("vms_public_address: 100.64.0.10", "vms_public_address: 47.21.27.216"))
    with open(main, "a", encoding="utf-8") as fh:
        fh.write('vms_tls_pfx_password: "{{ vault_tls_pfx_password }}"\n')
    (site / "group_vars" / "vms_app_servers.yml").write_text(
        "---\nansible_user: Administrator\nansible_password: \"{{ vault_windows_admin_password }}\"\n")
    return site


def _password_file(tmp_path: Path) -> Path:
    path = tmp_path / "vault-pass"
    path.write_text(VAULT_PASSWORD + "\n")
    return path


def test_a_whole_file_vault_counts_as_vaulted(tmp_path, capsys):
    site = _site(tmp_path, capsys)
    code, out, err = _run(capsys, "plan", site, "--vault-password-file", _password_file(tmp_path))
    assert code == 0, err
    assert not [w for w in json.loads(out)["warnings"] if "plain text" in w["text"]]
    assert not any(secret in out + err for secret in SECRETS.values())


def test_control_the_same_secrets_unencrypted_warn(tmp_path, capsys):
    """Proves the check above can fail: the same file left in plain text warns for each secret."""
    site = _site(tmp_path, capsys, encrypt=False)
    code, out, err = _run(capsys, "plan", site)
    assert code == 0, err
    found = " ".join(w["text"] for w in json.loads(out)["warnings"] if "plain text" in w["text"])
    assert "ansible_password" in found and "vault_windows_admin_password" in found


def test_review_mode_plans_a_whole_file_vault_without_its_password(tmp_path, capsys):
    site = _site(tmp_path, capsys)
    code, trusted, err = _run(capsys, "plan", site, "--vault-password-file", _password_file(tmp_path))
    assert code == 0, err
    code, untrusted, err = _run(capsys, "plan", "--untrusted", site)
    assert code == 0, err
    assert json.loads(untrusted) == json.loads(trusted)
    assert not any(secret in untrusted + err for secret in SECRETS.values())


def test_review_mode_still_refuses_a_reference_no_vaulted_file_can_hold(tmp_path, capsys):
    """Only a bare reference to a variable a vault-encrypted file of the host may define is data: the same
    reference on a site without such a file, and any other template, are still refused."""
    site = _site(tmp_path, capsys, encrypt=False)
    code, _, err = _run(capsys, "plan", "--untrusted", site)
    assert code == 2 and "vms_tls_pfx_password" in err and "Jinja template" in err
    site = _site(tmp_path / "b", capsys)
    (site / "host_vars").mkdir()
    (site / "host_vars" / "vms1.yml").write_text("---\nvms_device_count: \"{{ lookup('env', 'HOME') }}\"\n")
    code, _, err = _run(capsys, "plan", "--untrusted", site)
    assert code == 2 and "vms_device_count = " in err
    assert "vms_tls_pfx_password = " not in err


@pytest.mark.parametrize("value", ["{{ lookup('env', 'HOME') }}", "{{ vault_tls_pfx_password }}"])
def test_no_fix_advises_writing_a_password_in_plain_text(tmp_path, capsys, value):
    """A refused secret (review mode, no vaulted file) is never fixed by writing it out literally."""
    site = _site(tmp_path, capsys, encrypt=False)
    main = site / "group_vars" / "all" / "main.yml"
    main.write_text(main.read_text().replace('"{{ vault_tls_pfx_password }}"', json.dumps(value)))
    code, _, err = _run(capsys, "plan", "--untrusted", site)
    line = next(ln for ln in err.splitlines() if "vms_tls_pfx_password" in ln)
    assert code == 2
    fix = line.split("Fix:", 1)[1].lower()
    assert "literal" not in fix and "vault" in fix


def test_no_fix_text_in_the_sources_advises_a_literal_secret():
    """Every fix text of the package (a string constant that says what to write): none tells the user to write
    a secret literally in the inventory."""
    import ast

    src = Path(__file__).resolve().parents[2] / "src" / "vms_deploy"
    bad = []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                if "literal value" in text and "vault" not in text:
                    bad.append(f"{path.relative_to(src)}:{node.lineno}: {node.value[:80]}")
    assert bad == []


def test_the_plan_playbook_counts_a_whole_file_vault_as_vaulted(tmp_path, capsys):
    """The same through `ansible-playbook playbooks/plan.yml` (the vms_plan action reads hostvars)."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    site = _site(tmp_path, capsys)
    cmd = ["ansible-playbook", "-i", str(site), str(root / "playbooks" / "plan.yml"),
           "--vault-password-file", str(_password_file(tmp_path)), "-e", f"vms_plan_dir={tmp_path / 'plan'}"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "plain text" not in proc.stdout + proc.stderr
    plan = json.loads((tmp_path / "plan" / "plan.json").read_text())
    assert not [w for w in plan["warnings"] if "plain text" in w["text"]]
