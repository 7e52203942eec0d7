"""Shared helpers for the site model, compiler and validation tests.

`make_site(...)` builds the plain inventory data dict (hostvars merged per host, like Ansible's
hostvars) so a test states only what matters to it; `example(name)` loads an example inventory
through Ansible's own loader.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "inventories" / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if (p / "hosts.yml").exists())
GOLDEN_PLANS = ROOT / "tests" / "golden" / "plans"
UPDATE_GOLDEN = os.environ.get("VMS_UPDATE_GOLDEN") == "1"


def make_site(groups: dict[str, list[str]], addresses: dict[str, str] | None = None,
              host_vars: dict[str, dict] | None = None, **site_vars) -> dict:
    """Inventory data: `groups` {group: [hosts]}, addresses {host: ip} (default 10.9.0.N), site_vars on every host."""
    hosts = sorted({h for members in groups.values() for h in members} | set(host_vars or {}))
    addresses = addresses or {}
    data = {"hosts": {}, "groups": {g: list(m) for g, m in groups.items()}}
    for i, host in enumerate(hosts, start=10):
        hvars = {"ansible_host": addresses.get(host, f"10.9.0.{i}")}
        hvars.update(copy.deepcopy(site_vars))
        hvars.update(copy.deepcopy((host_vars or {}).get(host, {})))
        data["hosts"][host] = hvars
    return data


def valerus_split(**overrides) -> dict:
    """Valerus: separate app server, two recorders, gateway alone (DMZ), edge with a public address."""
    site_vars = dict(vms_product="valerus", vms_site="t", vms_client_networks=["10.9.2.0/24"],
                     vms_camera_networks=["10.9.50.0/24"])
    site_vars.update(overrides)
    return make_site(
        {"vms_app_servers": ["app"], "vms_recorders": ["rec1", "rec2"], "vms_gateways": ["gw"], "vms_edge": ["edge"]},
        {"app": "10.9.1.10", "rec1": "10.9.1.21", "rec2": "10.9.1.22", "gw": "10.9.9.55", "edge": "10.9.0.1"},
        {"edge": {"vms_public_address": "100.64.0.9"}}, **site_vars)


def xprotect_dmz(**overrides) -> dict:
    site_vars = dict(vms_product="xprotect", vms_site="x", vms_client_networks=["10.8.2.0/24"],
                     vms_camera_networks=["10.8.50.0/24"], vms_remote_allowlist=["100.64.20.0/24"])
    site_vars.update(overrides)
    return make_site(
        {"vms_app_servers": ["mgmt"], "vms_recorders": ["rec1", "rec2"], "vms_failover_recorders": ["fo"],
         "vms_event_servers": ["ev"], "vms_gateways": ["mobile"], "vms_edge": ["edge"]},
        {"mgmt": "10.8.1.10", "ev": "10.8.1.11", "rec1": "10.8.1.21", "rec2": "10.8.1.22", "fo": "10.8.1.31",
         "mobile": "10.8.9.40", "edge": "10.8.0.1"},
        {"edge": {"vms_public_address": "100.64.0.8"}}, **site_vars)


def nvr_home(**overrides) -> dict:
    site_vars = dict(vms_product="generic_nvr", vms_site="n", vms_client_networks=["10.7.0.0/25"],
                     vms_public_address="100.64.0.7")
    site_vars.update(overrides)
    return make_site({"vms_recorders": ["nvr"]}, {"nvr": "10.7.0.20"},
                     {"nvr": {"vms_forwarded_services": [{"service": "nvr_https", "external_port": 8443}, "nvr_rtsp"]}},
                     **site_vars)


def rules(plan: dict, host: str, service: str | None = None, component: str | None = None) -> list[dict]:
    return [r for r in plan["hosts"][host]["inbound"]
            if (service is None or r["service"] == service) and (component is None or r["component"] == component)]


def open_ports(plan: dict, host: str, protocol: str = "tcp") -> set[int]:
    return {p for r in plan["hosts"][host]["inbound"] if r["protocol"] == protocol
            for p in range(r["ports"][0], r["ports"][1] + 1)}


def example(name: str) -> dict:
    from vms_deploy.inventory import load_inventory
    return load_inventory(EXAMPLES_DIR / name)


def compare_golden(path: Path, text: str) -> None:
    """Compare with the golden file; VMS_UPDATE_GOLDEN=1 rewrites it instead (then review the git diff)."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"golden file {path} is missing: run VMS_UPDATE_GOLDEN=1 pytest {path.name}"
    expected = path.read_text(encoding="utf-8")
    if expected != text:
        pytest.fail(f"{path.name} differs from the compiled output; if the change is intended, regenerate with "
                    f"VMS_UPDATE_GOLDEN=1 and review the diff.\n--- first difference ---\n"
                    + _first_diff(expected, text))


def _first_diff(a: str, b: str) -> str:
    import difflib
    return "\n".join(list(difflib.unified_diff(a.splitlines(), b.splitlines(), "golden", "now", lineterm=""))[:40])


@pytest.fixture
def compile_ok():
    from vms_deploy.pipeline import compile_plan
    return compile_plan


def plan_of(data: dict) -> dict:
    """Compile, and hold every compiled plan to the security invariants (issue 12: on every plan the tests compile)."""
    from vms_deploy.invariants import violations
    from vms_deploy.pipeline import compile_plan
    plan = compile_plan(data)
    broken = violations(plan)
    assert not broken, "compiled plan breaks the security invariants:\n" + "\n".join(broken[:20])
    return plan


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _keep_ansible_config():
    """An in-process `vms-deploy ... --untrusted` points ANSIBLE_CONFIG at an empty file for the rest of its
    process (cli._ignore_ansible_cfg); in the test session that would leak into later tests' playbook runs."""
    before = os.environ.get("ANSIBLE_CONFIG")
    yield
    if before is None:
        os.environ.pop("ANSIBLE_CONFIG", None)
    else:
        os.environ["ANSIBLE_CONFIG"] = before
