"""Where an inventory's YAML breaks: the file and the line (issue 20 item 8).

Ansible's parse error names neither when the broken file is a group_vars or host_vars file ("YAML parsing
failed: While parsing a quoted scalar ..."), so the CLI looks for the first inventory file that does not
compose as YAML and names its path, line and column. Composing builds no Python values, so Ansible's own
tags (!vault, !unsafe) need no constructor; vault-encrypted files are skipped (they are ciphertext).
"""
from __future__ import annotations

from pathlib import Path

YAML_SUFFIXES = ("", ".yml", ".yaml", ".json")
_VARS_DIRS = ("group_vars", "host_vars")


def _candidates(path: Path) -> list[Path]:
    base = path if path.is_dir() else path.parent
    files = [path] if path.is_file() else sorted(f for f in base.iterdir() if f.is_file()
                                                 and f.suffix in (".yml", ".yaml"))
    for name in _VARS_DIRS:
        root = base / name
        if root.is_dir():
            files += sorted(f for f in root.rglob("*") if f.is_file() and not f.name.startswith(".")
                            and f.suffix in YAML_SUFFIXES)
    return files


def locate(path: str | Path) -> str | None:
    """'FILE, line N, column C: PROBLEM' of the first inventory file that is not valid YAML, or None."""
    import yaml

    for file in _candidates(Path(path)):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text.lstrip().startswith("$ANSIBLE_VAULT"):
            continue
        try:
            for _node in yaml.compose_all(text, Loader=yaml.SafeLoader):
                pass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            return f"{file}{where}: {exc.problem or exc.context}"
        except yaml.YAMLError as exc:
            return f"{file}: {exc}"
    return None
