"""Validator plumbing: the variable reference (argument_specs), inventory loading, vault and templates."""
from __future__ import annotations

import re
import textwrap

import pytest
from conftest import EXAMPLES, EXAMPLES_DIR, ROOT, example

from vms_deploy.errors import ValidationFailed
from vms_deploy.inventory import load_inventory
from vms_deploy.validate import did_you_mean, inventory_spec, role_variables, validate

GROUP_NAMES = {"vms_vantages", "vms_app_servers", "vms_recorders", "vms_gateways", "vms_edge", "vms_event_servers",
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
    inv = _write(tmp_path, HOSTS,
                 "vms_product: valerus\nvms_site: t\nnet: 10.5.0.0/24\nvms_client_networks: ['{{ net }}']\n")
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


# --- vms_deploy.checks (issue 13): expectations from address arithmetic, not from the code ----------
def test_coverage_is_judged_on_the_union_not_the_spelling():
    import ipaddress

    from vms_deploy.checks import covers_everything
    def nets(*texts):
        return [ipaddress.ip_network(n) for n in texts]
    assert covers_everything(nets("0.0.0.0/1", "128.0.0.0/1"))
    assert covers_everything(nets("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2", "10.0.0.0/8"))
    assert not covers_everything(nets("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3"))  # 224.0.0.0/3 missing
    assert not covers_everything(nets("10.0.0.0/8"))


def test_public_addresses_counts_internet_space_only():
    import ipaddress

    from vms_deploy.checks import public_addresses
    assert public_addresses(ipaddress.ip_network("10.0.0.0/8")) == 0
    assert public_addresses(ipaddress.ip_network("8.0.0.0/8")) == 2 ** 24
    assert public_addresses(ipaddress.ip_network("100.64.0.0/24")) == 0  # carrier-grade NAT space
    # 192.0.0.0/8 minus 192.168/16, 192.0.2/24 and 192.0.0/24
    assert public_addresses(ipaddress.ip_network("192.0.0.0/8")) == 2 ** 24 - 2 ** 16 - 256 - 256


def test_wireguard_keys_and_names():
    import base64

    from vms_deploy.checks import safe_name_problem, wireguard_key_problem
    assert wireguard_key_problem(base64.b64encode(bytes(32)).decode()) is None
    assert wireguard_key_problem(base64.b64encode(bytes(31)).decode() + "=")
    assert wireguard_key_problem("A" * 43 + "=\n")
    for bad in ("hq\n", "../x", "a..b", "a b", "a;b", "", "x" * 64, "-x"):
        assert safe_name_problem(bad), bad
    for good in ("hq", "hq-01", "site.example", "a_b", "x" * 63):
        assert safe_name_problem(good) is None, good
