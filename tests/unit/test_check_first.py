"""Dry run before the first run (issue 20, item 1): every Molecule scenario runs check mode on the freshly
created lab, before its first converge, so `site.yml --check --diff` on a site never deployed is tested
in every topology (the check after converge, where a scenario has one, stays)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


def _config(name: str) -> dict:
    return yaml.safe_load((ROOT / "molecule" / name / "molecule.yml").read_text(encoding="utf-8"))


def check_before_converge(sequence: list[str]) -> bool:
    """check right after create (and prepare, when the scenario has one), before the first converge."""
    if "create" not in sequence or "converge" not in sequence or "check" not in sequence:
        return False
    ready = sequence.index("prepare") if "prepare" in sequence else sequence.index("create")
    return sequence.index("check") == ready + 1 and sequence.index("check") < sequence.index("converge")


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_checks_the_fresh_lab_first(name):
    assert check_before_converge(_config(name)["scenario"]["test_sequence"]), name


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_runs_with_the_run_directory(name):
    """The scenarios name their callbacks (they do not read ansible.cfg): the run directory is one of them."""
    text = (ROOT / "molecule" / name / "molecule.yml").read_text(encoding="utf-8")
    assert "vms_run_dir" in text, name


def test_the_sequence_check_sees_a_late_check():
    assert not check_before_converge(["destroy", "create", "converge", "idempotence", "check", "verify"])
    assert check_before_converge(["destroy", "create", "check", "converge", "check", "verify"])
    assert not check_before_converge(["create", "check", "prepare", "converge"])
