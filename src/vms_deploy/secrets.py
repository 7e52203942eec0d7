"""Weak and default password detection for inventory secrets, and redaction of secret values.

The generic NVR seed asks for "strong, unique passwords ... at least 12 characters long" with a mix
of upper and lower case letters, numbers and symbols, and to avoid default passwords. This module
turns that advice into warnings for the passwords an inventory sets (vms_tls_pfx_password,
ansible_password, ...).

Rule for everything here: a warning names the host(s) and the variable, never the value, not even
a part or a hash of it (a short password's hash is as good as the password itself).

Used by:
- the plan compiler (warnings in plan["warnings"]) through `password_warnings(hosts)`;
- the leak tests and any output path through `secret_values` / `redact` / `leaked`.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

MIN_LENGTH = 12
# Passphrases this long pass without the character-mix rule (four random words beat "Tr0ub4dor&3").
PASSPHRASE_LENGTH = 20
REDACTED = "********"

# Variables that hold secrets: Ansible's connection/become passwords and every variable whose last
# word says password/passphrase/secret/token. `vms_tls_key_file` and similar paths are not secrets.
_CONNECTION_SECRETS = frozenset((
    "ansible_password", "ansible_pass", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_pass",
    "ansible_become_password", "ansible_winrm_password", "ansible_httpapi_pass", "ansible_httpapi_password",
    "ansible_ssh_private_key_passphrase",
))
_SECRET_NAME = re.compile(r"(^|_)(password|passwd|passphrase|secret|token|psk|private_key)$", re.IGNORECASE)
# Names that end like a secret but hold a path or a flag, never the secret itself.
_NOT_SECRET = re.compile(r"_(file|path|files|paths|length|policy|enabled|vault_id)$", re.IGNORECASE)

# Vendor and well-known defaults (compared case-insensitively). Cameras, NVRs and VMS installs ship
# with these or users pick them first; lists of breached passwords start with them too.
DEFAULT_PASSWORDS = frozenset(p.lower() for p in (
    # common defaults of NVRs, DVRs and IP cameras
    "admin", "administrator", "admin1", "admin12", "admin123", "admin1234", "admin12345", "Admin@123",
    "12345", "123456", "1234567", "12345678", "123456789", "1234567890", "1234", "4321", "54321",
    "111111", "000000", "888888", "666666", "9999", "password", "password1", "password123", "passw0rd",
    "p@ssw0rd", "p@ssword", "pass", "pass123", "root", "toor", "user", "guest", "default", "changeme",
    "change_me", "letmein", "welcome", "welcome1", "qwerty", "qwerty123", "abc123", "system", "service",
    "supervisor", "ubnt", "meinsm", "ikwd", "jvc", "wbox123", "hikvision", "dahua", "camera", "nvr", "dvr",
    # VMS names users reuse as passwords (Vicon Valerus, Milestone XProtect)
    "vicon", "vicon123", "valerus", "valerus123", "Valerus1!", "milestone", "milestone1", "xprotect",
    "xprotect1", "Milestone1!", "sa", "sql", "sqlserver",
    # Windows and Ansible examples copied verbatim
    "Password1", "Password1!", "Password123!", "P@ssw0rd", "P@ssw0rd1", "Passw0rd!", "secret", "vagrant",
    "ansible", "Secret123", "changeit", "test", "test123", "demo",
))


@functools.lru_cache(maxsize=4096)
def is_secret_variable(name: str) -> bool:
    """True when a variable name holds a secret (password, passphrase, key passphrase, token)."""
    if name in _CONNECTION_SECRETS:
        return True
    # Both patterns end at the name's end: its last 64 characters decide, in bounded time (a 5 MB name).
    tail = name[-64:]
    return bool(_SECRET_NAME.search(tail)) and not _NOT_SECRET.search(tail)


# Looser than is_secret_variable, for deciding whether a message may show a value: also catches
# misspelled names (vms_tls_pfx_pasword) and names that merely mention a secret.
# "priv", not "private": a misspelled vms_vpn_edge_privat_key is a private key too (issue 23, class 7).
_MAY_HOLD_SECRET = re.compile(r"pass|pas+w|psw|pwd|secret|token|psk|priv|credential|api_?key", re.IGNORECASE)
NOT_SHOWN = "(secret, not shown)"


def may_hold_secret(name: str) -> bool:
    """True when a message must not show the value of this variable (errors, diffs, reports)."""
    if len(name) > 256:  # no real variable is that long; searching a 5 MB name took seconds per message
        return True
    return is_secret_variable(name) or bool(_MAY_HOLD_SECRET.search(name))


def shown_value(name: str, value: Any, render=repr) -> str:
    """render(value), or NOT_SHOWN when the variable may hold a secret (or the value holds one)."""
    if may_hold_secret(name) or any(True for _ in secret_items({name: value})):
        return NOT_SHOWN
    return render(value)


def is_vaulted(value: Any) -> bool | None:
    """True when Ansible read the value from Ansible Vault, False when it was plain text in the
    inventory, None when this cannot be told (the value went through json, or ansible is missing)."""
    try:
        from ansible._internal._datatag._tags import VaultedValue
        from ansible.parsing.vault import EncryptedString
    except ImportError:  # pragma: no cover - ansible internals moved: say "unknown" rather than guess
        return None
    if isinstance(value, EncryptedString):
        return True
    if not isinstance(value, str):
        return None
    if VaultedValue.is_tagged_on(value) or from_vaulted_file(value):
        return True
    return False if type(value) is not str else None


VAULT_HEADER = b"$ANSIBLE_VAULT;"


def from_vaulted_file(value: Any) -> bool:
    """True when Ansible read the value from a file encrypted as a whole (`ansible-vault encrypt FILE`, as the
    new-site README says for group_vars/all/vault.yml). Ansible tags only that file's container, so the value
    is told by its origin: the file it was read from starts with the vault header. A `{{ vault_x }}`
    reference keeps the origin of the value it resolves to."""
    try:
        from ansible._internal._datatag._tags import Origin
    except ImportError:  # pragma: no cover - ansible internals moved
        return False
    origin = Origin.get_tag(value)
    return bool(origin and origin.path) and file_is_vaulted(origin.path)


def file_is_vaulted(path: str) -> bool:
    """The file at path is an Ansible Vault file (its first bytes are the vault header)."""
    import os

    try:
        stat = os.stat(path)
    except OSError:
        return False
    return _starts_with_vault_header(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _starts_with_vault_header(path: str, mtime_ns: int, size: int) -> bool:
    del mtime_ns, size  # part of the cache key: a file re-encrypted or decrypted is read again
    try:
        with open(path, "rb") as handle:
            return handle.read(len(VAULT_HEADER) + 8).lstrip().startswith(VAULT_HEADER)
    except OSError:
        return False


def _text(value: Any) -> str | None:
    """The secret as text; None when it is unset, a template reference or cannot be decrypted."""
    if value is None or isinstance(value, bool):
        return None
    try:
        text = str(value)
    except Exception:  # an EncryptedString without the vault password: nothing to judge
        return None
    if not text or "{{" in text or "{%" in text:
        return None
    return text


def _walk(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """(variable path, value) of every secret inside a variable (dicts like {user, password} too)."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _walk(f"{name}.{key}", value[key])
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(f"{name}[{index}]", item)
    elif is_secret_variable(name.rsplit(".", 1)[-1].split("[", 1)[0]):
        yield name, value


