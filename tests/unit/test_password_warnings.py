"""Weak or plain-text passwords set in an inventory become plan warnings that never show the value."""
import shutil
from pathlib import Path

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.plan_warnings import line

EXAMPLE = Path(__file__).resolve().parents[2] / "inventories" / "examples" / "valerus_all_in_one"


def warning_lines(plan: dict) -> list[str]:
    """Each warning as one line: GROUP: TEXT. Fix: FIX. (vms_deploy.plan_warnings.line)."""
    return [line(w) for w in plan["warnings"]]


def _site_with(tmp_path, extra_line):
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site)
    with open(site / "group_vars" / "all.yml", "a", encoding="utf-8") as handle:
        handle.write(extra_line + "\n")
    return site


def test_default_password_in_plain_text_warns_without_value(tmp_path):
    plan = compile_plan(load_inventory(_site_with(tmp_path, "ansible_password: admin123")))
    found = [w for w in warning_lines(plan) if "ansible_password" in w]
    assert any("default password" in w for w in found), plan["warnings"]
    assert any("plain text" in w for w in found), plan["warnings"]
    assert not any("admin123" in w for w in warning_lines(plan))


def test_no_password_no_warning():
    plan = compile_plan(load_inventory(EXAMPLE))
    assert not [w for w in warning_lines(plan) if "password" in w]
