"""site.yml: nothing changes a host before every input is checked (issue 13, the README's promise)."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHECKING = ("stages/prechecks.yml", "stages/windows_prechecks.yml")


def test_checks_come_before_every_changing_stage():
    imports = [p["ansible.builtin.import_playbook"] for p in yaml.safe_load((ROOT / "playbooks/site.yml").read_text())]
    assert imports[:2] == list(CHECKING), imports


def test_windows_installer_inputs_are_rendered_before_any_change():
    plays = yaml.safe_load((ROOT / "playbooks/stages/windows_prechecks.yml").read_text())
    inputs = plays[0]
    assert inputs["any_errors_fatal"] is True and "install" in inputs["tags"]
    text = yaml.safe_dump(inputs)
    # The same filter the install stage renders its win_package parameters with.
    assert "vms_windows_install_plan" in text
    role_tasks = (ROOT / "roles/windows_install/tasks/main.yml").read_text()
    assert "vms_windows_install_plan(" in role_tasks
    prechecks = plays[1]
    assert prechecks["roles"][0]["role"] == "windows_prechecks" and prechecks["any_errors_fatal"] is True


def test_windows_hosts_stage_no_longer_holds_the_prechecks():
    plays = yaml.safe_load((ROOT / "playbooks/stages/windows_hosts.yml").read_text())
    assert not any(r.get("role") == "windows_prechecks" for p in plays for r in p.get("roles", []))


def test_every_molecule_converge_loads_the_plan_first():
    """Stages target plan-derived groups (vms_platform_linux, vms_component_*): without prechecks they
    match no host and silently do nothing."""
    for path in sorted((ROOT / "molecule").glob("*/converge.yml")):
        plays = yaml.safe_load(path.read_text())
        imports = [p.get("ansible.builtin.import_playbook", "") for p in plays]
        stages = [i for i in imports if "/stages/" in i]
        if stages:
            assert stages[0].endswith("stages/prechecks.yml"), f"{path}: {imports}"