def secret_items(hvars: dict) -> Iterator[tuple[str, Any]]:
    """(variable path, raw value) of every secret a host's variables carry."""
    for name in sorted(hvars, key=str):
        value = hvars[name]
        if is_secret_variable(str(name)) and not isinstance(value, (dict, list, tuple)):
            yield str(name), value
        elif isinstance(value, (dict, list, tuple)):
            yield from _walk(str(name), value)


def _classes(text: str) -> int:
    return sum((any(c.islower() for c in text), any(c.isupper() for c in text),
                any(c.isdigit() for c in text), any(not c.isalnum() for c in text)))


def password_problems(value: Any, context_words: Iterable[str] = ()) -> list[str]:
    """Why a password is weak, as phrases that never quote it; [] when it is fine or not judgeable.

    context_words: names a password must not contain (site name, host name, user name, product).
    """
    text = _text(value)
    if text is None:
        return []
    if text.strip().lower() in DEFAULT_PASSWORDS:
        # One reason is enough: a default is bad whatever its length.
        return ["is a well-known default password (vendor default or top of every password list)"]
    problems = []
    if len(text) < MIN_LENGTH:
        problems.append(f"is shorter than {MIN_LENGTH} characters")
    if len(text) < PASSPHRASE_LENGTH and _classes(text) < 3:
        problems.append("mixes fewer than three of: lower case, upper case, digits, symbols")
    if len(set(text)) <= 2:
        problems.append("repeats one or two characters")
    lowered = text.lower()
    for word in sorted({str(w).lower() for w in context_words if w and len(str(w)) >= 3}):
        if word in lowered:
            problems.append("contains the site, host, user or product name")
            break
    return problems


