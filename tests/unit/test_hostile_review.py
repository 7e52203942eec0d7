"""Issue 23, class 6: review mode (--untrusted) must plan exactly what the real run would, or refuse.

An executable inventory script was skipped in review mode and run by the trusted run (which then planned a host
nobody reviewed); a host_vars symlink to a file outside the inventory was read in review mode; a `.pem` file was
skipped by the size guard and then parsed by Ansible; an integer host name gave a half-parsed review plan.
Rule (docs/security.md, "Which runs trust the inventory"): review mode reads the inventory as data only, its own
files only; what it cannot read as the trusted run would, it refuses, naming the file and a fix.
"""
from __future__ import annotations

import json
import os

import pytest
from hostile23 import plan, refused_line, site

SCRIPT = "#!/bin/sh\necho '{\"vms_recorders\": {\"hosts\": [\"xrec9\"]}, \"_meta\": {\"hostvars\": {}}}'\n"


def _script(path):
    path.write_text(SCRIPT)
    path.chmod(0o755)


def test_an_inventory_script_is_refused_in_review_mode(tmp_path, capsys):
    inv = site(tmp_path, files={"extra.sh": _script})
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=True)
    assert code == 2, text
    assert refused_line(text, "extra.sh", "is an executable program", "chmod -x"), text
    assert not (tmp_path / "plan").exists()


def test_an_executable_data_file_without_a_program_header_plans(tmp_path, capsys):
    """A YAML file with the execute bit (a Windows checkout) is data to both runs: Ansible's script plugin
    fails to run it and the yaml plugin reads it; review mode plans it the same."""
    inv = site(tmp_path)
    (inv / "hosts.yml").chmod(0o755)
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=True)
    assert code == 0, text


def _outside(tmp_path):
    secret = tmp_path / "outside.yml"
    secret.write_text("vms_recorder_instances: 2\n")

    def link(path):
        os.symlink(secret, path)
    return link


@pytest.mark.parametrize("where", ["host_vars/xrec1.yml", "group_vars/vms_recorders.yml", "more.yml"])
def test_a_symlink_outside_the_inventory_is_refused_in_review_mode(tmp_path, capsys, where):
    inv = site(tmp_path, files={where: _outside(tmp_path)})
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=True)
    assert code == 2, text
    assert refused_line(text, where.rsplit("/", 1)[-1], "links outside the inventory", "copy the file"), text


def test_a_symlinked_directory_outside_the_inventory_is_refused_in_review_mode(tmp_path, capsys):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "xrec1.yml").write_text("vms_recorder_instances: 2\n")
    inv = site(tmp_path)
    os.symlink(tmp_path / "elsewhere", inv / "host_vars")
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=True)
    assert code == 2, text
    assert "links outside the inventory" in text


def test_a_symlink_inside_the_inventory_is_fine(tmp_path, capsys):
    inv = site(tmp_path, files={"host_vars/xrec1.yml": "vms_recorder_instances: 2\n"})
    os.symlink(inv / "host_vars" / "xrec1.yml", inv / "host_vars" / "xfail.yml")
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=True)
    assert code == 0, text


def test_a_pem_file_is_skipped_by_both_runs_alike(tmp_path, capsys):
    """A `.pem` beside the inventory holding INI host lines: the guard skips it, and so does Ansible in both
    runs (ansible.cfg's ignore_extensions, given to Ansible by load_inventory whatever its configuration), so
    the review plan and the trusted plan are the same and hold none of its hosts."""
    hosts = "".join(f"pem{i}\n" for i in range(6000))
    inv = site(tmp_path, files={"cert.pem": "[vms_recorders]\n" + hosts})
    plans = []
    for untrusted in (False, True):
        out = tmp_path / f"plan-{untrusted}"
        code, text, elapsed = plan(capsys, inv, out, untrusted)
        assert code == 0, text
        assert elapsed < 20
        plans.append(json.loads((out / "plan.json").read_text()))
    assert plans[0]["hosts"] == plans[1]["hosts"]
    assert not any(name.startswith("pem") for name in plans[1]["hosts"])
