"""Golden files for the Windows path: for every example inventory and every Windows host, the exact
module parameters and script input the Windows roles render from the plan.

Compare by default; regenerate with:  VMS_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_windows_golden.py
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.plan_io import host_digest
from vms_deploy.render import windows_certificates as certs
from vms_deploy.render import windows_firewall as firewall
from vms_deploy.render import windows_install as install
from vms_deploy.render import xprotect_args

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/: scripts at the top of the checkout
from bench.windows_round_trips import round_trips  # noqa: E402 - a bench measure kept in the golden files

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "windows"
EXAMPLES = sorted(p for p in (ROOT / "inventories" / "examples").iterdir() if p.is_dir())
SETTINGS = yaml.safe_load((GOLDEN / "settings.yml").read_text(encoding="utf-8"))
UPDATE = os.environ.get("VMS_UPDATE_GOLDEN") == "1"


def _plan(example: Path) -> dict:
    return compile_plan(load_inventory(example))


def _windows_hosts(plan: dict) -> list[str]:
    return sorted(h for h, e in plan["hosts"].items() if e.get("platform") == "windows")


def render_host(plan: dict, host: str) -> dict:
    """Everything the Windows roles hand to modules for one host (same functions the filters call)."""
    s = SETTINGS
    out: dict = {"host": host, "product": plan["product"]}
    out["prechecks"] = {
        "summary": install.host_summary(plan, host, s["vms_win_packages"]),
        "port_checks": install.port_checks(plan, host),
    }
    out["install"] = install.install_plan(plan, host, s["vms_win_packages"], s["vms_win_installer_source"],
                                          license_file=s["vms_win_xprotect_license_file"])
    out["port_changes"] = install.port_changes(plan, host)
    out["firewall"] = {
        "module": "ansible.windows.win_powershell",
        "params": {"path": "Set-VmsFirewallRuleGroup.ps1", "error_action": "stop",
                   "parameters": firewall.script_parameters(plan, host, 5986, digest=host_digest(plan, host))},
        # A first run on a host with no rule of the group yet: everything is added.
        "first_run": {k: ([r["name"] for r in v] if k == "add" else v)
                      for k, v in firewall.reconcile([], firewall.rules_for_host(plan, host, 5986)).items()},
    }
    components = out["install"]["components"]
    if plan["product"] == "xprotect" and components:
        base = (GOLDEN / s["vms_win_xprotect_args_base"]).read_text(encoding="utf-8")
        out["xprotect_arguments_xml"] = xprotect_args.render_arguments(
            plan, host, base, s["vms_win_xprotect_component_elements"], s["vms_win_xprotect_settings"]).splitlines()
    if plan["product"] == "xprotect":
        out["certificates"] = {"checks": certs.xprotect_cert_targets(components),
                               "needs_certificate": certs.needs_certificate(plan, host),
                               "site_ca": certs.needs_site_ca(plan, host),
                               "encryption": certs.encryption_parameters(
                                   plan, host, s["site_thumbprint"], r"C:\Program Files\Milestone\Server Configurator"
                                   r"\ServerConfigurator.exe", "NT AUTHORITY\\NETWORK SERVICE")}
    if plan["product"] == "valerus":
        port = certs.valerus_web_proxy_port(plan, host)
        out["certificates"] = {
            "web_proxy_port": port,
            "binding": None if port is None else certs.valerus_binding_plan(
                s["current_iis_bindings"], s["site_thumbprint"], port=port),
            "binding_swap": None if port is None else certs.binding_swap_plan(
                s["current_iis_bindings"], {certs.http_sys_key("*",
                                                               port): s["current_iis_bindings"][0]["certificate_hash"]},
                s["site_thumbprint"], port),
            "binding_script": None if port is None else certs.binding_parameters("Valerus Web Proxy", port,
                                                                                 s["site_thumbprint"]),
            "binding_rerun": None if port is None else certs.valerus_binding_plan(
                [{"ip": "*", "port": port, "hostname": "", "protocol": "https",
                  "certificate_hash": s["site_thumbprint"]}], s["site_thumbprint"], port=port),
        }
        if "gateway" in plan["hosts"][host]["components"]:
            out["gateway"] = install.gateway_registration(plan, host)
    return out


def render_example(example: Path) -> dict:
    plan = _plan(example)
    hosts = _windows_hosts(plan)
    return {
        "example": example.name,
        "round_trips": round_trips(plan),
        "hosts": {h: render_host(plan, h) for h in hosts},
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_windows_golden(example):
    got = json.dumps(render_example(example), indent=2, sort_keys=True) + "\n"
    path = GOLDEN / f"{example.name}.json"
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run VMS_UPDATE_GOLDEN=1 python -m pytest {__file__}"
    assert got == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from the rendering; if the change is intended run "
        f"VMS_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_windows_golden.py and review the diff")


def test_every_golden_file_has_an_example():
    stale = sorted(p.name for p in GOLDEN.glob("*.json") if not (ROOT / "inventories" / "examples" / p.stem).is_dir())
    assert not stale, f"golden files without an example inventory: {stale}"


def test_a_windows_example_exists_for_each_product():
    products = {}
    for example in EXAMPLES:
        plan = _plan(example)
        if _windows_hosts(plan):
            products.setdefault(plan["product"], []).append(example.name)
    assert {"valerus", "xprotect"} <= set(products), products
