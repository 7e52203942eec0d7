"""Load an Ansible inventory into the plain data dict the model takes, using Ansible's own loader.

Used by the CLI, benches and tests; playbooks get the same dict from hostvars in the vms_plan
action plugin. Variables are merged exactly as Ansible merges them (group_vars, host_vars, hosts).
Vault values that cannot be decrypted become InputErrors, not tracebacks.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError, ValidationFailed
from .memo import IdentityMemo
from .secrets import host_secrets, password_warnings

VAULT_FIX = ("give the vault password (--ask-vault-pass or --vault-id), or re-encrypt the value with "
             "the site's vault password (ansible-vault encrypt_string)")


def wanted_variable(name: str) -> bool:
    """Variables the site model reads: all vms_* plus the connection address."""
    return name.startswith("vms_") or name == "ansible_host"


def plain(value: Any) -> Any:
    """Ansible's tagged/lazy containers and strings as plain Python (so yaml/json can dump them)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def load_inventory(path: str | Path, vault_password: str | None = None) -> dict:
    """{"hosts": {name: vars}, "groups": {group: [hosts]}} for an inventory path.

    Raises ValidationFailed when the inventory cannot be parsed or a vault value cannot be decrypted.
    """
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    path = Path(path)
    if not path.exists():
        raise ValidationFailed([InputError("", "inventory", str(path), "does not exist",
                                           "give the path of an inventory directory or hosts.yml")])
    loader = DataLoader()
    if vault_password is not None:
        _use_vault_password(loader, vault_password)
    try:
        inventory = InventoryManager(loader=loader, sources=[str(path)])
        variables = VariableManager(loader=loader, inventory=inventory)
    except AnsibleError as exc:
        raise ValidationFailed([InputError("", "inventory", str(path), f"cannot be parsed ({exc.message})",
                                           "correct the YAML syntax in the inventory files")]) from None
    data, errors = collect(inventory, variables, loader)
    if errors:
        raise ValidationFailed(errors)
    return data


def collect(inventory, variables, loader, names=None) -> tuple[dict, list[InputError]]:
    """The data dict from an InventoryManager/VariableManager pair, and the variables that could not
    be resolved. `variables` should be a VariableManager that has seen no play: then only inventory
    variables (group_vars, host_vars, hosts) and extra vars are read, never facts or registered
    results of earlier plays."""
    from ansible.errors import AnsibleError

    hosts: dict[str, dict] = {}
    secrets: dict[str, dict] = {}
    resolver = _Resolver(loader)
    errors: list[InputError] = []
    # inventory.hosts, not get_hosts(): inside a play get_hosts() honours the play's host pattern.
    selected = inventory.hosts.values() if names is None else [inventory.get_host(n) for n in names]
    for host in sorted((h for h in selected if h is not None), key=lambda h: h.name):
        hvars = variables.get_vars(host=host, include_hostvars=False)
        hosts[host.name] = {}
        for name in sorted(hvars):
            if not wanted_variable(name):
                continue
            try:
                hosts[host.name][name] = resolver.resolve(hvars, hvars[name])
            except AnsibleError as exc:
                errors.append(variable_error(host.name, name, exc))
        # Weak or plain-text passwords are judged on values that still carry Ansible's vault tag.
        secrets[host.name] = host_secrets(hvars, lambda value, hv=hvars: resolver.template(hv, value))
    groups = {name: sorted(h.name for h in group.get_hosts() if h.name in hosts)
              for name, group in inventory.groups.items() if name not in ("all", "ungrouped")}
    site = next((v.get("vms_site") for v in hosts.values() if v.get("vms_site")), None)
    warnings = password_warnings(secrets, site)
    return {"hosts": hosts, "groups": groups, "warnings": warnings}, errors


def _use_vault_password(loader, password: str) -> None:
    """Make `password` the vault secret. ansible-core 2.19 keeps vault secrets in one process-wide
    context (initialised once by the CLI), so replace its secrets when it already exists."""
    from ansible.parsing.vault import VaultSecret, VaultSecretsContext

    secrets = [("default", VaultSecret(password.encode()))]
    loader.set_vault_secrets(secrets)
    context = VaultSecretsContext.current(optional=True)
    if context is None:
        VaultSecretsContext.initialize(VaultSecretsContext(secrets))
    else:
        context.secrets = secrets


def _needs_templar(value: Any) -> bool:
    """True when templating can change the value: a Jinja marker or a vault-encrypted string inside."""
    from ansible.parsing.vault import EncryptedString, VaultHelper

    if isinstance(value, dict):
        return any(_needs_templar(k) or _needs_templar(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_needs_templar(v) for v in value)
    if isinstance(value, EncryptedString) or VaultHelper.get_ciphertext(value, with_tags=True) is not None:
        return True
    if isinstance(value, str):
        return "{{" in value or "{%" in value or "{#" in value
    return not isinstance(value, (bool, int, float, type(None)))


class _Resolver:
    """Templates inventory values for one collect() run. group_vars values are one object shared by
    every host of the group, so each object is inspected and converted once (memo.IdentityMemo).
    Without this a 1000-host site walks its
    200 client networks 1000 times."""

    def __init__(self, loader):
        self.loader = loader
        self._needs = IdentityMemo()
        self._plain = IdentityMemo()

    def needs_templar(self, value: Any) -> bool:
        return self._needs.get(_needs_templar, value)

    def template(self, hvars: dict, value: Any) -> Any:
        """value templated with the host's variables (vault tags kept), or value itself when
        templating cannot change it (the Templar would walk every element of a list)."""
        from ansible.template import Templar

        if not self.needs_templar(value):
            return value
        return Templar(loader=self.loader, variables=hvars).template(value)

    def resolve(self, hvars: dict, value: Any) -> Any:
        """template() as plain Python; the plain copy of a shared value is shared too (hosts only read it)."""
        if self.needs_templar(value):
            return plain(self.template(hvars, value))
        return self._plain.get(plain, value)


def variable_error(host: str, name: str, exc: Exception) -> InputError:
    text = str(getattr(exc, "message", exc))
    if "vault" in text.lower() or "decrypt" in text.lower():
        return InputError(host, name, "(vault-encrypted)", "cannot be decrypted", VAULT_FIX)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return InputError(host, name, "(template)", f"cannot be resolved: {first}",
                      "correct the Jinja2 expression or define the variables it uses")
