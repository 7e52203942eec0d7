"""vms_nft_table's DOCUMENTATION, EXAMPLES and RETURN parse (ansible-doc shows them) and match its code."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "vms_nft_table.py"
TREE = ast.parse(MODULE.read_text(encoding="utf-8"))
STRINGS = {node.targets[0].id: node.value.value for node in TREE.body
           if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
           and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")}


def _argument_spec() -> dict[str, dict]:
    """The argument_spec=dict(name=dict(type=..., default=..., choices=...)) given to AnsibleModule."""
    for node in ast.walk(TREE):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AnsibleModule":
            spec = next(k.value for k in node.keywords if k.arg == "argument_spec")
            return {k.arg: {kk.arg: ast.literal_eval(kk.value) for kk in k.value.keywords} for k in spec.keywords}
    raise AssertionError("no AnsibleModule(argument_spec=...) call found")


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(STRINGS["DOCUMENTATION"])
    assert doc["module"] == "vms_nft_table"
    spec = _argument_spec()
    assert set(doc["options"]) == set(spec)
    for name, option in doc["options"].items():
        assert option["type"] == spec[name]["type"], name
        assert option.get("default") == spec[name].get("default"), name
        assert option.get("choices") == spec[name].get("choices"), name


def test_examples_and_return_parse():
    examples = yaml.safe_load(STRINGS["EXAMPLES"])
    assert examples and all("vms_nft_table" in task for task in examples)
    returned = yaml.safe_load(STRINGS["RETURN"])
    assert {"drift", "in_sync", "listing", "sha256", "management_connection"} <= set(returned)
