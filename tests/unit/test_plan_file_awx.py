"""playbooks/awx/configure.yml (AWX configuration as code): valid, lint-clean, and it holds every job that
touches hosts to the reviewed plan. There is no AWX here: nothing runs against an AWX API."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "awx" / "configure.yml"
COLLECTION = ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "ansible_collections" / "awx" / "awx"


def _run(cmd):
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _play():
    return yaml.safe_load(PLAYBOOK.read_text(encoding="utf-8"))[0]


def _task(play, module):
    return next(t for t in play["tasks"] if f"awx.awx.{module}" in t)


def test_the_ansible_package_ships_awx_awx():
    assert (COLLECTION / "plugins" / "modules" / "job_template.py").is_file()


def test_syntax_check():
    rc, out = _run(["ansible-playbook", "--syntax-check", str(PLAYBOOK)])
    assert rc == 0, out


def test_ansible_lint_production():
    rc, out = _run(["ansible-lint", "--profile", "production", "--nocolor", str(PLAYBOOK.relative_to(ROOT))])
    assert rc == 0, out


def test_jobs_that_touch_hosts_apply_the_reviewed_plan():
    play = _play()
    templates = {t["name"]: t for t in _task(play, "job_template")["loop"]}
    assert set(templates) == {"plan", "check", "deploy", "audit"}
    assert templates["plan"]["playbook"] == "playbooks/plan.yml" and "extra_vars" not in templates["plan"]
    for name in ("check", "deploy", "audit"):
        assert templates[name]["extra_vars"] == "{{ awx_apply_vars }}", name
    assert play["vars"]["awx_apply_vars"] == {"vms_plan_file": "{{ awx_plan_file }}"}
    assert templates["check"]["job_type"] == "check" and templates["check"]["diff"] is True
    assert templates["audit"]["slices"] == "{{ awx_audit_slices }}"


def test_extra_vars_are_inventory_variables_the_validator_accepts():
    spec = yaml.safe_load((ROOT / "roles" / "validate_inventory" / "meta" / "argument_specs.yml").read_text())
    known = set(spec["argument_specs"]["inventory"]["options"])
    assert set(_play()["vars"]["awx_apply_vars"]) <= known


def test_nightly_audit_and_the_approval_workflow():
    play = _play()
    schedule = _task(play, "schedule")["awx.awx.schedule"]
    assert schedule["unified_job_template"] == "{{ awx_prefix }}audit"
    assert "FREQ=DAILY" in play["vars"]["awx_audit_rrule"]
    nodes = _task(play, "workflow_job_template")["awx.awx.workflow_job_template"]["workflow_nodes"]
    order = [n["identifier"] for n in nodes]
    assert order == ["plan", "check", "approve", "deploy"]
    assert nodes[2]["unified_job_template"]["type"] == "workflow_approval"
