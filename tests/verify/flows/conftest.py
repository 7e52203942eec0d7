"""Lab verification (Molecule verifier = testinfra): real connections from the vantage containers.

The lab inventory is inventories/lab/<scenario> (MOLECULE_SCENARIO_NAME, or VMS_LAB_INVENTORY).
The plan is compiled exactly as the deploy does (the vms_plan action, ad hoc), the expected
results come from the lab's vms_lab.flows (the evaluator, and the invariants for what must never answer), the
results from lab/probe.py run inside each vantage container through testinfra's docker backend.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from functools import cache
from pathlib import Path

import pytest
import testinfra
import yaml

ROOT = Path(__file__).resolve().parents[3]


def inventory_path() -> Path:
    if os.environ.get("VMS_LAB_INVENTORY"):
        return Path(os.environ["VMS_LAB_INVENTORY"]).resolve()
    scenario = os.environ.get("MOLECULE_SCENARIO_NAME", "all_in_one")
    return ROOT / "inventories" / "lab" / scenario


@cache
def lab_vars() -> dict:
    data: dict = {}
    for path in sorted((inventory_path() / "group_vars" / "all").glob("*.yml")):
        data.update(yaml.safe_load(path.read_text()) or {})
    return data


@cache
def compiled_plan() -> dict:
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    res = subprocess.run(["ansible", "localhost", "-i", str(inventory_path()), "-m", "vms_plan"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    try:
        out = json.loads(res.stdout)
        result = out["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise RuntimeError(f"vms_plan did not run: {res.stderr or res.stdout}") from None
    if result.get("failed"):
        raise RuntimeError(f"vms_plan failed: {result.get('msg')}")
    return result["plan"]


def container(name: str) -> str:
    return f"{lab_vars()['vms_lab_name']}-{name}"


def run_probe(vantage: str, checks: list[dict], timeout: float = 1.5) -> list[dict]:
    host = testinfra.get_host(f"docker://{container(vantage)}")
    payload = base64.b64encode(json.dumps(checks).encode()).decode()
    cmd = host.run(f"echo {payload} | base64 -d | python3 /usr/local/bin/vms-probe --timeout {timeout}")
    assert cmd.rc == 0, f"probe failed in {container(vantage)}: {cmd.stderr}"
    return json.loads(cmd.stdout)


def line(c: dict) -> str:
    from vms_lab.flows import line as vantage_line
    return vantage_line(c) + f" [{c.get('detail', '')}]"


@pytest.fixture(scope="session")
def plan() -> dict:
    return compiled_plan()


@pytest.fixture(scope="session")
def vantages() -> list[dict]:
    return list(lab_vars().get("vms_lab_vantages") or [])


@pytest.fixture(scope="session")
def all_checks(plan, vantages) -> list[dict]:
    from vms_lab.flows import vantage_checks
    return vantage_checks(plan, vantages)


@pytest.fixture(scope="session")
def results(all_checks, vantages) -> dict[str, list[dict]]:
    """One probe run per vantage (all its checks in parallel inside the container)."""
    return {v["name"]: run_probe(v["name"], [c for c in all_checks if c["vantage"] == v["name"]]) for v in vantages}
