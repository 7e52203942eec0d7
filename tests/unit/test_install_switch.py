"""Brownfield (issue 20, item 2): the VMS is already installed, so the install stage is skipped, by the
documented switch `vms_install: skip` or by `--skip-tags install`, and every firewall still applies.

A play, block or task that carries both `install` and `firewall` is skipped whole by `--skip-tags install`:
the host's rule group is then silently not applied (on an all-in-one site, the only server's). So no node
that applies a firewall (the host_firewall, windows_firewall and edge_firewall roles) may inherit the
`install` tag, and every node that installs the VMS honours the switch.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import valerus_split

from vms_deploy.validate import validate

ROOT = Path(__file__).resolve().parents[2]
STAGES = sorted((ROOT / "playbooks" / "stages").glob("*.yml"))
FIREWALL_ROLES = {"host_firewall", "windows_firewall", "edge_firewall"}
INSTALL_ROLES = {"windows_install", "standin_services"}


def _roles_of(node: dict) -> set[str]:
    """Roles a play entry or task runs (roles:, import_role, include_role)."""
    names = set()
    for entry in node.get("roles") or []:
        names.add(entry if isinstance(entry, str) else entry.get("role") or entry.get("name"))
    for key in ("ansible.builtin.import_role", "ansible.builtin.include_role", "import_role", "include_role"):
        if isinstance(node.get(key), dict):
            names.add(node[key]["name"])
    return names


def _nodes(path: Path):
    """(effective tags, node, where) of every play and task of a playbook, tags inherited from above."""
    def walk(node, inherited, where):
        tags = inherited | set(node.get("tags") or [])
        yield tags, node, where
        for section in ("pre_tasks", "tasks", "post_tasks", "block", "rescue", "always"):
            for child in node.get(section) or []:
                yield from walk(child, tags, f"{where} / {child.get('name', '?')}")
    for play in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        yield from walk(play, set(), f"{path.name}: {play.get('name', '?')}")


def firewall_nodes_tagged_install(paths) -> list[str]:
    return [where for path in paths for tags, node, where in _nodes(path)
            if _roles_of(node) & FIREWALL_ROLES and "install" in tags]


def both_tags(paths) -> list[str]:
    return [where for path in paths for tags, node, where in _nodes(path) if {"install", "firewall"} <= tags]


def test_skip_tags_install_never_skips_a_firewall():
    assert firewall_nodes_tagged_install(STAGES) == []


def test_no_play_or_task_carries_install_and_firewall():
    assert both_tags(STAGES) == []


def test_the_checks_see_the_bug(tmp_path):
    bad = tmp_path / "bad.yml"
    task = {"name": "fw", "ansible.builtin.include_role": {"name": "host_firewall"}}
    play = {"name": "hosts", "hosts": "all", "tags": ["install", "firewall"], "tasks": [task]}
    bad.write_text(yaml.safe_dump([play]))
    assert firewall_nodes_tagged_install([bad]) and both_tags([bad])


def test_every_install_honours_the_switch():
    """Every node that runs an installing role is conditioned on vms_install (the plays' `when`)."""
    missing = []
    for path in STAGES:
        for _tags, node, where in _nodes(path):
            for entry in node.get("roles") or []:
                installs = isinstance(entry, dict) and entry.get("role") in INSTALL_ROLES
                if installs and "vms_install" not in str(entry.get("when")):
                    missing.append(where)
            if _roles_of(node) & INSTALL_ROLES and "roles" not in node and "vms_install" not in str(node.get("when")):
                missing.append(where)
    assert missing == []


def _site(**extra):
    return valerus_split(**extra)


@pytest.mark.parametrize("value", ["install", "skip"])
def test_the_switch_takes_install_or_skip(value):
    assert [e for e in validate(_site(vms_install=value)) if e.variable == "vms_install"] == []


@pytest.mark.parametrize(("value", "hint"), [(False, "skip"), ("no", "skip"), (True, "install"),
                                             ("skipped", "skip"), ("instal", "install"), (["skip"], "skip")])
def test_a_wrong_switch_is_an_input_error_with_the_fix(value, hint):
    errors = [e for e in validate(_site(vms_install=value)) if e.variable == "vms_install"]
    assert len(errors) == 1, errors
    assert hint in errors[0].fix and errors[0].host
