"""Connection settings that weaken how Ansible reaches a host: plan warnings of the `host` group.

Read while the inventory is collected (inventory.collect), like the password warnings: these are
Ansible's own connection variables, not vms_* ones, so the site model never sees them.

- `ansible_winrm_server_cert_validation: ignore` (pywinrm) and `ansible_psrp_cert_validation:
  ignore` (pypsrp) turn off the check of the Windows host's WinRM certificate: anyone between the
  controller and the host can pose as it and receive the credentials and everything Ansible sends
  (docs/windows.md: validation on is the default there, never off in production).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .plan_warnings import HOST, warning

# variable -> (the weak value, why it matters, the fix)
WEAK = {
    "ansible_winrm_server_cert_validation": (
        "ignore", "the Windows host's WinRM certificate is not checked, so anyone on the path can pose as the "
        "host and receive the credentials and everything Ansible sends",
        "set ansible_winrm_server_cert_validation: validate and ansible_winrm_ca_trust_path to the CA that signed "
        "the hosts' WinRM certificates (docs/windows.md, Connecting)"),
    "ansible_psrp_cert_validation": (
        "ignore", "the Windows host's PSRP certificate is not checked, so anyone on the path can pose as the host "
        "and receive the credentials and everything Ansible sends",
        "set ansible_psrp_cert_validation: validate and ansible_psrp_ca_cert to the CA that signed the hosts' "
        "WinRM certificates (docs/windows.md, Connecting)"),
}


def host_connection(hvars: dict, template: Callable[[Any], Any]) -> dict[str, str]:
    """{variable: value} of one host's WEAK variables that are set to plain text; a value that cannot
    be templated (an error, or review mode refusing templates) is left out: the plan reports it."""
    found = {}
    for name in WEAK:
        if name not in hvars:
            continue
        try:
            value = template(hvars[name])
        except Exception:  # noqa: BLE001 - AnsibleError, or review mode's refusal: not this check's to report
            continue
        if isinstance(value, str):
            found[name] = str.__str__(value).strip().lower()
    return found


def connection_warnings(hosts: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """One host warning per weak variable, naming every host that sets it (group_vars: all of them)."""
    who: dict[str, list[str]] = {}
    for host in sorted(hosts):
        for name, value in (hosts[host] or {}).items():
            if name in WEAK and value == WEAK[name][0]:
                who.setdefault(name, []).append(host)
    out = []
    for name, names in sorted(who.items()):
        weak, why, fix = WEAK[name]
        label = ("host " if len(names) == 1 else "hosts ") + ", ".join(names)
        out.append(warning(HOST, f"{label}: {name} is {weak}: {why}", fix))
    return out


# How Ansible reaches a host: read with the inventory (inventory.collect, as data["connections"]) for the
# validator's connection rules (vms_deploy.validate.windows_inputs).
TRANSPORT_VARIABLES = ("ansible_connection", "ansible_port")
# The settings that say the inventory means to connect to the host (user, password, port, WinRM/PSRP options).
_CONNECTION_SETTING = re.compile(r"^ansible_(user|password|pass|port|connection|winrm_\w+|psrp_\w+)$")


def host_transport(hvars: dict, template: Callable[[Any], Any]) -> dict[str, Any]:
    """{ansible_connection, ansible_port, origin} of one host: each value as Ansible would use it (None when
    unset or not plain data: a template review mode refuses), and the file ansible_connection is set in."""
    found: dict[str, Any] = {name: None for name in TRANSPORT_VARIABLES}
    found["origin"] = None
    found["settings"] = sorted(str(name) for name in hvars if _CONNECTION_SETTING.match(str(name)))
    for name in TRANSPORT_VARIABLES:
        if name not in hvars:
            continue
        try:
            value = template(hvars[name])
        except Exception:  # noqa: BLE001 - AnsibleError, or review mode's refusal: not this check's to report
            continue
        if isinstance(value, str):
            found[name] = str.__str__(value).strip()
        elif isinstance(value, int) and not isinstance(value, bool):
            found[name] = int(value)
        if name == "ansible_connection":
            found["origin"] = _origin(hvars[name])
    return found


def _origin(value: Any) -> str | None:
    try:
        from ansible._internal._datatag._tags import Origin
    except ImportError:  # pragma: no cover - ansible internals moved
        return None
    origin = Origin.get_tag(value)
    return str(origin.path) if origin and origin.path else None
