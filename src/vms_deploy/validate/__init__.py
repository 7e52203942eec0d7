"""Every input check, run before anything is compiled, written or touched.

`validate(data) -> list[InputError]` collects ALL problems (never stops at the first) so one run shows
the user everything to fix. Each error names the host, the variable, the bad value and the fix.

The checks are small rules, one module per concern, registered in one place (`registry.RULES`, with the
phase each runs in) and sharing one `context.Context` (the site, the error sink, the memos):

| module | rules about |
| --- | --- |
| `shape` | hosts and groups exist at all |
| `sizes` | huge or alias-expanded values |
| `names` | host names, DNS and TLS names |
| `variables` | documented names, types, list items, choices (from `spec`) |
| `site_wide` | site-wide variables equal on all hosts (or none), zone edge for the edge only, product, site |
| `addresses` | host addresses, duplicates, the public address |
| `networks` | network lists: CIDRs, the whole Internet however spelled, zones kept apart |
| `network_meaning` | networks that contradict each other or the seeds (management in the DMZ, camera sources) |
| `zones` | a host's address against its zone's networks |
| `tls` | TLS mode, lifetimes, provided certificate files |
| `tls_mode` | the one certificate switch (vms_tls_mode) and the one CA name (vms_tls_trust_file) |
| `install` | the install switch (vms_install: install, or skip on a site already installed) |
| `groups`, `features` | the product's groups and optional features |
| `ports`, `segmentation` | management port, overrides, custom services, camera ports; who may reach them |
| `forwards`, `remote_access`, `vpn`, `edge_backend` | forwards, remote access, VPN, edge backend, NAT reflection |
| `edge_device` | a FortiGate's or MikroTik's wiring (vms_edge_interfaces, vms_edge_policy_id_base) |
| `windows` | Windows installer inputs (and, after compile, each Windows host's install) |
| `windows_inputs` | how Ansible reaches the Windows hosts: WinRM kept open, winrm/psrp connections, none on Linux |
| `public_address` | the public address the router forwards from: given, and not the template's placeholder |
| `reserved` | names the playbooks own: generated groups, lab-only variables, the controller's WinRM address |
| `conflicts` | two services on one port, one router port forwarded twice |
| `port_meaning` | local-only or management ports used, forwards without internet or twice, VPN port/keys |
| `cameras` | the camera list (vms_cameras) and the camera audit's settings (docs/cameras.md) |

How to add a rule: CONTRIBUTING.md, "Adding an input check".
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..model import Site
from .groups import RUNTIME_GROUP_PREFIX, RUNTIME_GROUPS, VANTAGE_GROUP
from .names import SITE_NAME
from .networks import MAX_PUBLIC_MANAGEMENT_ADDRESSES
from .ports import CAMERA_PORT_KEYS, MAX_INSTANCES
from .runner import run, run_compiled
from .spec import (
    NETWORK_VARS,
    SITE_VARS,
    SPEC_DIR,
    SPEC_PATH,
    TYPE_WORDS,
    did_you_mean,
    inventory_spec,
    role_variables,
)
from .tls import TLS_MODES
from .vpn import VPN_PEER_KEYS

__all__ = [
    "CAMERA_PORT_KEYS", "MAX_INSTANCES", "MAX_PUBLIC_MANAGEMENT_ADDRESSES", "NETWORK_VARS", "RUNTIME_GROUPS",
    "RUNTIME_GROUP_PREFIX", "SITE_NAME", "SITE_VARS", "SPEC_DIR", "SPEC_PATH", "TLS_MODES", "TYPE_WORDS",
    "VANTAGE_GROUP", "VPN_PEER_KEYS", "did_you_mean", "inventory_spec", "role_variables", "validate",
    "windows_install_errors",
]


def validate(data: Any, extra_errors=None) -> list[InputError]:
    """Every problem in the inventory data, sorted; empty when the site compiles.

    extra_errors (e.g. undecryptable vault values found while reading hostvars) are merged in.
    The rules that need the compiled plan (windows_install_errors) are run by
    vms_deploy.pipeline.compile_plan once this returns nothing.
    """
    return run(data, extra_errors)


def windows_install_errors(site: Site, plan: dict) -> list[InputError]:
    """Once installer inputs are given, each Windows host's install must be complete (the COMPILED phase:
    windows.check_windows_install). Run on the compiled plan of a valid site."""
    return run_compiled(site, plan)
