"""Lint gates: yamllint and ansible-lint (production profile) over the whole project."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(cmd):
    if not shutil.which(cmd[0]):
        pytest.fail(f"{cmd[0]} is not installed: run bin/setup")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_yamllint_clean():
    code, out = _run(["yamllint", "--strict", "."])
    assert code == 0, out


def test_ansible_lint_production_clean():
    code, out = _run(["ansible-lint", "--profile", "production", "--nocolor"])
    assert code == 0, out
