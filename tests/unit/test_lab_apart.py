"""The container lab lives apart from the product (issue 16, item 4).

The lab's own Ansible content (lab/roles, lab/plugins) and Python (lab/src/vms_lab: flow checks for
the vantages, the stand-ins' ports) are not shipped in the product's wheel, and nothing of the product
(src/vms_deploy, plugins/, roles/) imports or calls them.
"""
from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB_FILTERS = ("vms_flow_checks", "vms_flow_wrong", "vms_flow_check_line", "vms_site_vantages",
               "vms_standin_ports", "vms_lab_spec")
LAB_MODULES = ("vms_standin",)


def _product_python() -> list[Path]:
    files = [*(ROOT / "src" / "vms_deploy").rglob("*.py"), *(ROOT / "plugins").rglob("*.py"),
             *(ROOT / "roles").rglob("*.py")]
    assert len(files) > 30, "the product's Python was not found: the checks below would prove nothing"
    return files


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_wheel_holds_the_product_package_only():
    """The packages setuptools puts in the wheel, read from pyproject.toml by setuptools itself."""
    from setuptools.config.pyprojecttoml import read_configuration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = read_configuration(str(ROOT / "pyproject.toml"), expand=True, ignore_option_errors=True)
    packages = config["tool"]["setuptools"]["packages"]
    assert "vms_deploy" in packages
    assert [p for p in packages if p.split(".")[0] != "vms_deploy"] == []
    shipped = [f for p in packages for f in (ROOT / "src" / Path(*p.split("."))).glob("*.py")]
    assert shipped and not [f for f in shipped if re.search(r"standin|vantage|^lab", f.stem)]
    assert (ROOT / "lab" / "src" / "vms_lab" / "__init__.py").is_file()
    assert not (ROOT / "src" / "vms_lab").exists()


def test_product_python_imports_nothing_from_the_lab():
    found = {str(f.relative_to(ROOT)): sorted(n for n in _imports(f) if n.split(".")[0] == "vms_lab")
             for f in _product_python()}
    assert {f: names for f, names in found.items() if names} == {}


def test_product_code_defines_no_stand_in_or_flow_check_helpers():
    defined = {}
    for f in _product_python():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and re.search(r"standin|vantage|flow_check|flow_wrong", node.name):
                defined.setdefault(str(f.relative_to(ROOT)), []).append(node.name)
    assert defined == {}


def test_lab_roles_module_and_filters_live_under_lab():
    for role in ("lab", "standin_services"):
        assert (ROOT / "lab" / "roles" / role / "tasks" / "main.yml").is_file()
        assert not (ROOT / "roles" / role).exists()
    assert (ROOT / "lab" / "plugins" / "modules" / "vms_standin.py").is_file()
    assert not (ROOT / "plugins" / "modules" / "vms_standin.py").exists()
    text = (ROOT / "lab" / "plugins" / "filter" / "vms_lab_flows.py").read_text(encoding="utf-8")
    assert all(f'"{name}"' in text for name in LAB_FILTERS if name != "vms_lab_spec")


def test_product_roles_use_no_lab_filter_or_module():
    """roles/ (the product's roles) calls no lab filter or module; the product's playbooks reach the lab
    only through its two named hooks (stand-ins in a lab inventory, the verify stage)."""
    used = {}
    for f in (ROOT / "roles").rglob("*.yml"):
        text = f.read_text(encoding="utf-8")
        hits = [n for n in (*LAB_FILTERS, *LAB_MODULES, "standin_services") if re.search(rf"\b{n}\b", text)]
        if hits:
            used[str(f.relative_to(ROOT))] = hits
    assert used == {}
    stage = (ROOT / "playbooks" / "stages" / "linux_hosts.yml").read_text(encoding="utf-8")
    hook = stage[stage.index("name: standin_services"):]
    assert "when: vms_lab_interfaces is defined" in hook.split("- name:")[0]


@pytest.mark.parametrize("name", ["edge_firewall", "host_firewall"])
def test_firewall_roles_carry_no_stand_in_ports(name):
    text = "\n".join(f.read_text(encoding="utf-8") for f in (ROOT / "roles" / name).rglob("*") if f.is_file())
    assert not re.search(r"stand.?in|vms_lab", text, re.IGNORECASE)
