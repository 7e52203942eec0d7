"""docs/inventory-reference.md is generated from roles/*/meta/argument_specs.yml and must be current."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("gen_inventory_doc", ROOT / "tools" / "gen_inventory_doc.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def test_reference_is_up_to_date():
    current = (ROOT / "docs" / "inventory-reference.md").read_text()
    assert current == gen.render(), "docs/inventory-reference.md is stale: run python3 tools/gen_inventory_doc.py"


def test_every_inventory_variable_and_role_is_documented():
    text = gen.render()
    spec = yaml.safe_load((ROOT / "roles" / "validate_inventory" / "meta" / "argument_specs.yml").read_text())
    for name in spec["argument_specs"]["inventory"]["options"]:
        assert f"| `{name}` |" in text
    for path in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        assert f"### `{path.parent.parent.name}`" in text


def test_render_from_a_spec(tmp_path):
    role = tmp_path / "roles" / "demo" / "meta"
    role.mkdir(parents=True)
    (role / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": {"main": {
        "short_description": "Demo role.",
        "options": {"demo_port": {"type": "int", "default": 8080, "description": "A | pipe\nand a newline."},
                    "demo_mode": {"type": "str", "choices": ["a", "b"], "required": True, "description": "Mode."},
                    "demo_list": {"type": "list", "elements": "str", "default": ["x"], "description": "List."}}}}}))
    text = gen.render(tmp_path)
    assert "### `demo` (entry point `main`)" in text
    assert "| `demo_port` | int | `8080` |  | A \\| pipe and a newline. |" in text
    assert "| `demo_mode` | str | required | `a`, `b` | Mode. |" in text
    assert "| `demo_list` | list of str | `[x]` |  | List. |" in text


def test_check_mode_detects_a_stale_file(tmp_path):
    stale = tmp_path / "ref.md"
    stale.write_text("old\n")
    assert gen.main(["--check", "--output", str(stale)]) == 1
    assert gen.main(["--output", str(stale)]) == 0
    assert gen.main(["--check", "--output", str(stale)]) == 0
