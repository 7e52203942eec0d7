"""vms_deploy.secrets: weak/default password warnings that never quote the value; redaction; leak search."""
import base64
import json
import subprocess
import sys

import pytest

from vms_deploy import secrets

STRONG = "q7#Lm2!vRz9@Tp"


@pytest.mark.parametrize("name", [
    "ansible_password", "ansible_become_pass", "ansible_ssh_pass", "vms_tls_pfx_password",
    "vms_tls_key_passphrase", "vms_tls_ca_passphrase", "vms_xprotect_service_password", "vms_vpn_psk",
    "vms_api_token", "vms_recorder_secret",
])
def test_secret_variable_names(name):
    assert secrets.is_secret_variable(name)


@pytest.mark.parametrize("name", [
    "ansible_host", "ansible_user", "vms_tls_key_file", "vms_tls_pfx_path", "vms_site", "vms_password_file",
    "vms_passwords_enabled", "vms_tls_pfx_file", "vms_secret_path",
])
def test_not_secret_variable_names(name):
    assert not secrets.is_secret_variable(name)


@pytest.mark.parametrize("value", ["admin", "ADMIN", "12345", "123456", "password", "Password1!", "P@ssw0rd",
                                   "vicon", "Valerus1!", "milestone", "888888", " admin "])
def test_vendor_defaults_detected(value):
    problems = secrets.password_problems(value)
    assert problems == ["is a well-known default password (vendor default or top of every password list)"]


def test_short_password_detected():
    assert "is shorter than 12 characters" in secrets.password_problems("Xy7#abcd")


def test_low_variety_detected():
    problems = secrets.password_problems("abcdefghijklmnop")
    assert problems == ["mixes fewer than three of: lower case, upper case, digits, symbols"]


def test_long_passphrase_passes_without_symbols():
    assert secrets.password_problems("correct horse battery staple") == []


def test_repeated_characters_detected():
    assert "repeats one or two characters" in secrets.password_problems("aA" * 12)


def test_context_words_detected():
    problems = secrets.password_problems("Riverside-Plant#2026", ["riverside"])
    assert problems == ["contains the site, host, user or product name"]


def test_strong_password_passes():
    assert secrets.password_problems(STRONG, ["demo", "app1", "Administrator"]) == []


@pytest.mark.parametrize("value", [None, "", True, "{{ vault_admin_password }}", "{% if x %}a{% endif %}"])
def test_unjudgeable_values_skipped(value):
    assert secrets.password_problems(value) == []


def test_warnings_name_host_and_variable_never_value():
    hosts = {
        "app1": {"vms_site": "demo", "ansible_password": "admin", "vms_tls_pfx_password": STRONG},
        "rec1": {"vms_site": "demo", "ansible_password": "admin"},
        "rec2": {"vms_site": "demo", "ansible_become_pass": "Sh0rt!x"},
    }
    warnings = secrets.password_warnings(hosts)
    assert len(warnings) == 2
    assert warnings[0].startswith("hosts app1, rec1: ansible_password is a well-known default password")
    assert warnings[1].startswith("host rec2: ansible_become_pass is shorter than 12 characters")
    text = "\n".join(warnings)
    for value in ("admin;", "admin ", "Sh0rt!x", STRONG):
        assert value not in text
    assert "ansible-vault encrypt_string" in text


def test_nested_secret_found():
    hosts = {"app1": {"vms_xprotect_service_account": {"user": "svc", "password": "123456"}}}
    warnings = secrets.password_warnings(hosts)
    assert len(warnings) == 1
    assert warnings[0].startswith("host app1: vms_xprotect_service_account.password is a well-known default")
    assert "123456" not in warnings[0]


def test_no_warnings_for_good_site():
    assert secrets.password_warnings({"app1": {"vms_site": "demo", "ansible_password": STRONG}}) == []


