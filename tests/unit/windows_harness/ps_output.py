"""How ansible.windows.win_powershell returns ``$Ansible.Result`` (and ``$Ansible.Diff``) to the controller.

Mirror of ``Convert-OutputObject`` in ansible_collections/ansible/windows/plugins/modules/win_powershell.ps1
(ansible.windows 3.x): the module option ``depth`` (default 2) is how many levels of lists and dictionaries
keep their shape; a value below that depth that is not a string or a value type becomes ``[string]$value``,
so an array of strings comes back space-joined ("5985 5986": PowerShell's $OFS is a space) and a hashtable
as its type name. Issue 22, item 1: the stand-ins returned real lists at every depth.
"""
from __future__ import annotations

from typing import Any

DEFAULT_DEPTH = 2  # win_powershell.ps1: depth = @{ type = 'int'; default = 2 }


def ps_string(value: Any) -> str:
    """PowerShell's [string] conversion of a value (what the module does below the depth)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple)):
        return " ".join(ps_string(v) for v in value)  # $OFS = ' '
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return str(value)


def convert_output(value: Any, depth: int = DEFAULT_DEPTH) -> Any:
    """Convert-OutputObject -InputObject value -Depth depth."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value  # strings and value types are kept as they are, at any depth
    if depth < 0:
        return ps_string(value)
    if isinstance(value, (list, tuple)):
        return [convert_output(v, depth - 1) for v in value]
    if isinstance(value, dict):
        return {str(k): convert_output(v, depth - 1) for k, v in value.items()}
    return ps_string(value)
