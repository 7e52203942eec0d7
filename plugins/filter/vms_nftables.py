"""Filters that render nftables tables from the plan (thin wrappers over vms_deploy.render)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

try:
    from vms_deploy.render.nft_common import RenderError
    from vms_deploy.render.nftables_edge import render_edge_ruleset
    from vms_deploy.render.nftables_host import render_host_ruleset
    IMPORT_ERROR = None
except ImportError as exc:  # the controller lacks the package: say how to fix it, not a traceback
    IMPORT_ERROR = exc

MISSING = "the vms_deploy Python package is not installed: run bin/setup (or pip install -e .)"


def _call(func, *args):
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    plan = args[0]
    if isinstance(plan, dict) and "plan" in plan and "hosts" not in plan:
        plan = plan["plan"]  # accept the registered vms_plan result as well as the plan itself
    if not isinstance(plan, dict) or "hosts" not in plan:
        raise AnsibleFilterError(f"{func.__name__}: expected the plan dict from the vms_plan action, got "
                                 f"{type(plan).__name__}")
    try:
        return func(plan, *args[1:])
    except (RenderError, KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"{func.__name__}: {exc}") from None


def vms_nft_host_ruleset(plan, host):
    """plan | vms_nft_host_ruleset(host) -> text of the host's `table inet vms_deploy`."""
    return _call(render_host_ruleset, plan, host)


def vms_nft_edge_ruleset(plan, host):
    """plan | vms_nft_edge_ruleset(host) -> text of the edge's `table inet vms_deploy`."""
    return _call(render_edge_ruleset, plan, host)


class FilterModule:
    def filters(self):
        return {
            "vms_nft_host_ruleset": vms_nft_host_ruleset,
            "vms_nft_edge_ruleset": vms_nft_edge_ruleset,
        }
