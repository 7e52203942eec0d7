"""Validator plumbing: the variable reference (argument_specs), inventory loading, vault and templates."""
from __future__ import annotations

import re
import textwrap

import pytest

from conftest import EXAMPLES, EXAMPLES_DIR, ROOT, example
from vms_deploy.errors import ValidationFailed
from vms_deploy.inventory import load_inventory
from vms_deploy.validate import did_you_mean, inventory_spec, role_variables, validate

GROUP_NAMES = {"vms_app_servers", "vms_recorders", "vms_gateways", "vms_edge", "vms_event_servers",
               "vms_log_servers", "vms_sql_servers", "vms_failover_recorders", "vms_lpr_servers", "vms_onvif_bridges",
               "vms_dlna_servers", "vms_screen_recorders", "vms_incident_managers"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_inventory_is_valid(name):
    assert validate(example(name)) == []


def test_spec_documents_every_option_with_type_and_description():
    spec = inventory_spec()
    for name, opt in spec.items():
        assert name.startswith("vms_"), name
        assert opt.get("type") in ("str", "int", "bool", "list", "dict", "raw"), name
        assert opt.get("description"), name


def test_every_variable_the_package_reads_is_documented():
    spec = inventory_spec()
    used = set()
    for path in (ROOT / "src" / "vms_deploy").glob("*.py"):
        used.update(re.findall(r"[\"'](vms_[a-z_]+)[\"']", path.read_text(encoding="utf-8")))
    used -= GROUP_NAMES | {"vms_deploy"}
    used = {u for u in used if not u.startswith("vms_platform_")}
    # A variable read from the inventory but documented nowhere would be refused as unknown.
    assert used - set(spec) - role_variables() == set()


def test_every_example_variable_is_documented():
    spec = inventory_spec()
    for path in EXAMPLES_DIR.rglob("*.yml"):
        for name in re.findall(r"^\s*(vms_[a-z_]+):", path.read_text(encoding="utf-8"), re.M):
            assert name in spec or name in GROUP_NAMES, f"{path}: {name}"


def test_did_you_mean():
    assert did_you_mean("vms_client_network", ["vms_client_networks", "vms_camera_networks"]) == \
        " (did you mean vms_client_networks?)"
    assert did_you_mean("zzz", ["vms_client_networks"]) == ""


def test_load_inventory_merges_group_and_host_vars_like_ansible():
    data = load_inventory(EXAMPLES_DIR / "xprotect_distributed_dmz")
    assert data["hosts"]["xrec2"]["vms_recorder_instances"] == 2
    assert data["hosts"]["xrec2"]["vms_product"] == "xprotect"
    assert data["groups"]["vms_recorders"] == ["xrec1", "xrec2"]
    assert "all" not in data["groups"]


def _write(tmp_path, hosts: str, all_vars: str):
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "hosts.yml").write_text(textwrap.dedent(hosts), encoding="utf-8")
    (tmp_path / "group_vars" / "all.yml").write_text(textwrap.dedent(all_vars), encoding="utf-8")
    return tmp_path


HOSTS = """\
    all:
      children:
        vms_app_servers: {hosts: {a: {ansible_host: 10.1.1.1}}}
        vms_recorders: {hosts: {a: {}}}
"""


def _vault(secret: str, password: str) -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret
    blob = VaultLib([("default", VaultSecret(password.encode()))]).encrypt(secret).decode()
    return "!vault |\n" + textwrap.indent(blob, "  ")


def test_undecryptable_vault_value_names_host_and_variable(tmp_path):
    inv = _write(tmp_path, HOSTS, "vms_product: valerus\nvms_site: t\nvms_tls_pfx_password: "
                 + _vault("s3cret", "right") + "\n")
    with pytest.raises(ValidationFailed) as raised:
        load_inventory(inv)
    (err,) = raised.value.errors
    assert (err.host, err.variable, err.problem) == ("a", "vms_tls_pfx_password", "cannot be decrypted")
    assert "s3cret" not in raised.value.message() and "vault" in err.fix
    data = load_inventory(inv, vault_password="right")
    assert data["hosts"]["a"]["vms_tls_pfx_password"] == "s3cret"


def test_template_that_cannot_be_resolved_names_the_variable(tmp_path):
    inv = _write(tmp_path, HOSTS, "vms_product: valerus\nvms_site: t\nvms_client_networks: ['{{ nowhere }}']\n")
    with pytest.raises(ValidationFailed) as raised:
        load_inventory(inv)
    (err,) = raised.value.errors
    assert (err.host, err.variable) == ("a", "vms_client_networks") and "cannot be resolved" in err.problem


def test_templates_are_resolved(tmp_path):
    inv = _write(tmp_path, HOSTS, "vms_product: valerus\nvms_site: t\nnet: 10.5.0.0/24\nvms_client_networks: ['{{ net }}']\n")
    assert load_inventory(inv)["hosts"]["a"]["vms_client_networks"] == ["10.5.0.0/24"]


def test_missing_inventory_path():
    with pytest.raises(ValidationFailed, match="does not exist"):
        load_inventory("/nonexistent/inventory")


def test_inventory_doc_lists_every_variable():
    doc = (ROOT / "docs" / "inventory.md").read_text(encoding="utf-8")
    missing = [name for name in inventory_spec() if f"| `{name}` |" not in doc]
    assert not missing, f"docs/inventory.md lacks {missing}"


INVENTORIES = sorted(str(p.parent.relative_to(ROOT)) for p in (ROOT / "inventories").rglob("hosts.yml"))


@pytest.mark.parametrize("path", INVENTORIES)
def test_every_inventory_in_the_tree_validates(path):
    """Lab and example inventories alike: every vms_* variable they set is documented somewhere."""
    assert [str(e) for e in validate(load_inventory(ROOT / path))] == []


def test_variables_documented_by_other_roles_are_accepted():
    from conftest import valerus_split
    others = sorted(role_variables() - set(inventory_spec()))
    if not others:
        pytest.skip("no other role documents vms_* options yet")
    data = valerus_split()
    data["hosts"]["app"][others[0]] = "anything"
    assert validate(data) == []
    data["hosts"]["app"][others[0] + "x"] = "anything"
    assert [e.variable for e in validate(data)] == [others[0] + "x"]
