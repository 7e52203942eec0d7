"""Kernel judge tests: need root, iproute2 (ip netns), nsenter and nft; otherwise they are skipped.

The generator of valid sites lives in tests/property/strategies.py and is shared with the
property tests.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# A package (so this conftest does not shadow tests/unit's `conftest` module in one pytest session):
# its own modules and the shared site generator go on the path here.
sys.path.insert(0, str(HERE.parent / "property"))
sys.path.insert(0, str(HERE))


def kernel_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces and nftables)"
    missing = [tool for tool in ("ip", "nft", "nsenter") if not shutil.which(tool)]
    if missing:
        return f"needs {', '.join(missing)}"
    name = f"vmsk-{os.getpid()}x0-check"
    made = subprocess.run(["ip", "netns", "add", name], check=False, capture_output=True, text=True)
    subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
    if made.returncode:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    return None


def pytest_collection_modifyitems(config, items):
    here = [item for item in items if Path(str(item.fspath)).resolve().parent == HERE]
    reason = kernel_unavailable() if here else None
    for item in here if reason else []:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def no_leftover_namespaces():
    """Every test removes its namespaces; this proves it for the whole session."""
    yield
    from netns import our_namespaces
    mine = [n for n in our_namespaces() if n.startswith(f"vmsk-{os.getpid()}x")]
    assert not mine, f"network namespaces left behind: {mine}"


def pytest_terminal_summary(terminalreporter):
    """How long the kernel judge took, per plan (docs/testing.md quotes these numbers)."""
    from netns import RUNS
    if not RUNS:
        return
    tr = terminalreporter
    total = sum(s["seconds"] for _, s in RUNS)
    tr.write_sep("-", f"kernel judge: {len(RUNS)} plans, {sum(s['probes'] for _, s in RUNS)} tuples, {total:.1f} s")
    for label, s in RUNS:
        tr.write_line(f"{s['seconds']:6.2f} s  {s['probes']:5d} tuples in {s['batches']} batch(es), "
                      f"build {s['build_seconds']:.2f} s, probing {s['probe_seconds']:.2f} s  {label}")
