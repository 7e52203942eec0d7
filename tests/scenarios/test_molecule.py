"""Each Molecule scenario is one test: real containers, real networks, real packets.

A scenario runs its full sequence (create, converge, idempotence, check, verify, destroy);
see molecule/<name>/molecule.yml. VMS_SKIP_LAB=1 skips them (unit work on a machine without Docker).
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


@pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1")
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario):
    started = time.monotonic()
    proc = subprocess.run(
        ["molecule", "test", "-s", scenario],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
    )
    took = time.monotonic() - started
    print(f"molecule scenario {scenario}: exit {proc.returncode} in {took:.0f}s")
    if proc.returncode != 0:
        # The tail holds the failing task and molecule's own summary.
        pytest.fail(f"molecule test -s {scenario} failed (exit {proc.returncode}):\n"
                    + (proc.stdout + proc.stderr)[-20000:])
