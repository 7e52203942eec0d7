"""Review mode (issue 13, class 6): `vms-deploy plan --untrusted` reads an inventory as data, never code.

Each case writes a real inventory whose value is a Jinja expression with a `pipe` lookup that would
create a marker file, runs the CLI in review mode, and checks that the marker does not exist, the exit
code is 2 and the message names the host and the variable. The control case runs the same inventory
without --untrusted and sees the marker appear: that proves the probe would have caught an evaluation.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from vms_deploy import cli
from vms_deploy.errors import ValidationFailed
from vms_deploy.inventory import load_inventory
from vms_deploy.validate import validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "inventories" / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "hosts.yml").exists())


def _copy(tmp_path: Path, name: str = "valerus_all_in_one") -> Path:
    target = tmp_path / "inv"
    shutil.copytree(EXAMPLES / name, target)
    return target


def _pwn(marker: Path) -> str:
    return "{{ lookup('pipe', 'touch " + str(marker) + "') }}"


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


# (id, how the hostile value is placed, host, variable the message must name)
PLACEMENTS = [
    ("site-name", lambda inv, v: _replace(inv / "group_vars" / "all.yml", "vms_site: valerus-aio", f'vms_site: "{v}"'),
     "valerus1", "vms_site"),
    ("host-address", lambda inv, v: _replace(inv / "hosts.yml", "{ansible_host: 10.10.1.10}",
                                             "{ansible_host: \"" + v + "\"}"),
     "valerus1", "ansible_host"),
    ("list-item", lambda inv, v: _replace(inv / "group_vars" / "all.yml", "vms_client_networks: [10.10.2.0/24]",
                                          f'vms_client_networks: [10.10.2.0/24, "{v}"]'),
     "valerus1", "vms_client_networks"),
    ("dict-key", lambda inv, v: _append(inv / "group_vars" / "all.yml",
                                        f'vms_port_overrides:\n  "{v}": {{port: 1}}\n'),
     "valerus1", "vms_port_overrides"),
    ("unknown-vms-variable", lambda inv, v: _append(inv / "group_vars" / "all.yml", f'vms_note: "{v}"\n'),
     "valerus1", "vms_note"),
    ("host-vars-file", lambda inv, v: _write(inv / "host_vars" / "valerus1.yml", f'---\nvms_device_count: "{v}"\n'),
     "valerus1", "vms_device_count"),
    ("statement", lambda inv, v: _append(inv / "group_vars" / "all.yml",
                                         "vms_web_player: \"" + v.replace("{{", "{% if").replace("}}", "%}1{% endif %}")
                                         + "\"\n"),
     "valerus1", "vms_web_player"),
]


def _refused(path: Path) -> bool:
    """The inventory is refused (no hosts, or an error) and never compiled."""
    try:
        data = load_inventory(path, untrusted=True)
    except ValidationFailed:
        return True
    return bool(validate(data))


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize("case", PLACEMENTS, ids=[c[0] for c in PLACEMENTS])
def test_a_lookup_in_the_inventory_is_never_run_in_review_mode(tmp_path, capsys, case):
    _id, place, host, variable = case
    inv = _copy(tmp_path)
    marker = tmp_path / "pwned"
    place(inv, _pwn(marker))
    out_dir = tmp_path / "plan"
    code, out, err = _run(capsys, "plan", "--untrusted", str(inv), "--out", str(out_dir))
    assert not marker.exists(), "the lookup ran: review mode evaluated a template"
    assert code == 2 and out == ""
    assert not out_dir.exists(), "no plan may be written for a refused inventory"
    line = next((ln for ln in err.splitlines() if f" {variable} = " in ln), None)
    assert line is not None, err
    assert f"host {host}:" in line and "Jinja template" in line and "Fix: " in line


def test_control_the_same_lookup_runs_when_the_inventory_is_trusted(tmp_path, capsys):
    """Proves the probe works: without --untrusted Ansible templates the value and the command runs.
    This is why the example pipelines plan change requests with --untrusted (docs/gitops.md)."""
    inv = _copy(tmp_path)
    marker = tmp_path / "pwned"
    PLACEMENTS[0][1](inv, _pwn(marker))
    _run(capsys, "plan", str(inv))
    assert marker.exists()


def test_diff_and_report_refuse_templates_in_review_mode_too(tmp_path, capsys):
    inv = _copy(tmp_path)
    marker = tmp_path / "pwned"
    PLACEMENTS[0][1](inv, _pwn(marker))
    code, _, err = _run(capsys, "diff", "--untrusted", str(EXAMPLES / "valerus_all_in_one"), str(inv))
    assert code == 1 and "vms_site" in err and "Jinja template" in err
    code, _, err = _run(capsys, "report", "--untrusted", "--no-picture", str(inv), "--out", str(tmp_path / "r"))
    assert code == 2 and "vms_site" in err
    assert not marker.exists()
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_plans_the_same_in_review_mode(tmp_path, capsys, name):
    code, trusted, _ = _run(capsys, "plan", str(EXAMPLES / name))
    assert code == 0
    code, untrusted, err = _run(capsys, "plan", "--untrusted", str(EXAMPLES / name))
    assert code == 0, err
    assert json.loads(untrusted) == json.loads(trusted)


def test_an_executable_inventory_script_is_not_run_in_review_mode(tmp_path):
    marker = tmp_path / "pwned"
    script = tmp_path / "inventory.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{}}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert _refused(script)
    assert not marker.exists()


def test_an_inventory_plugin_file_is_not_loaded_in_review_mode(tmp_path):
    """`plugin:` files go through the auto plugin to any installed inventory plugin (code); the yaml
    plugin reads the file as hosts instead and finds no vms host."""
    inv = tmp_path / "inv.yml"
    inv.write_text("plugin: ansible.builtin.constructed\ncompose:\n  vms_site: lookup('pipe', 'touch %s')\n"
                   % (tmp_path / "pwned"))
    assert _refused(inv)
    assert not (tmp_path / "pwned").exists()


def test_vault_values_stay_encrypted_and_need_no_password(tmp_path, capsys):
    from ansible.parsing.vault import VaultLib, VaultSecret

    inv = _copy(tmp_path, "valerus_separate_app_server") if (EXAMPLES / "valerus_separate_app_server").exists() \
        else _copy(tmp_path)
    vault = VaultLib([("default", VaultSecret(b"correct horse battery staple"))])
    cipher = vault.encrypt("Sup3r-Secret-Passw0rd!").decode()
    block = "\n".join("    " + line for line in cipher.splitlines())
    _append(inv / "group_vars" / "all.yml", f"vms_tls_pfx_password: !vault |\n{block}\n")
    code, out, err = _run(capsys, "plan", "--untrusted", str(inv))
    assert code == 0, err
    assert "Sup3r" not in out + err


def test_an_ansible_cfg_in_the_working_directory_is_ignored_in_review_mode(tmp_path):
    """A change request's checkout may carry an ansible.cfg that enables its own vars plugin (code run
    while the inventory is read). Review mode gives Ansible an empty configuration instead; the control
    run without --untrusted shows the plugin does run otherwise. Subprocesses: Ansible reads its
    configuration once per process."""
    import subprocess
    import sys

    marker = tmp_path / "pwned"
    (tmp_path / "vars_plugins").mkdir()
    (tmp_path / "vars_plugins" / "evil.py").write_text(
        "from ansible.plugins.vars import BaseVarsPlugin\n"
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "class VarsModule(BaseVarsPlugin):\n    REQUIRES_ENABLED = False\n"
        "    def get_vars(self, loader, path, entities, cache=True):\n        return {}\n")
    (tmp_path / "ansible.cfg").write_text("[defaults]\nvars_plugins = ./vars_plugins\n")
    inv = _copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}
    argv = [sys.executable, "-m", "vms_deploy.cli", "plan", str(inv)]
    proc = subprocess.run(argv + ["--untrusted"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), "review mode read the working directory's ansible.cfg"
    subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert marker.exists(), "control: without --untrusted the plugin runs (the test would catch it)"
