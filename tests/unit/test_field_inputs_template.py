"""Issue 20 item 8: the generated site is right. Every commented setting of `vms-deploy new-site` output,
uncommented, still parses; the `next:` hint and the fix hints name files that exist; WinRM certificate
validation is in the template with a pointer to the docs; a flat LAN is documented and a /32 admin address
inside the client network is accepted; a YAML error names the file and the line."""
from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest
import yaml

from vms_deploy import cli
from vms_deploy.sitegen import PRODUCTS, REMOTE_ACCESS, TOPOLOGIES, render_site

ROOT = Path(__file__).resolve().parents[2]
COMBINATIONS = [c for c in itertools.product(PRODUCTS, TOPOLOGIES, REMOTE_ACCESS)
                if not (c[0] == "generic_nvr" and c[1] == "separate_app_server")]
# A commented-out setting: "# key: value", "#   key:" or "#   - item" (prose comments are sentences).
SETTING = re.compile(r"^(?P<indent>\s*)# ?(?P<body>\s*(?:[a-z_][a-z0-9_]*:(?:\s|$)|- ).*)$")
PUBLIC = "47.21.27.216"


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _blocks(lines: list[str]) -> list[list[int]]:
    """Runs of consecutive commented settings (a commented group is uncommented as one block)."""
    blocks, current = [], []
    for index, text in enumerate(lines):
        if SETTING.match(text):
            current.append(index)
        elif current:
            blocks.append(current)
            current = []
    return blocks + ([current] if current else [])


def _uncomment(text: str) -> str:
    match = SETTING.match(text)
    return match.group("indent") + match.group("body")


@pytest.mark.parametrize("product,topology,remote", COMBINATIONS)
def test_every_commented_setting_uncommented_still_parses(product, topology, remote):
    for path, text in render_site("s1", product, topology, remote).items():
        if not path.endswith(".yml"):
            continue
        lines = text.splitlines()
        for block in _blocks(lines):
            edited = [(_uncomment(ln) if i in block else ln) for i, ln in enumerate(lines)]
            try:
                yaml.safe_load("\n".join(edited))
            except yaml.YAMLError as exc:
                pytest.fail(f"{path}: uncommenting lines {block[0] + 1}-{block[-1] + 1} breaks YAML: {exc}")


def test_the_next_hint_names_files_that_exist(tmp_path, capsys):
    code, out, err = _run(capsys, "new-site", "s1", "--product", "valerus", "--topology", "all_in_one",
                          "--dir", tmp_path)
    assert code == 0, err
    hint = next(ln for ln in out.splitlines() if ln.startswith("next:"))
    named = re.findall(r"(\S+\.yml)", hint)
    assert named
    for name in named:
        path = Path(name) if Path(name).is_absolute() or name.startswith(str(tmp_path)) else tmp_path / "s1" / name
        assert path.exists(), f"the next: hint names {name}, which new-site did not write"


def test_no_fix_text_names_a_group_vars_file_new_site_does_not_write():
    """A fix text that names group_vars/all.yml (the one-file layout of the examples) also names
    group_vars/all/main.yml, the file `new-site` writes; any other group_vars file named is one new-site writes."""
    written = set(render_site("s1", "valerus", "separate_recorders", "vpn"))
    bad = []
    for path in sorted((ROOT / "src" / "vms_deploy").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            for name in re.findall(r"group_vars/[\w/.-]+\.yml", node.value):
                if name == "group_vars/all.yml" and "group_vars/all/main.yml" in node.value:
                    continue
                if name not in written:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert bad == []


def test_winrm_certificate_validation_is_in_the_template_with_a_doc_pointer():
    files = render_site("s1", "xprotect", "separate_recorders", "port_forward")
    connection = files["group_vars/windows.yml"]
    assert yaml.safe_load(connection)["ansible_winrm_server_cert_validation"] == "validate"
    assert "docs/windows.md" in connection and "ansible_winrm_ca_trust_path" in connection
    assert (ROOT / "docs" / "windows.md").read_text().count("ansible_winrm_ca_trust_path") >= 1


def _site(tmp_path, capsys) -> Path:
    code, _, err = _run(capsys, "new-site", "s1", "--product", "valerus", "--topology", "all_in_one",
                        "--dir", tmp_path)
    assert code == 0, err
    main = tmp_path / "s1" / "group_vars" / "all" / "main.yml"
    main.write_text(main.read_text().replace("vms_public_address: 100.64.0.10", f"vms_public_address: {PUBLIC}"))
    return tmp_path / "s1"


def test_an_admin_address_inside_the_client_network_is_accepted(tmp_path, capsys):
    """A small site's admin PC sits on the client LAN: vms_management_networks is its /32."""
    site = _site(tmp_path, capsys)
    main = site / "group_vars" / "all" / "main.yml"
    main.write_text(main.read_text().replace("  - 10.20.9.0/24", "  - 10.20.2.50/32"))
    code, out, err = _run(capsys, "plan", site)
    assert code == 0, err


def test_the_flat_lan_recipe_plans(tmp_path, capsys):
    """docs/inventory.md's flat-LAN recipe (one /24 for servers, clients and cameras) plans as written."""
    doc = (ROOT / "docs" / "inventory.md").read_text()
    recipe = re.search(r"### Flat LAN.*?```yaml\n(.*?)```", doc, re.S)
    assert recipe, "docs/inventory.md has no 'Flat LAN' recipe"
    site = _site(tmp_path, capsys)
    main = site / "group_vars" / "all" / "main.yml"
    values = yaml.safe_load(main.read_text())
    for key in ("vms_client_networks", "vms_camera_networks", "vms_server_networks", "vms_management_networks"):
        values.pop(key, None)
    values.update(yaml.safe_load(recipe.group(1)))
    main.write_text("---\n" + yaml.safe_dump(values))
    hosts = site / "hosts.yml"
    hosts.write_text(hosts.read_text().replace("ansible_host: 10.20.1.10", "ansible_host: 192.168.1.10"))
    code, out, err = _run(capsys, "plan", site)
    assert code == 0, err


def test_a_yaml_error_names_the_file_and_the_line(tmp_path, capsys):
    site = _site(tmp_path, capsys)
    main = site / "group_vars" / "all" / "main.yml"
    lines = main.read_text().splitlines()
    lines.insert(5, 'vms_note: "a\\qb"')
    main.write_text("\n".join(lines) + "\n")
    code, _, err = _run(capsys, "plan", site)
    assert code == 2
    assert str(main) in err and "line 6" in err, err