def _inventory_vars(tmp_path, vault_line):
    """hostvars of a one-host inventory read through Ansible, as vms_plan sees them (run in a child
    process: ansible keeps vault secrets process-wide)."""
    code = f"""
import json, sys
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret, VaultSecretsContext
from ansible.template import Templar
from ansible.vars.manager import VariableManager
from vms_deploy import secrets
loader = DataLoader()
s = [("default", VaultSecret(b"unit-test-vault"))]
loader.set_vault_secrets(s); VaultSecretsContext.initialize(VaultSecretsContext(s))
inv = InventoryManager(loader=loader, sources=[{str(tmp_path / 'hosts.yml')!r}])
hv = VariableManager(loader=loader, inventory=inv).get_vars(host=inv.get_host("h1"), include_hostvars=False)
t = Templar(loader=loader, variables=hv)
hosts = {{"h1": {{k: t.template(hv[k]) for k in ("ansible_password", "vms_tls_pfx_password")}}}}
print(json.dumps(secrets.password_warnings(hosts)))
"""
    vault_file = tmp_path / "vpw"
    vault_file.write_text("unit-test-vault\n")
    enc = subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", str(vault_file),
                          "--name", "vms_tls_pfx_password", STRONG], capture_output=True, text=True, check=True)
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    h1:\n      ansible_password: " + vault_line + "\n      "
        + enc.stdout.strip().replace("\n", "\n      ") + "\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def test_plain_text_secret_in_inventory_warned(tmp_path):
    warnings = _inventory_vars(tmp_path, "'" + STRONG + "'")
    # ansible_password is in plain text: warned; the vaulted vms_tls_pfx_password is not.
    assert len(warnings) == 1
    assert warnings[0].startswith("host h1: ansible_password is stored in plain text in the inventory")
    assert STRONG not in warnings[0]


def test_inventory_secrets_through_ansible(tmp_path):
    """The helper vms_plan uses: reads an inventory with Ansible, finds weak, default and plain-text
    secrets, keeps vaulted good ones quiet, and never puts a value in a warning."""
    vault_file = tmp_path / "vpw"
    vault_file.write_text("unit-test-vault\n")
    enc = subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", str(vault_file),
                          "--name", "vms_tls_pfx_password", STRONG], capture_output=True, text=True, check=True)
    weak = subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", str(vault_file),
                           "--name", "ansible_become_password", "12345"], capture_output=True, text=True, check=True)
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(enc.stdout + weak.stdout)
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    rec1:\n      ansible_password: 'Riverside-site-2026!'\n"
                                        "      vms_site: riverside\n    rec2: {vms_site: riverside}\n")
    code = f"""
import json
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret, VaultSecretsContext
from ansible.vars.manager import VariableManager
from vms_deploy import secrets
loader = DataLoader()
s = [("default", VaultSecret(b"unit-test-vault"))]
loader.set_vault_secrets(s); VaultSecretsContext.initialize(VaultSecretsContext(s))
inv = InventoryManager(loader=loader, sources=[{str(tmp_path / 'hosts.yml')!r}])
found = secrets.inventory_secrets(inv, VariableManager(loader=loader, inventory=inv), loader)
print(json.dumps(secrets.password_warnings(found)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    warnings = json.loads(out.stdout)
    assert [w.split(";")[0] for w in warnings] == [
        "host rec1: ansible_password contains the site, host, user or product name",
        "host rec1: ansible_password is stored in plain text in the inventory, not in Ansible Vault",
        "hosts rec1, rec2: ansible_become_password is a well-known default password (vendor default or top of "
        "every password list)",
    ]
    assert not any(v in out.stdout for v in ("12345", "Riverside-site-2026!", STRONG))


def test_redact_masks_longest_first():
    text = "user admin password admin123 and admin"
    assert secrets.redact(text, ["admin", "admin123"]) == "user ******** password ******** and ********"


def test_secret_values_and_leak_search():
    hosts = {"app1": {"ansible_password": STRONG, "vms_tls_pfx_password": "sa", "vms_site": "demo"}}
    values = secrets.secret_values(hosts)
    assert values == {STRONG: "app1 ansible_password"}  # "sa" is too short to search for
    assert secrets.leaked("nothing here", values) == []
    assert secrets.leaked(f"pw={STRONG}", values) == ["app1 ansible_password"]
    assert secrets.leaked(json.dumps({"pw": STRONG}).encode(), values) == ["app1 ansible_password"]
    assert secrets.leaked(base64.b64encode(STRONG.encode()), values) == ["app1 ansible_password"]

