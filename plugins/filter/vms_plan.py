"""Filters over a loaded plan: the run-time groups a host joins, which plan a host runs, and the
firewall team's request written beside the router sheet."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(host_digest, catalog, firewall_request), IMPORT_ERROR = _GLUE["vms_import"](
    "vms_deploy.plan_io:host_digest", "vms_deploy.catalog", "vms_deploy.render.firewall_request")
MISSING = _GLUE["MISSING"]

_BAD = re.compile(r"[^a-z0-9_]+")


def _plan(plan, name):
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    return _GLUE["vms_plan_arg"](plan, name)


def _group(prefix, value):
    return f"vms_{prefix}_{_BAD.sub('_', str(value).lower())}"


# Traits of the product (catalog, recorded in the plan) that plays target as groups, e.g.
# vms_gateway_proxy_nginx: plays name a trait, never a product.
TRAIT_GROUPS = ("gateway_proxy", "gateway_registration")


def vms_plan_groups(plan, host):
    """plan | vms_plan_groups(host) -> the groups stages/prechecks.yml puts the host in:
    vms_plan_hosts, vms_platform_P, vms_zone_Z, vms_component_C (each component), vms_product_P,
    vms_access_A (the site's remote access: port_forward, vpn or none) and one group per trait in
    TRAIT_GROUPS (vms_gateway_proxy_nginx, vms_gateway_registration_none...). [] for a host outside the plan."""
    plan = _plan(plan, "vms_plan_groups")
    entry = plan["hosts"].get(host)
    if entry is None:
        return []
    from vms_deploy.catalog import plan_traits  # the plan's traits (a hand-made plan: its catalog's)
    traits = plan_traits(plan)
    missing = [name for name in TRAIT_GROUPS if name not in traits]
    if missing:
        raise AnsibleFilterError(f"vms_plan_groups: the plan of site {plan.get('site')!r} (product "
                                 f"{plan.get('product')!r}) records no trait {', '.join(missing)}. Fix: compile it "
                                 "again with this vms-deploy (ansible-playbook playbooks/plan.yml) and review it")
    groups = ["vms_plan_hosts", _group("platform", entry.get("platform")), _group("zone", entry.get("zone")),
              _group("product", plan.get("product")), _group("access", plan.get("remote_access") or "none")]
    groups += [_group("component", c) for c in entry.get("components") or []]
    groups += [_group(name, traits[name]) for name in TRAIT_GROUPS]
    return groups


def vms_host_digest(plan, host):
    """plan | vms_host_digest(host) -> the short digest of the host's part of the plan (plan_io.host_digest)."""
    plan = _plan(plan, "vms_host_digest")
    try:
        return host_digest(plan, host)
    except KeyError as exc:
        raise AnsibleFilterError(f"vms_host_digest: {exc.args[0]}") from None


def vms_catalog_trait(product, name):
    """vms_product | vms_catalog_trait('default_platform') -> the trait's value in the product's catalog
    (for a play that runs without the plan; with the plan, read validate_inventory_plan.traits)."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    PRODUCTS, TRAITS = catalog.PRODUCTS, catalog.TRAITS
    if product not in PRODUCTS:
        raise AnsibleFilterError(f"vms_product = {product!r} is not a product vms-deploy knows. "
                                 f"Fix: set vms_product to one of {', '.join(PRODUCTS)} in group_vars/all")
    if name not in TRAITS:
        raise AnsibleFilterError(f"vms_catalog_trait: {name!r} is no catalog trait; use one of {', '.join(TRAITS)}")
    return catalog.load_catalog(product).traits[name]


def vms_firewall_request_files(plan):
    """plan | vms_firewall_request_files -> {"firewall-rules.csv": text, "firewall-rules.md": text}: the rules
    the customer's firewall team types in (vms_deploy.render.firewall_request; plan.yml writes the same)."""
    plan = _plan(plan, "vms_firewall_request_files")
    return _GLUE["vms_call"](firewall_request.render, (KeyError, ValueError), plan)


class FilterModule:
    def filters(self):
        return {"vms_plan_groups": vms_plan_groups, "vms_host_digest": vms_host_digest,
                "vms_catalog_trait": vms_catalog_trait, "vms_firewall_request_files": vms_firewall_request_files}