FIX = ("choose a random password of at least 12 characters mixing upper and lower case, digits and "
       "symbols (or a passphrase of 20+ characters), set it on the device/service too, and keep it in Ansible "
       "Vault: in a file encrypted as a whole (`ansible-vault encrypt group_vars/all/vault.yml`, referenced as "
       "VARIABLE: \"{{ vault_VARIABLE }}\") or with `ansible-vault encrypt_string --name VARIABLE`")


def password_warnings(hosts: dict[str, dict], site_name: str | None = None) -> list[str]:
    """Warnings for weak/default/plain-text passwords set in the inventory.

    hosts: {host: {variable: value}} as the plan compiler gets it (values may still carry Ansible's
    vault tags, which is how plain-text secrets are found). Hosts sharing one variable with the same
    finding (group_vars) get one warning naming all of them. Values are never part of the text.
    """
    findings: dict[tuple[str, str], list[str]] = {}
    for host in sorted(hosts):
        hvars = hosts[host] or {}
        words = [host, site_name or hvars.get("vms_site"), hvars.get("ansible_user"), hvars.get("vms_product"),
                 hvars.get("ansible_host")]
        for variable, value in secret_items(hvars):
            problems = password_problems(value, words)
            if problems:
                findings.setdefault((variable, "; ".join(problems)), []).append(host)
            if _text(value) is not None and is_vaulted(value) is False:
                findings.setdefault((variable, "is stored in plain text in the inventory, not in Ansible Vault"),
                                    []).append(host)
    warnings = []
    for (variable, problem), names in sorted(findings.items(), key=lambda kv: (kv[1], kv[0])):
        who = ("host " if len(names) == 1 else "hosts ") + ", ".join(names)
        warnings.append(f"{who}: {variable} {problem}; fix: {FIX}")
    return warnings


_CONTEXT_VARIABLES = ("vms_site", "vms_product", "ansible_user", "ansible_host")
# Variables Ansible adds to every host. `groups` lists every host of the site: walking it for each
# host made the password check O(hosts^2) (30 s at 1000 recorders).
_MAGIC_VARIABLES = frozenset(("groups", "group_names", "hostvars", "ansible_facts", "vars", "environment", "omit"))


