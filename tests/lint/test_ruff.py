"""Lint gate: ruff (configured in pyproject.toml [tool.ruff]) over the whole project's Python."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_clean():
    # The venv's ruff (pinned in requirements.txt), whatever is on PATH.
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed: run bin/setup")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "full", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
