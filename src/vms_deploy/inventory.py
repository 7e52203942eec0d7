"""Load an Ansible inventory into the plain data dict the model takes, using Ansible's own loader.

Used by the CLI, benches and tests; playbooks get the same dict from hostvars in the vms_plan
action plugin. Variables are merged exactly as Ansible merges them (group_vars, host_vars, hosts).
Vault values that cannot be decrypted become InputErrors, not tracebacks.

Untrusted mode (`load_inventory(..., untrusted=True)`, `vms-deploy plan --untrusted`) reads an
inventory someone else wrote, e.g. a change request, as data only: only the yaml and ini inventory
plugins run (never script, auto or other plugins that execute code), no value is ever templated
(so no lookup or filter runs), vault values stay encrypted, and every value that holds a Jinja
template is refused with an InputError naming the host and the variable. docs/security.md.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .checks import size_problem
from .errors import InputError, ValidationFailed, merge_errors, preview
from .memo import IdentityMemo
from .secrets import host_secrets, password_warnings

# Inventory plugins that only parse files: the others (script, auto -> any plugin named in the file,
# host_list, toml is harmless but unused) may run code or reach out, so untrusted mode never loads them.
DATA_ONLY_INVENTORY_PLUGINS = ("yaml", "ini")
JINJA_MARKERS = ("{{", "{%", "{#")
VAULTED = "(vault-encrypted)"
UNTRUSTED_TEMPLATE_PROBLEM = ("is a Jinja template; --untrusted (review mode) never evaluates templates or lookups, "
                              "so the value cannot be planned")
UNTRUSTED_TEMPLATE_FIX = ("write the literal value (no {{ }}, {% %} or {# #}) in the inventory; a template that must stay "
                          "is planned only by a trusted run (without --untrusted) after a maintainer has reviewed it")
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


def load_inventory(path: str | Path, vault_password: str | None = None, untrusted: bool = False) -> dict:
    """{"hosts": {name: vars}, "groups": {group: [hosts]}} for an inventory path.

    Raises ValidationFailed when the inventory cannot be parsed or a vault value cannot be decrypted.
    untrusted: read it as data only (module docstring); templated values become errors.
    """
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    path = Path(path)
    if not path.exists():
        raise ValidationFailed([InputError("", "inventory", str(path), "does not exist",
                                           "give the path of an inventory directory or hosts.yml")])
    oversized = oversized_files(path)
    if oversized:
        raise ValidationFailed(oversized)
    loader = DataLoader()
    if vault_password is not None:
        _use_vault_password(loader, vault_password)
    try:
        with data_only_plugins(untrusted):
            inventory = InventoryManager(loader=loader, sources=[str(path)])
        variables = VariableManager(loader=loader, inventory=inventory)
    except AnsibleError as exc:
        raise ValidationFailed([InputError("", "inventory", str(path), f"cannot be parsed ({exc.message})",
                                           "correct the YAML syntax in the inventory files")]) from None
    data, errors = collect(inventory, variables, loader, untrusted=untrusted)
    # Groups come from the inventory files here, never from a run: a vms_platform_* group is the
    # user's (validate.py refuses it; in a playbook run they are made by prechecks.yml).
    data["groups_from_files"] = True
    if errors:
        # One line for a bad group variable, as the validator reports it.
        raise ValidationFailed(merge_errors(errors, set(data["hosts"])))
    return data


# Ansible copies every value while it parses an inventory (tags on each item), so a few lines of
# YAML anchors and aliases (the "billion laughs") would keep it busy for hours before vms-deploy sees
# a value. Inventory files are therefore measured first, as YAML node graphs, with aliases counted
# as often as they would be expanded: linear time in the file, whatever it expands to.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_EXPANDED_NODES = 500_000
MAX_FILES = 5000
_VARS_DIRS = ("group_vars", "host_vars")
_SKIPPED_SUFFIXES = (".md", ".txt", ".j2", ".pem", ".key", ".crt", ".pfx", ".p12", ".lic", ".orig", ".retry", ".pyc")


MAX_DEPTH = 100


def max_depth(text: str) -> int:
    """Deepest flow-style nesting ([ and {) in text; a cheap test before composing the YAML."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _inventory_files(path: Path) -> list[Path]:
    roots = [path] if path.is_dir() else [path] + [path.parent / d for d in _VARS_DIRS]
    files: list[Path] = []
    for root in roots:
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files.extend(sorted(f for f in root.rglob("*") if f.is_file() and not f.name.startswith(".")
                                and f.suffix.lower() not in _SKIPPED_SUFFIXES))
        if len(files) > MAX_FILES:
            break
    return files[:MAX_FILES]


def _expanded_nodes(node, sizes: dict, active: set) -> int:
    """Nodes the YAML graph `node` expands to (aliases counted every time they are used)."""
    import yaml

    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:  # a recursive anchor expands without end
        return MAX_EXPANDED_NODES + 1
    active.add(key)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_nodes(child, sizes, active)
            if total > MAX_EXPANDED_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded_nodes(k, sizes, active) + _expanded_nodes(v, sizes, active)
            if total > MAX_EXPANDED_NODES:
                break
    active.discard(key)
    sizes[key] = total
    return total


def oversized_files(path: Path) -> list[InputError]:
    """InputErrors for inventory files that are too large or expand too far through YAML aliases."""
    import yaml

    class _Composer(yaml.SafeLoader):
        """Builds the node graph only: custom tags (!vault, !unsafe) need no constructor here."""

    errors = []
    fix = ("write the values out without YAML anchors and aliases (&name, *name) that multiply them, and keep "
           "inventory files small")
    for file in _inventory_files(path):
        try:
            size = file.stat().st_size
        except OSError:
            continue
        if size > MAX_FILE_BYTES:
            errors.append(InputError("", "inventory file", str(file), f"is {size} bytes, more than {MAX_FILE_BYTES}",
                                     fix))
            continue
        if file.suffix.lower() not in (".yml", ".yaml", ".json", ""):
            continue
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
            if "*" not in text and max_depth(text) < MAX_DEPTH:
                continue  # no alias to expand, no nesting to recurse into
            nodes = list(yaml.compose_all(text, Loader=_Composer))
            sizes: dict[int, int] = {}
            total = sum(_expanded_nodes(node, sizes, set()) for node in nodes if node is not None)
        except (OSError, yaml.YAMLError):
            continue  # not YAML (INI) or broken YAML: Ansible's own parser reports it
        except RecursionError:
            errors.append(InputError("", "inventory file", str(file), "nests values too deeply", fix))
            continue
        if total > MAX_EXPANDED_NODES:
            errors.append(InputError("", "inventory file", str(file),
                                     f"expands to more than {MAX_EXPANDED_NODES} values through YAML aliases", fix))
    return errors


@contextlib.contextmanager
def data_only_plugins(untrusted: bool) -> Iterator[None]:
    """While parsing an untrusted inventory, enable only the inventory plugins that parse files."""
    if not untrusted:
        yield
        return
    from ansible import constants

    saved = constants.INVENTORY_ENABLED
    constants.INVENTORY_ENABLED = list(DATA_ONLY_INVENTORY_PLUGINS)
    try:
        yield
    finally:
        constants.INVENTORY_ENABLED = saved


def collect(inventory, variables, loader, names=None, untrusted: bool = False) -> tuple[dict, list[InputError]]:
    """The data dict from an InventoryManager/VariableManager pair, and the variables that could not
    be resolved. `variables` should be a VariableManager that has seen no play: then only inventory
    variables (group_vars, host_vars, hosts) and extra vars are read, never facts or registered
    results of earlier plays. untrusted: never template, refuse templated values (module docstring)."""
    from ansible.errors import AnsibleError

    hosts: dict[str, dict] = {}
    secrets: dict[str, dict] = {}
    resolver = _DataOnly() if untrusted else _Resolver(loader)
    errors: list[InputError] = []
    inventory_dirs: dict[str, str] = {}
    # inventory.hosts, not get_hosts(): inside a play get_hosts() honours the play's host pattern.
    selected = inventory.hosts.values() if names is None else [inventory.get_host(n) for n in names]
    for host in sorted((h for h in selected if h is not None), key=lambda h: h.name):
        hvars = variables.get_vars(host=host, include_hostvars=False)
        hosts[host.name] = {}
        for name in sorted(hvars):
            if not wanted_variable(name):
                continue
            # Before anything walks it: YAML aliases can make a small file an enormous value.
            oversize = size_problem(hvars[name])
            if oversize:
                errors.append(InputError(host.name, name, preview(hvars[name]), oversize,
                                         f"give {name} a value of normal size; check the file for YAML anchors "
                                         "and aliases (&, *)"))
                continue
            try:
                hosts[host.name][name] = resolver.resolve(hvars, hvars[name])
            except AnsibleError as exc:
                errors.append(variable_error(host.name, name, exc))
            except TemplateRefused as refused:
                errors.append(InputError(host.name, name, refused.text, UNTRUSTED_TEMPLATE_PROBLEM,
                                         UNTRUSTED_TEMPLATE_FIX))
        # Relative TLS file names are found next to the inventory, as vms_cert_check finds them.
        if isinstance(hvars.get("inventory_dir"), str):
            inventory_dirs[host.name] = str.__str__(hvars["inventory_dir"])
        # Weak or plain-text passwords are judged on values that still carry Ansible's vault tag.
        secrets[host.name] = host_secrets(hvars, lambda value, hv=hvars: resolver.template(hv, value))
    groups = {name: sorted(h.name for h in group.get_hosts() if h.name in hosts)
              for name, group in inventory.groups.items() if name not in ("all", "ungrouped")}
    site = next((v.get("vms_site") for v in hosts.values() if v.get("vms_site")), None)
    warnings = password_warnings(secrets, site)
    return {"hosts": hosts, "groups": groups, "warnings": warnings, "inventory_dirs": inventory_dirs}, errors


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


class TemplateRefused(Exception):
    """An untrusted value holds a Jinja template; text is the templated string (for the message)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _template_text(value: Any) -> str | None:
    """The first string (value or key) in value that holds a Jinja marker, without templating it."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _template_text(key) if isinstance(key, str) else None
            found = found or _template_text(item)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _template_text(item)
            if found:
                return found
        return None
    if isinstance(value, str) and any(marker in value for marker in JINJA_MARKERS):
        return str.__str__(value)
    return None


def _data_only_value(value: Any) -> Any:
    """value as plain Python without templating or decrypting: vault values become VAULTED."""
    from ansible.parsing.vault import EncryptedString, VaultHelper

    if isinstance(value, EncryptedString) or VaultHelper.get_ciphertext(value, with_tags=True) is not None:
        return VAULTED
    if isinstance(value, dict):
        return {str.__str__(k) if isinstance(k, str) else k: _data_only_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_data_only_value(v) for v in value]
    if isinstance(value, str):
        return str.__str__(value)
    return plain(value)


def _has_vault(value: Any) -> bool:
    """A vault value anywhere inside (found by type, never by comparing: that would decrypt it)."""
    from ansible.parsing.vault import EncryptedString, VaultHelper

    if isinstance(value, dict):
        return any(_has_vault(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_vault(v) for v in value)
    return isinstance(value, EncryptedString) or VaultHelper.get_ciphertext(value, with_tags=True) is not None


class _DataOnly:
    """The resolver of untrusted mode: the same interface as _Resolver, and no Templar anywhere."""

    def resolve(self, hvars: dict, value: Any) -> Any:
        del hvars
        text = _template_text(value)
        if text is not None:
            raise TemplateRefused(text)
        return _data_only_value(value)

    def template(self, hvars: dict, value: Any) -> Any:
        """For password_warnings: plain values only; templated or vaulted ones are skipped (the
        AnsibleError is how host_secrets is told to leave a value out)."""
        from ansible.errors import AnsibleError

        del hvars
        if _template_text(value) is not None or _has_vault(value):
            raise AnsibleError("not judged in untrusted mode")
        return value


def variable_error(host: str, name: str, exc: Exception) -> InputError:
    text = str(getattr(exc, "message", exc))
    if "vault" in text.lower() or "decrypt" in text.lower():
        return InputError(host, name, "(vault-encrypted)", "cannot be decrypted", VAULT_FIX)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return InputError(host, name, "(template)", f"cannot be resolved: {first}",
                      "correct the Jinja2 expression or define the variables it uses")
