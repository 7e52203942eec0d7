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
import os
import re
import stat as stat_module
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .checks import size_problem
from .connection_checks import connection_warnings, host_connection, host_transport
from .errors import InputError, Preview, ValidationFailed, merge_errors, preview, show_value
from .memo import IdentityMemo
from .secrets import host_secrets, may_hold_secret, password_warnings, remember_hosts

# Inventory plugins that only parse files: the others (script, auto -> any plugin named in the file,
# host_list, toml is harmless but unused) may run code or reach out, so untrusted mode never loads them.
DATA_ONLY_INVENTORY_PLUGINS = ("yaml", "ini")
JINJA_MARKERS = ("{{", "{%", "{#")
VAULTED = "(vault-encrypted)"
UNTRUSTED_TEMPLATE_PROBLEM = ("is a Jinja template; --untrusted (review mode) never evaluates templates or lookups, "
                              "so the value cannot be planned")
UNTRUSTED_TEMPLATE_FIX = ("write the literal value (no {{ }}, {% %} or {# #}) in the inventory (never a password: "
                          "those stay in Ansible Vault); a template that must stay is planned only by a trusted run "
                          "(without --untrusted) after a maintainer has reviewed it")
# A secret is never fixed by writing it out: it stays in the vault, referenced by a bare variable name.
UNTRUSTED_SECRET_FIX = ("keep the secret in Ansible Vault: in a vault-encrypted file of the host's groups (e.g. "
                        "group_vars/all/vault.yml, `ansible-vault encrypt`) referenced as VARIABLE: "
                        "\"{{ vault_VARIABLE }}\", or as an `ansible-vault encrypt_string` value; review mode reads "
                        "either as an opaque secret, any other template only in a trusted run")
# A value that is one bare variable name, e.g. "{{ vault_tls_pfx_password }}": no filter, lookup or test runs.
BARE_REFERENCE = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")
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
    refused = entry_problems(path, untrusted)
    if refused:
        raise ValidationFailed(refused)
    oversized = oversized_files(path)
    if oversized:
        raise ValidationFailed(oversized)
    loader = ReviewLoader() if untrusted else DataLoader()
    if vault_password is not None:
        _use_vault_password(loader, vault_password)
    try:
        with data_only_plugins(untrusted), skipped_by_ansible():
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
# a value. Inventory files are therefore measured first, as streams of YAML events, with an alias
# counted as often as it would be expanded: linear time in the file and memory for one event,
# whatever the file expands to. The same measure guards playbook runs: the project's inventory and
# vars plugins (plugins/inventory/vms_*.py, plugins/vars/vms_host_group_vars.py) call file_problem
# before Ansible's own parsers read a file.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_EXPANDED_NODES = 500_000
MAX_FILES = 5000
MAX_DEPTH = 100
# Hosts, not values: Ansible takes minutes and about a gigabyte for 100000 hosts that are few values each. The
# largest site the project benchmarks (bench/gen_site.py, 1000 recorders) has 1003 hosts.
MAX_HOSTS = 5000
_VARS_DIRS = ("group_vars", "host_vars")
# The files Ansible skips in an inventory directory: ansible.cfg's ignore_extensions, which load_inventory also
# gives Ansible in every mode (skipped_by_ansible), so the guard measures exactly the files Ansible parses
# (issue 23, class 6: a `.pem` holding a million INI hosts was skipped here and parsed by the review run).
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
                     ".pem", ".key", ".crt", ".cer", ".der", ".csr", ".pfx", ".p12", ".lic", ".j2", ".csv", ".html",
                     ".pdf")
ALIAS_FIX = (f"write the values out without YAML anchors and aliases (&name, *name) that multiply them: a file may "
             f"expand to at most {MAX_EXPANDED_NODES} values")
NESTING_FIX = f"nest values at most {MAX_DEPTH} levels deep (lists of mappings of lists are plenty)"
SIZE_FIX = (f"keep each inventory, group_vars and host_vars file under {MAX_FILE_BYTES // 1024 // 1024} MiB and "
            f"{MAX_EXPANDED_NODES} values: split it, or remove what the site does not use")