def host_secrets(hvars, template) -> dict:
    """{variable: value} of one host's secret variables (and those password_warnings compares
    against). template(value) resolves a value and raises AnsibleError when it cannot; values keep
    Ansible's vault tag, which is how a plain-text password is told from a vaulted one."""
    from ansible.errors import AnsibleError

    found = {}
    for name in sorted(hvars, key=str):
        if name in _MAGIC_VARIABLES:
            continue
        raw = hvars[name]
        if not (is_secret_variable(str(name)) or name in _CONTEXT_VARIABLES or isinstance(raw, dict)):
            continue
        try:
            value = template(raw)
        except AnsibleError:
            continue  # the plan's own vault or template error reports it
        if isinstance(value, dict) and not any(True for _ in secret_items({name: value})):
            continue
        found[str(name)] = value
    return found


def inventory_secrets(inventory, variables, loader, names=None) -> dict[str, dict]:
    """{host: {variable: value}} of host_secrets for every selected host of an Ansible inventory, for
    password_warnings. A value that cannot be decrypted is left out."""
    from ansible.template import Templar

    hosts: dict[str, dict] = {}
    selected = inventory.hosts.values() if names is None else [inventory.get_host(n) for n in names]
    for host in sorted((h for h in selected if h is not None), key=lambda h: h.name):
        hvars = variables.get_vars(host=host, include_hostvars=False)
        hosts[host.name] = host_secrets(hvars, Templar(loader=loader, variables=hvars).template)
    return hosts


# ---- redaction and leak search --------------------------------------------------------------------

def secret_values(hosts: dict[str, dict], min_length: int = 4) -> dict[str, str]:
    """{secret value: 'host variable'} of every judgeable secret (for redaction and leak searches).

    Values shorter than min_length are left out: redacting "sa" everywhere would mangle all output.
    """
    found: dict[str, str] = {}
    for host in sorted(hosts):
        for variable, value in secret_items(hosts[host] or {}):
            text = _text(value)
            if text is not None and len(text) >= min_length:
                found.setdefault(text, f"{host} {variable}")
    return found


# Secret texts this process has read (inventory.collect, and the validator on its error path): every
# message is masked with them before it is shown (errors.InputError, plan warnings). Process-wide, never
# written anywhere: a canary in any secret variable must appear in no message (issue 23, class 7), also
# when the same text sits in a variable that is shown or in a list quoted by a site-wide comparison.
# One set per source, each replaced by its next call: the inventory last read (inventory.collect) and the
# validator's last run (on its error path), so a long-lived process (a test session) never masks with the
# secrets of an inventory it read before.
_KNOWN: dict[str, frozenset[str]] = {}


def remember(texts: Iterable[str], source: str = "inventory") -> None:
    """The secret texts (at least 4 characters: shorter ones would mangle every message) of one source."""
    _KNOWN[source] = frozenset(t for t in texts if isinstance(t, str) and len(t) >= 4)


def remember_hosts(hosts: dict[str, dict], source: str = "inventory") -> None:
    """remember() every secret a {host: variables} mapping carries (secret_values)."""
    remember(secret_values(hosts), source)


def masked(text: str) -> str:
    """text with every remembered secret replaced by REDACTED."""
    if not isinstance(text, str):
        return text
    for texts in _KNOWN.values():
        if texts:
            text = redact(text, texts)
    return text


def redact(text: str, secrets: Iterable[str], mask: str = REDACTED) -> str:
    """text with every occurrence of every secret replaced by mask (longest secrets first, so a secret
    containing another is masked whole)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, mask)
    return text


def leaked(text: str | bytes, secrets: dict[str, str]) -> list[str]:
    """Labels ('host variable') of the secrets found in text; never the values themselves.

    Also looks for the common encodings a secret takes in logs: JSON/YAML-escaped and base64.
    """
    import base64

    if isinstance(text, bytes):
        data = text
    else:
        data = text.encode("utf-8", "replace")
    hits = []
    for secret, label in sorted(secrets.items(), key=lambda kv: kv[1]):
        raw = secret.encode()
        forms = {raw, base64.b64encode(raw), secret.encode("unicode_escape")}
        if any(form in data for form in forms):
            hits.append(label)
    return hits
