"""Every stage of site.yml must work under any --tags selection, with a plan compiled once.

A role's argument check (validate_argument_spec) runs under every tag. When the task that
compiles the plan it reads is tagged only with its stage's tag, `site.yml --tags firewall` fails on
an undefined variable in some other stage (seen in the benchmarks). So: every vms_plan task whose
result a later task reads, and every end_host guard after it, carries the tag `always`.

Since issue 12 the plan is loaded once, by stages/prechecks.yml (tagged always), which every
playbook that acts on hosts imports first; the stages read validate_inventory_plan and target the
groups prechecks made from the plan. The tests below hold that shape: no other vms_plan call site,
no end_host guard, and the prechecks import ahead of every play.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted([*(ROOT / "playbooks" / "stages").glob("*.yml"), ROOT / "playbooks" / "audit.yml"])
# Playbooks that act on a site's hosts (or report on one): each imports stages/prechecks.yml first.
PLAN_USERS = ["site.yml", "audit.yml", "verify.yml", "rotate_certificates.yml", "report.yml", "cameras.yml"]
# The only task call sites of vms_plan: the one that loads the plan for every run, and plan.yml
# (which writes the plan's files and never touches a host).
PLAN_CALL_SITES = {"roles/validate_inventory/tasks/main.yml", "playbooks/plan.yml"}


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


def _all_tasks(node):
    """Every task dict in a play list, task list or block, however deeply nested."""
    if isinstance(node, list):
        for item in node:
            yield from _all_tasks(item)
    elif isinstance(node, dict):
        if "hosts" in node:
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from _all_tasks(node.get(section) or [])
            return
        yield node
        for section in ("block", "rescue", "always"):
            yield from _all_tasks(node.get(section) or [])


def plan_call_sites(root: Path = ROOT) -> dict[str, int]:
    """file -> number of tasks that run the vms_plan action, over playbooks/ and roles/."""
    sites = {}
    for path in sorted([*(root / "playbooks").rglob("*.yml"), *(root / "roles").glob("*/tasks/*.yml")]):
        count = sum(1 for t in _all_tasks(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
                    if "vms_plan" in t or "ansible.builtin.vms_plan" in t)
        if count:
            sites[str(path.relative_to(root))] = count
    return sites


def test_the_plan_is_compiled_at_one_place_for_every_run():
    sites = plan_call_sites()
    assert set(sites) == PLAN_CALL_SITES and all(n == 1 for n in sites.values()), sites


def test_no_stage_ends_hosts_to_skip_them():
    guards = [f"{path.name}: {task.get('name')}" for path in PLAYBOOKS
              for task in _all_tasks(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
              if task.get("ansible.builtin.meta") == "end_host" or task.get("meta") == "end_host"]
    assert not guards, f"target the plan's groups (stages/prechecks.yml) instead: {guards}"


@pytest.mark.parametrize("name", PLAN_USERS)
def test_every_playbook_loads_the_plan_first(name):
    entries = yaml.safe_load((ROOT / "playbooks" / name).read_text(encoding="utf-8"))
    first = entries[0]
    assert first.get("ansible.builtin.import_playbook") == "stages/prechecks.yml", \
        f"{name}: the first entry must import stages/prechecks.yml (the plan and its groups), got {first}"


def test_prechecks_run_under_every_tag_and_share_the_plan():
    plays = yaml.safe_load((ROOT / "playbooks" / "stages" / "prechecks.yml").read_text(encoding="utf-8"))
    assert plays and all("always" in (play.get("tags") or []) for play in plays)
    assert plays[0]["hosts"] == "all", "hosts: all, so a --limit run loads the plan too"
    role_tasks = yaml.safe_load((ROOT / "roles" / "validate_inventory" / "tasks" / "main.yml").read_text())
    plan_task = next(t for t in role_tasks if "vms_plan" in t)
    assert plan_task.get("run_once") is True and plan_task.get("delegate_to") == "localhost"
    assert "vms_plan_file" in str(plan_task["vms_plan"]["plan_file"])


def test_stages_read_the_loaded_plan():
    for path in PLAYBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "vms_plan:" not in text, f"{path.name} compiles the plan again"


def test_the_call_site_count_sees_a_recompile(tmp_path):
    (tmp_path / "playbooks" / "stages").mkdir(parents=True)
    (tmp_path / "roles" / "r" / "tasks").mkdir(parents=True)
    (tmp_path / "playbooks" / "stages" / "x.yml").write_text(yaml.safe_dump([{
        "name": "stage", "hosts": "all",
        "pre_tasks": [{"name": "again", "block": [{"name": "plan", "vms_plan": None, "register": "p"}]}]}]))
    (tmp_path / "roles" / "r" / "tasks" / "main.yml").write_text(yaml.safe_dump([{"name": "p", "vms_plan": None}]))
    assert plan_call_sites(tmp_path) == {"playbooks/stages/x.yml": 1, "roles/r/tasks/main.yml": 1}
