"""Every plugin's DOCUMENTATION and RETURN, and every module's EXAMPLES, is YAML (ansible-doc and
ansible-lint read them; other plugins' EXAMPLES are free text, e.g. an ansible.cfg snippet).

A plain scalar holding ': ' is a mapping to YAML; ansible-lint only prints such errors and passes,
so this test is what catches them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = ("plugins/**/*.py", "lab/plugins/**/*.py", "roles/*/*_plugins/*.py", "lab/roles/*/*_plugins/*.py")
FILES = sorted({p for pattern in PATTERNS for p in ROOT.glob(pattern)})
DOCS = [(path, node.targets[0].id, node.value.value)
        for path in FILES for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN") and isinstance(node.value, ast.Constant)
        and (node.targets[0].id != "EXAMPLES" or "modules" in path.parts)]


def test_plugins_are_documented():
    documented = {path for path, name, _ in DOCS if name == "DOCUMENTATION"}
    modules = {p for p in FILES if {"modules", "inventory", "vars", "callback"} & set(p.parts)}
    assert modules <= documented, sorted(str(p.relative_to(ROOT)) for p in modules - documented)


@pytest.mark.parametrize(("path", "name", "text"), DOCS, ids=[f"{p.relative_to(ROOT)}:{n}" for p, n, _ in DOCS])
def test_documentation_is_yaml(path, name, text):
    data = yaml.safe_load(text)
    assert data, f"{path.relative_to(ROOT)}: {name} is empty"
    if name == "DOCUMENTATION":
        assert isinstance(data, dict) and ("short_description" in data or "description" in data), name
