"""Filters that render nftables tables from the plan (thin wrappers over vms_deploy.render)."""

from __future__ import annotations

import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(RenderError, render_edge_ruleset, render_host_ruleset), IMPORT_ERROR = _GLUE["vms_import"](
    "vms_deploy.render.nft_common:RenderError", "vms_deploy.render.nftables_edge:render_edge_ruleset",
    "vms_deploy.render.nftables_host:render_host_ruleset")
MISSING = _GLUE["MISSING"]


def _call(func, plan, *args):
    plan = _GLUE["vms_plan_arg"](plan, getattr(func, "__name__", "filter"))
    return _GLUE["vms_call"](func, (RenderError, KeyError, ValueError), plan, *args)


def vms_nft_host_ruleset(plan, host):
    """plan | vms_nft_host_ruleset(host) -> text of the host's `table inet vms_deploy`."""
    return _call(render_host_ruleset, plan, host)


def vms_nft_edge_ruleset(plan, host):
    """plan | vms_nft_edge_ruleset(host) -> text of the edge's `table inet vms_deploy`."""
    return _call(render_edge_ruleset, plan, host)


def vms_edge_files(plan, backend=None, inventory_sources=None):
    """plan | vms_edge_files([backend], [ansible_inventory_sources]) -> {file name: text} the edge backend renders
    (default the plan's edge.backend; vms_deploy.edge.render). With the inventory sources, documents for people
    (router.md) end with their provenance, the same bytes playbooks/plan.yml writes."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    from vms_deploy.edge import render as render_edge  # the edge backends' one interface
    from vms_deploy.provenance.facts import collect, inventory_from_sources

    def vms_edge_files(plan, backend):  # named for _call's error messages
        prov = collect(plan, inventory_from_sources(inventory_sources)) if inventory_sources is not None else None
        return render_edge(plan, backend, provenance=prov)

    return _call(vms_edge_files, plan, backend)


class FilterModule:
    def filters(self):
        return {
            "vms_nft_host_ruleset": vms_nft_host_ruleset,
            "vms_nft_edge_ruleset": vms_nft_edge_ruleset,
            "vms_edge_files": vms_edge_files,
        }
