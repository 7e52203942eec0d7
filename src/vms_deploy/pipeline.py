"""Inventory data -> plan: validate, then compile (the one entry point that runs both).

The validator and the compiler share their resolution of a site (vms_deploy.resolve) and never
import each other; this module orders them: every input check first, then the plan, then the
check that needs the plan (each Windows host's install inputs against the components it gets).
"""
from __future__ import annotations

from .compiler import compile_site
from .errors import ValidationFailed
from .model import Site
from .nat_warnings import double_nat_warnings
from .plan_warnings import HOST, merged, split_fix
from .tls_names import server_name_warnings
from .validate import validate, windows_install_errors


def compile_plan(data: dict, extra_errors=None) -> dict:
    """Validate `data` ({hosts, groups}) and compile the plan. Raises ValidationFailed with all errors.

    extra_errors: InputErrors found before this point (e.g. undecryptable vault values found by the
    action plugin), reported together with the validator's.
    """
    errors = validate(data, extra_errors)
    if errors:
        raise ValidationFailed(errors)
    site = Site.from_dict(data)
    plan = compile_site(site)
    errors = windows_install_errors(site, plan)
    if errors:
        raise ValidationFailed(errors)
    # Warnings found while reading the inventory (weak passwords, connection settings: inventory.collect);
    # vms_deploy.secrets writes its fix after "; fix: ".
    found = [w if isinstance(w, dict) else split_fix(w, HOST) for w in data.get("warnings", ())]
    plan["warnings"] = merged(plan["warnings"], found,
                              server_name_warnings(site, plan, data.get("inventory_dirs")),
                              double_nat_warnings(site))
    return plan
