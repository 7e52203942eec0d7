"""Filters over a loaded plan: the run-time groups a host joins, and which plan a host runs."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(host_digest,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.plan_io:host_digest")
MISSING = _GLUE["MISSING"]

_BAD = re.compile(r"[^a-z0-9_]+")


def _plan(plan, name):
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    if not isinstance(plan, dict) or "hosts" not in plan:
        raise AnsibleFilterError(f"{name}: expected the plan dict (validate_inventory_plan), got {type(plan).__name__}")
    return plan


def _group(prefix, value):
    return f"vms_{prefix}_{_BAD.sub('_', str(value).lower())}"


def vms_plan_groups(plan, host):
    """plan | vms_plan_groups(host) -> the groups stages/prechecks.yml puts the host in:
    vms_plan_hosts, vms_platform_P, vms_zone_Z, vms_component_C (each component), vms_product_P and
    vms_access_A (the site's remote access: port_forward, vpn or none). [] for a host outside the plan."""
    plan = _plan(plan, "vms_plan_groups")
    entry = plan["hosts"].get(host)
    if entry is None:
        return []
    groups = ["vms_plan_hosts", _group("platform", entry.get("platform")), _group("zone", entry.get("zone")),
              _group("product", plan.get("product")), _group("access", plan.get("remote_access") or "none")]
    groups += [_group("component", c) for c in entry.get("components") or []]
    return groups


def vms_host_digest(plan, host):
    """plan | vms_host_digest(host) -> the short digest of the host's part of the plan (plan_io.host_digest)."""
    plan = _plan(plan, "vms_host_digest")
    try:
        return host_digest(plan, host)
    except KeyError as exc:
        raise AnsibleFilterError(f"vms_host_digest: {exc.args[0]}") from None


class FilterModule:
    def filters(self):
        return {"vms_plan_groups": vms_plan_groups, "vms_host_digest": vms_host_digest}
