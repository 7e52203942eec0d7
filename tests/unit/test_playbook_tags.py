"""Every stage of site.yml must work under any --tags selection.

A role's argument check (validate_argument_spec) runs under every tag. When the task that
compiles the plan it reads is tagged only with its stage's tag, `site.yml --tags firewall` fails on
an undefined variable in some other stage (seen in the benchmarks). So: every vms_plan task whose
result a later task reads, and every end_host guard after it, carries the tag `always`.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted([*(ROOT / "playbooks" / "stages").glob("*.yml"), ROOT / "playbooks" / "audit.yml"])


def _tasks(play: dict):
    for section in ("pre_tasks", "tasks"):
        yield from play.get(section) or []


def _plays_with_roles(path: Path):
    for play in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        if "hosts" not in play:
            continue
        tasks = list(_tasks(play))
        # Static roles only: an include_role skipped by tag never runs its argument check.
        uses_role = bool(play.get("roles")) or any("ansible.builtin.import_role" in t for t in tasks)
        if uses_role:
            yield play, tasks


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_plan_and_guards_run_under_every_tag(path):
    wrong = []
    for play, tasks in _plays_with_roles(path):
        if "always" in (play.get("tags") or []):
            continue
        for task in tasks:
            is_plan = "vms_plan" in task and task.get("register")
            is_guard = (task.get("ansible.builtin.meta") == "end_host")
            if (is_plan or is_guard) and "always" not in (task.get("tags") or []):
                wrong.append(f"{play['name']}: {task['name']}")
    assert not wrong, f"{path.name}: tag these tasks [always]: {wrong}"


def test_the_check_sees_a_missing_tag(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump([{
        "name": "stage", "hosts": "all", "tags": ["edge"],
        "pre_tasks": [{"name": "plan", "vms_plan": None, "register": "p"}],
        "roles": [{"role": "edge_firewall"}]}]), encoding="utf-8")
    with pytest.raises(AssertionError, match="tag these tasks"):
        test_plan_and_guards_run_under_every_tag(bad)