HOSTS_FIX = (f"an inventory may define at most {MAX_HOSTS} hosts (host ranges such as rec[0001:0900] count every "
             "host they expand to): split the site into several inventories")
TOTAL_FIX = (f"an inventory with its group_vars and host_vars may hold at most {MAX_EXPANDED_NODES} values in at "
             f"most {MAX_FILES} files: remove what the site does not use, or make it several sites")


def _skipped(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(_SKIPPED_SUFFIXES)


# What the runs write beside a site's inventory (vms_deploy.runner: plans, PKI, facts): not inventory, so
# neither measured here nor parsed by Ansible (ansible.cfg, [inventory] ignore_patterns).
RUN_FILES_DIR = "build"


def _inventory_files(path: Path) -> list[Path]:
    """The files Ansible may read for an inventory: every entry that is not a directory (a FIFO, a device or
    a symlink to one too: entry_problems refuses those before _measure would open them)."""
    roots = [path] if path.is_dir() else [path] + [path.parent / d for d in _VARS_DIRS]
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files.extend(sorted(f for f in root.rglob("*") if not f.is_dir() and not _skipped(f.name)
                                and not any(part.startswith(".") for part in f.relative_to(root).parts)
                                and f.relative_to(root).parts[0] != RUN_FILES_DIR))
        elif root.exists() or root.is_symlink():
            files.append(root)
        if len(files) > MAX_FILES:
            break
    return files[:MAX_FILES + 1]  # one more than allowed: oversized_files refuses the inventory


_KINDS = ((stat_module.S_ISFIFO, "a FIFO (named pipe)"), (stat_module.S_ISCHR, "a character device"),
          (stat_module.S_ISBLK, "a block device"), (stat_module.S_ISSOCK, "a socket"))
NOT_A_FILE_FIX = ("replace it with a regular YAML or INI file, or remove it: Ansible would open it and wait or "
                  "read without end")
OUTSIDE_FIX = ("copy the file into the inventory directory instead of linking to it: review mode (--untrusted) "
               "reads nothing outside the inventory")
SCRIPT_FIX = ("if it is data, remove the execute bit (chmod -x); an inventory script is planned only by a trusted "
              "run (without --untrusted), after a maintainer has read the script")


def not_a_file(file: Path) -> str | None:
    """What a path is when it is not a regular file (following symlinks), without opening it: a FIFO would
    block the reader, /dev/zero would never end. None for a regular file or a missing one."""
    try:
        mode = file.stat().st_mode
    except OSError:
        return None  # missing or a dangling link: Ansible reports it
    if stat_module.S_ISREG(mode) or stat_module.S_ISDIR(mode):
        return None
    kind = next((word for test, word in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file" if kind != "not a regular file" else "is not a regular file"


def _inside(file: Path, root: Path) -> bool:
    try:
        file.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _runs_as_script(file: Path) -> bool:
    """True when Ansible's script inventory plugin would run the file: executable, and a program (a #! line
    or an ELF binary; without either, running it fails and the next plugin parses it as data)."""
    if not os.access(file, os.X_OK):
        return False
    try:
        with file.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return head == b"\x7fELF" or head[:2] == b"#!"


def entry_problems(path: Path, untrusted: bool = False) -> list[InputError]:
    """InputErrors for inventory entries no parser may open: a FIFO, device or socket (also behind a symlink),
    and in review mode a symlink that leads outside the inventory, or a program Ansible's script plugin would
    run (the trusted run would plan what it prints; review mode cannot).

    From: docs/security.md, Bounded (every file is measured before a parser reads it) and "Which runs trust
    the inventory" (review mode reads data only, the inventory's own); issue 23, classes 5 and 6."""
    root = path if path.is_dir() else path.parent
    errors = []
    for file in _inventory_files(path)[:MAX_FILES]:
        where = Preview(repr(str(file)))
        kind = not_a_file(file)
        if kind:
            errors.append(InputError("", "inventory file", where, kind, NOT_A_FILE_FIX))
        elif untrusted and file != path and not _inside(file, root):
            errors.append(InputError("", "inventory file", where,
                                     f"links outside the inventory ({preview(str(file.resolve()))})", OUTSIDE_FIX))
        elif untrusted and _defines_hosts(file, path) and _runs_as_script(file):
            errors.append(InputError("", "inventory file", where,
                                     "is an executable program: a trusted run (ansible-playbook, vms-deploy without "
                                     "--untrusted) runs it as an inventory script and plans the hosts it prints, "
                                     "which review mode never runs", SCRIPT_FIX))
    if untrusted:
        for directory in (path,) if path.is_dir() else ():
            for sub in directory.rglob("*"):
                if sub.is_dir() and sub.is_symlink() and not _inside(sub, root):
                    errors.append(InputError("", "inventory directory", Preview(repr(str(sub))),
                                             f"links outside the inventory ({preview(str(sub.resolve()))})",
                                             OUTSIDE_FIX))
    return errors


@contextlib.contextmanager
def skipped_by_ansible() -> Iterator[None]:
    """While Ansible reads an inventory directory, skip the files the guard skips (_SKIPPED_SUFFIXES, the
    project's ignore_extensions), whatever configuration this process has (review mode gives Ansible an
    empty one, whose defaults would parse a `.pem` as INI)."""
    from ansible.inventory import manager

    saved = manager.IGNORED
    extra = b"|".join(re.escape(suffix.encode()) + b"$" for suffix in _SKIPPED_SUFFIXES)
    manager.IGNORED = re.compile(saved.pattern + b"|" + extra, saved.flags)
    try:
        yield
    finally:
        manager.IGNORED = saved


def yaml_problem(text: str) -> tuple[str, str] | None:
    """(problem, fix) when the YAML in text is too big to hand to Ansible's parser, or None (_yaml_values)."""
    return _yaml_values(text)[2]


_RANGE = re.compile(r"\[([^\[\]]*)\]")


def range_hosts(name: str) -> int:
    """How many hosts Ansible makes of a host name: a range such as rec[01:50] or db[a:f:2] is expanded (each range
    multiplies), anything else is one host. Never more than MAX_HOSTS + 1 (counted, not expanded)."""
    hosts = 1
    for bounds in _RANGE.findall(name) if "[" in name else ():
        parts = bounds.split(":")
        if len(parts) not in (2, 3) or not parts[1]:
            continue  # not a range (an IPv6 address, or an error Ansible reports itself)
        begin, end, step = parts[0] or "0", parts[1], parts[2] if len(parts) == 3 else "1"
        try:
            step_size = int(step)
            if begin in string.ascii_letters and end in string.ascii_letters:
                size = len(range(string.ascii_letters.index(begin), string.ascii_letters.index(end) + 1, step_size))
            else:
                size = len(range(int(begin), int(end) + 1, step_size))
        except (ValueError, OverflowError):
            continue
        hosts = min(hosts * max(size, 1), MAX_HOSTS + 1)
    return hosts


class _HostCount:
    """Hosts of one file, each name counted once (as Ansible merges a host listed in several groups): memory
    for at most MAX_HOSTS + 1 names, whatever the file holds."""

    def __init__(self):
        self.names: set[str] = set()
        self.total = 0

    def add(self, name: str | None, hosts: int = 1) -> None:
        if self.total > MAX_HOSTS or (name is not None and name in self.names):
            return
        if name is not None:
            self.names.add(name)
        self.total += hosts


def _yaml_values(text: str) -> tuple[int, int | None, tuple[str, str] | None]:
    """(values counted, hosts counted, (problem, fix) or None) for the YAML in text; hosts are None when the
    text is not one YAML mapping (the yaml inventory plugin refuses it, the ini plugin reads it).

    Counts the values (scalars, lists, mappings, keys) the text expands to, an alias as many values as
    its anchor holds, from the parser's event stream: nothing is composed or constructed, so neither
    an alias bomb nor deep nesting costs more than one pass. Hosts are the keys of every mapping that
    is the value of a `hosts:` key (an alias there, or merged into one with <<, counts the keys of its
    anchor). Raises yaml.YAMLError for text that is not YAML (for an INI file that error comes at once)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    count = 0
    aliased = False
    anchors: dict[str, int] = {}
    anchor_keys: dict[str, int] = {}  # hosts an alias of an anchored mapping adds as a `hosts:` value
    hosts = _HostCount()
    # Per open collection: [anchor, values before it, mapping?, next node is a key?, last key, role, keys]
    # role: "hosts" (a `hosts:` mapping), "merge" (the list merged into one with <<), or None.
    open_collections: list[list] = []
    roots: list[bool] = []  # per document: is it a mapping?
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)) and not open_collections:
            roots.append(isinstance(event, yaml.MappingStartEvent))
        node = isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent))
        key, role = None, None
        if node and open_collections:
            parent = open_collections[-1]
            if parent[2] and parent[3]:  # a key
                parent[3], parent[4] = False, event.value if isinstance(event, yaml.ScalarEvent) else None
                meaning = _key_problem(parent, event)
                if meaning:
                    return count, hosts.total, meaning
                weight = range_hosts(parent[4]) if parent[4] is not None else 1
                if parent[0] is not None:
                    parent[6] += weight
                if parent[5] == "hosts" and parent[4] != "<<":
                    hosts.add(parent[4], weight)
            elif parent[2]:  # a value
                parent[3], key = True, parent[4]
                if key == "hosts" and isinstance(event, yaml.MappingStartEvent):
                    role = "hosts"
                elif parent[5] == "hosts" and key == "<<" and isinstance(event, yaml.SequenceStartEvent):
                    role = "merge"
                if isinstance(event, yaml.AliasEvent) and (key == "hosts" or (parent[5] == "hosts" and key == "<<")):
                    hosts.add(None, anchor_keys.get(event.anchor, 0))
            elif parent[5] == "merge" and isinstance(event, yaml.AliasEvent):
                hosts.add(None, anchor_keys.get(event.anchor, 0))
        if isinstance(event, yaml.ScalarEvent):
            count += 1
            if "\x00" in event.value:
                return count, hosts.total, (f"holds a NUL byte (line {event.start_mark.line + 1}): no name or value "
                                            "may contain one", NUL_FIX)
            if event.anchor is not None:
                anchors[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(frame[0] == event.anchor for frame in open_collections):
                loop = f"refers to itself through the YAML alias *{event.anchor}, so it expands without end"
                return count, hosts.total, (loop, ALIAS_FIX)
            aliased = True
            count += anchors.get(event.anchor, 1)
        elif isinstance(event, yaml.CollectionStartEvent):
            open_collections.append([event.anchor, count, isinstance(event, yaml.MappingStartEvent), True, None,
                                     role, 0, set()])
            count += 1
            if len(open_collections) > MAX_DEPTH:
                return count, hosts.total, (f"nests values too deeply (more than {MAX_DEPTH} levels)", NESTING_FIX)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, started, _, _, _, frame_role, keys, _ = open_collections.pop()
            if anchor is not None:
                anchors[anchor] = count - started
                # the hosts of an anchored `hosts:` mapping are counted already: its aliases repeat them
                anchor_keys[anchor] = 0 if frame_role == "hosts" else keys
        if count > MAX_EXPANDED_NODES:
            if aliased:
                return count, hosts.total, (f"expands to more than {MAX_EXPANDED_NODES} values through YAML aliases",
                                            ALIAS_FIX)
            return count, hosts.total, (f"holds more than {MAX_EXPANDED_NODES} values", SIZE_FIX)
    return count, hosts.total if roots == [True] else None, None


MAX_HOST_NAME = 255  # a file name: Ansible's fact cache and every per-host file are named after the host
NUL_FIX = "remove the NUL byte (written \\0 or \\x00 in a quoted YAML string)"
DUPLICATE_FIX = ("keep the key once in that mapping: merge the two values (for a list, one list with every entry); "
                 "YAML keeps the last one without a word, so the first is silently dropped")


def _key_problem(frame: list, event) -> tuple[str, str] | None:
    """A mapping key that changes the file's meaning (issue 23, class 4): the same key twice in one mapping
    (the last one would win without a word, e.g. a second allow-list), or a host name too long to be a file
    name. From: docs/security.md, Hostile input class 4 (names are data)."""
    import yaml

    if not isinstance(event, yaml.ScalarEvent) or event.value == "<<":
        return None
    line = event.start_mark.line + 1
    if frame[5] == "hosts" and len(event.value) > MAX_HOST_NAME:
        return (f"names a host with {len(event.value)} characters (line {line}), more than {MAX_HOST_NAME}",
                "rename the host: letters, digits, '.', '-' and '_', at most 63 characters")
    seen = frame[7]
    if event.value in seen:
        return (f"has the key {preview(event.value)} twice in one mapping (line {line})", DUPLICATE_FIX)
    seen.add(event.value)
    return None


def text_problem(text: str) -> tuple[str, str] | None:
    """(problem, fix) when a file that is not YAML (an INI inventory) is too big: a value per host, group,
    key and value."""
    return _text_values(text)[2]


_INI_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$")


def _text_values(text: str) -> tuple[int, int, tuple[str, str] | None]:
    """(values, hosts, (problem, fix) or None) of INI text. Hosts: the first word of each line outside
    [GROUP:vars] and [GROUP:children] sections that is not a section header, each name once."""
    count = 0
    hosts = _HostCount()
    section_kind = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and stripped[0] not in "#;":
            count += 1 + stripped.count("=") * 2
            if count > MAX_EXPANDED_NODES:
                return count, hosts.total, (f"holds more than {MAX_EXPANDED_NODES} values", SIZE_FIX)
            section = _INI_SECTION.match(stripped)
            if section:
                section_kind = section.group(2)
            elif section_kind not in ("vars", "children"):
                name = stripped.split(None, 1)[0]
                hosts.add(name, range_hosts(name))
    return count, hosts.total, None


_MEASURED: dict[tuple, tuple[InputError | None, int, int]] = {}


def file_problem(file: str | Path) -> InputError | None:
    """An InputError when one inventory, group_vars or host_vars file is too big for Ansible to parse.

    Bytes first (MAX_FILE_BYTES), then values as expanded through YAML aliases (MAX_EXPANDED_NODES) and
    nesting (MAX_DEPTH), and as INI lines (text_problem). Remembered per file version (path, size,
    mtime), so a file several hosts share is read once. Hosts (MAX_HOSTS) are counted in the same pass;
    oversized_files refuses an inventory source that defines too many (a vars file defines none)."""
    return _measure(Path(file))[0]


def _measure(file: Path) -> tuple[InputError | None, int, int]:
    """(file_problem, values counted, hosts counted) of one file."""
    import yaml

    try:
        stat = file.stat()
    except OSError:
        return None, 0, 0  # Ansible reports a missing or unreadable file itself
    key = (str(file), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key in _MEASURED:
        return _MEASURED[key]
    count, hosts, problem = 0, None, None
    kind = not_a_file(file)
    if kind:  # never opened: a FIFO would block, /dev/zero never ends (the plugins' path too)
        problem = kind, NOT_A_FILE_FIX
    elif stat.st_size > MAX_FILE_BYTES:
        problem = f"is {stat.st_size} bytes, more than {MAX_FILE_BYTES}", SIZE_FIX
    else:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None, 0, 0
        # Both measures, whatever the name: Ansible offers a file every enabled plugin in turn, so INI text
        # in a .yml file still reaches the ini plugin, and INI host lines can be one valid YAML scalar.
        try:
            count, hosts, problem = _yaml_values(text)
        except yaml.YAMLError:
            pass  # not YAML (INI), or broken YAML that Ansible reports itself
        if problem is None:
            lines, ini_hosts, problem = _text_values(text)
            count = max(count, lines)
            hosts = ini_hosts if hosts is None else hosts  # INI unless one YAML mapping (the yaml plugin reads it)
    # The whole path, quoted (control characters escaped), never cut: the message must name the file.
    error = InputError("", "inventory file", Preview(repr(str(file))), *problem) if problem else None
    if len(_MEASURED) > MAX_FILES:
        _MEASURED.clear()
    _MEASURED[key] = error, count, hosts or 0
    return _MEASURED[key]


def _defines_hosts(file: Path, path: Path) -> bool:
    """True for a file Ansible reads as an inventory source: never one in group_vars or host_vars (Ansible
    skips those directories in an inventory directory and reads them with the vars plugin only)."""
    if not path.is_dir():
        return file == path
    return not any(part in _VARS_DIRS for part in file.relative_to(path).parts[:-1])


def defined_hosts(path: Path) -> int:
    """The hosts the inventory source files of path define (as oversized_files counts them, from its measure)."""
    return sum(_measure(file)[2] for file in _inventory_files(path) if _defines_hosts(file, path))


def oversized_files(path: Path, hosts_before: int = 0) -> list[InputError]:
    """InputErrors for the files of an inventory (and its group_vars/host_vars) that are too big
    (file_problem), or for the files together: at most MAX_FILES files, MAX_EXPANDED_NODES values and
    MAX_HOSTS hosts (hosts_before: those of the sources the same run has read already)."""
    files = _inventory_files(path)
    where = Preview(repr(str(path)))
    if len(files) > MAX_FILES:
        return [InputError("", "inventory", where, f"has more than {MAX_FILES} files (with its group_vars and "
                           "host_vars)", TOTAL_FIX)]
    measured = [_measure(file) for file in files]
    errors = [error for error, _, _ in measured if error is not None]
    total = sum(count for _, count, _ in measured)
    if not errors and total > MAX_EXPANDED_NODES:
        errors.append(InputError("", "inventory", where, f"holds more than {MAX_EXPANDED_NODES} values in its "
                                 f"{len(files)} files (with its group_vars and host_vars)", TOTAL_FIX))
    if errors:
        return errors
    sources = [(file, hosts) for file, (_, _, hosts) in zip(files, measured, strict=True)
               if _defines_hosts(file, path)]
    errors = [InputError("", "inventory file", Preview(repr(str(file))), f"defines more than {MAX_HOSTS} hosts",
                         HOSTS_FIX) for file, hosts in sources if hosts > MAX_HOSTS]
    if not errors and hosts_before + sum(hosts for _, hosts in sources) > MAX_HOSTS:
        files_note = f" in its {len(sources)} inventory files" if len(sources) > 1 else ""
        before = f" with the {hosts_before} hosts of the sources read before it" if hosts_before else ""
        errors.append(InputError("", "inventory", where, f"defines more than {MAX_HOSTS} hosts{files_note}{before}",
                                 HOSTS_FIX))
    return errors


def refusal(errors: list[InputError]) -> str | None:
    """file_problem errors as one message for Ansible (the project's inventory and vars plugins raise it as
    AnsibleParserError before Ansible's own parser reads the file), or None when there are none."""
    if not errors:
        return None
    return "; ".join(f"vms-deploy refused {error.variable} {show_value(error.value)} before Ansible parsed it: "
                     f"it {error.problem}. Fix: {error.fix}" for error in errors)


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
    connections: dict[str, dict] = {}
    transports: dict[str, dict] = {}
    resolver = _DataOnly(getattr(loader, "vaulted_files", ())) if untrusted else _Resolver(loader)
    errors: list[InputError] = []
    inventory_dirs: dict[str, str] = {}
    # inventory.hosts, not get_hosts(): inside a play get_hosts() honours the play's host pattern.
    selected = inventory.hosts.values() if names is None else [inventory.get_host(n) for n in names]
    for host in sorted((h for h in selected if h is not None), key=lambda h: h.name):
        hvars = variables.get_vars(host=host, include_hostvars=False)
        hosts[host.name] = {}
        for name in sorted(hvars, key=str):
            if not isinstance(name, str):
                # a YAML key that is not a string (5:, true:, null:) where a variable name belongs
                errors.append(InputError(host.name, "variable name", preview(name), "is not a string, so it names no "
                                         "variable", "remove the line, or quote the key if it was meant as a name"))
                continue
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
                                         UNTRUSTED_SECRET_FIX if may_hold_secret(name) else UNTRUSTED_TEMPLATE_FIX))
        # Relative TLS file names are found next to the inventory, as vms_cert_check finds them.
        if isinstance(hvars.get("inventory_dir"), str):
            inventory_dirs[host.name] = str.__str__(hvars["inventory_dir"])
        # Weak or plain-text passwords are judged on values that still carry Ansible's vault tag.
        secrets[host.name] = host_secrets(hvars, lambda value, hv=hvars: resolver.template(hv, value))
        connections[host.name] = host_connection(hvars, lambda value, hv=hvars: resolver.template(hv, value))
        transports[host.name] = host_transport(hvars, lambda value, hv=hvars: resolver.template(hv, value))
    groups = {name: sorted(h.name for h in group.get_hosts() if h.name in hosts)
              for name, group in inventory.groups.items() if name not in ("all", "ungrouped")}
    site = next((v.get("vms_site") for v in hosts.values() if v.get("vms_site")), None)
    remember_hosts(secrets)  # every later message is masked with them (secrets.masked)
    warnings = password_warnings(secrets, site) + connection_warnings(connections)
    return {"hosts": hosts, "groups": groups, "warnings": warnings, "inventory_dirs": inventory_dirs,
            "connections": transports}, errors


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


def _review_loader_class():
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import is_encrypted

    class _ReviewLoader(DataLoader):
        """Review mode's loader: a file encrypted as a whole (group_vars/all/vault.yml) is never decrypted; it
        reads as an empty mapping and its path is kept (vaulted_files), so a bare reference to one of its
        variables is known for an opaque secret (_DataOnly)."""

        def __init__(self):
            super().__init__()
            self.vaulted_files: list[str] = []

        def _get_file_contents(self, file_name: str) -> tuple[bytes, bool]:
            path = self.path_dwim(file_name)
            try:
                with open(path, "rb") as handle:
                    head = handle.read(64)
            except OSError:
                head = b""
            if is_encrypted(head.split(b"\n", 1)[0] + b"\n"):
                self.vaulted_files.append(path)
                return b"{}\n", False
            return super()._get_file_contents(file_name)

    return _ReviewLoader


def ReviewLoader():  # noqa: N802 - a class made on first use: ansible is imported only when an inventory is read
    """A DataLoader that never decrypts a whole-file vault (review mode)."""
    return _review_loader_class()()


def _vault_owners(paths) -> set[str]:
    """The hosts and groups whose variables the vault-encrypted files at paths hold: group_vars/NAME(.yml)
    or group_vars/NAME/*, host_vars/NAME(.yml) or host_vars/NAME/*."""
    owners = set()
    for path in paths:
        parts = Path(path).parts
        for index, part in enumerate(parts[:-1]):
            if part in _VARS_DIRS:
                name = parts[index + 1]
                owners.add(name if index + 2 < len(parts) else Path(name).stem if Path(name).suffix in
                           (".yml", ".yaml", ".json") else name)
    return owners


class _DataOnly:
    """The resolver of untrusted mode: the same interface as _Resolver, and no Templar anywhere.

    One template is data: a bare reference ("{{ vault_x }}") to a variable that a vault-encrypted value or
    file of the host holds. It runs no filter or lookup and names a secret that review mode never decrypts,
    so it reads as VAULTED, like an inline vault value."""

    def __init__(self, vaulted_files=()):
        self.vaulted_files = vaulted_files

    def _opaque_reference(self, hvars: dict, value: Any) -> bool:
        match = BARE_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            return False
        name = match.group(1)
        if name in hvars:
            return _has_vault(hvars[name])
        entities = {"all", str(hvars.get("inventory_hostname", ""))} | {str(g) for g in hvars.get("group_names", ())}
        return bool(entities & _vault_owners(self.vaulted_files))

    def resolve(self, hvars: dict, value: Any) -> Any:
        if self._opaque_reference(hvars, value):
            return VAULTED
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


# --- Where a variable is set (explain's "set at FILE:LINE"; the loader above keeps no lines) ----------------
_YAML_SUFFIXES = ("", ".yml", ".yaml", ".json")


def variable_origins(path: str | Path, host: str, variable: str, groups: list[str] | None = None) -> list[str]:
    """'file:line' of each YAML definition of `variable` that applies to `host`, highest Ansible precedence
    first: host_vars/HOST, the host's own vars in the inventory file, group_vars/GROUP (the host's groups,
    from the inventory file, or `groups`), the groups' vars in the inventory file, then group_vars/all and
    all's vars. `variable` may go down into a value: "vms_port_overrides.mobile_http.connects_from".

    A text lookup beside the loader, which keeps no line numbers: INI inventories and vault-encrypted files
    are not searched (a value set there gives no location)."""
    import yaml

    path = Path(path)
    base = path if path.is_dir() else path.parent
    keys = variable.split(".")
    inventory_files = [f for f in sorted(base.iterdir()) if f.is_file() and f.suffix in (".yml", ".yaml")] \
        if path.is_dir() else [path]
    trees = [(f, _compose(f, yaml)) for f in inventory_files]
    member = set(groups or []) | {g for _f, tree in trees for g in _groups_holding(tree, host)}
    ordered = sorted(member - {"all"}) + ["all"]
    found: list[str] = []
    for f in _vars_files(base / "host_vars", host):
        found += _lookup(f, _compose(f, yaml), keys)
    for f, tree in trees:
        for vars_node in _host_entries(tree, host):
            found += _lookup(f, vars_node, keys)
    for group in ordered:
        for f in _vars_files(base / "group_vars", group):
            found += _lookup(f, _compose(f, yaml), keys)
        for f, tree in trees:
            for vars_node in _group_vars_nodes(tree, group):
                found += _lookup(f, vars_node, keys)
    return list(dict.fromkeys(found))


def _vars_files(directory: Path, name: str) -> list[Path]:
    out = [directory / f"{name}{s}" for s in _YAML_SUFFIXES if (directory / f"{name}{s}").is_file()]
    if (directory / name).is_dir():
        out += sorted(f for f in (directory / name).rglob("*") if f.is_file() and f.suffix in (".yml", ".yaml"))
    return out


def _compose(file: Path, yaml):
    try:
        text = file.read_text(encoding="utf-8")
        if text.lstrip().startswith("$ANSIBLE_VAULT"):
            return None
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _get(node, key: str):
    if node is None or getattr(node, "tag", "") != "tag:yaml.org,2002:map":
        return None, None
    for k, v in node.value:
        if getattr(k, "value", None) == key:
            return k, v
    return None, None


def _lookup(file: Path, node, keys: list[str]) -> list[str]:
    key_node = None
    for key in keys:
        key_node, node = _get(node, key)
        if key_node is None:
            return []
    return [f"{file}:{key_node.start_mark.line + 1}"]


def _walk_groups(node, name: str = "all"):
    """(group name, group node) of an inventory file's tree (all: {hosts, vars, children: {...}})."""
    if node is None or getattr(node, "tag", "") != "tag:yaml.org,2002:map":
        return
    if name == "all" and _get(node, "all")[1] is not None:
        node = _get(node, "all")[1]
    yield name, node
    _k, children = _get(node, "children")
    if children is not None and children.tag == "tag:yaml.org,2002:map":
        for k, v in children.value:
            yield from _walk_groups(v, k.value)


def _groups_holding(tree, host: str) -> set[str]:
    return {name for name, node in _walk_groups(tree) if _get(_get(node, "hosts")[1], host)[0] is not None}


def _host_entries(tree, host: str) -> list:
    return [_get(_get(node, "hosts")[1], host)[1] for _name, node in _walk_groups(tree)
            if _get(_get(node, "hosts")[1], host)[1] is not None]


def _group_vars_nodes(tree, group: str) -> list:
    return [_get(node, "vars")[1] for name, node in _walk_groups(tree) if name == group
            and _get(node, "vars")[1] is not None]
