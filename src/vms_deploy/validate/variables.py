"""Names and types: every vms_* variable is documented, and of its documented type (phase FORM).

The specs (vms_deploy.validate.spec) declare each variable's type, list element type, choices and
default, so no other rule tests a type again. Each rule skips a variable an earlier one reported.
"""
from __future__ import annotations

from ..catalog import all_groups
from .context import Context
from .spec import TYPE_WORDS, did_you_mean, example, inventory_spec, role_variables, type_ok


def _documented(ctx: Context):
    """(host, name, value, option spec) of each vms_* variable of the inventory spec not yet reported;
    other roles' own variables (role_variables) are their roles' to check."""
    spec = inventory_spec()
    for host, hvars in ctx.site.hosts.items():
        for name, value in sorted(hvars.items()):
            if name.startswith("vms_") and name in spec and not ctx.reported(host, name):
                yield host, name, value, spec[name]


def check_known_variables(ctx: Context) -> None:
    """Every vms_* variable is declared in a role's argument specs (a typo gets a "did you mean").

    From: docs/architecture.md, "Reserved names" (every vms_* variable a user may set is declared)."""
    spec = inventory_spec()
    others = role_variables()
    known = sorted(set(spec) | others)
    for host, hvars in ctx.site.hosts.items():
        for name, value in sorted(hvars.items()):
            if not name.startswith("vms_") or name in spec or name in others or ctx.reported(host, name):
                continue
            hint = did_you_mean(name, known + list(all_groups()))
            ctx.err(host, name, value, f"is not a vms-deploy variable{hint}",
                    "correct the name or remove it; every variable is listed in docs/inventory.md")


def check_not_null(ctx: Context) -> None:
    """A variable with a default is not set to null (an empty YAML value): give a value or remove the line.

    From: docs/inventory-reference.md (each variable's default)."""
    for host, name, value, opt in _documented(ctx):
        if value is None and "default" in opt and opt["default"] is not None:
            ctx.err(host, name, value, "is empty (null)",
                    f"give {TYPE_WORDS[opt.get('type', 'raw')]} or remove the line, e.g. {example(name, opt)}")


def check_types(ctx: Context) -> None:
    """A variable's value has its documented type (a comma-separated string for a list suggests the list).

    From: docs/security.md, Hostile input class 7 (every wrong type in every position) and 9 (fixes)."""
    for host, name, value, opt in _documented(ctx):
        kind = opt.get("type", "raw")
        if value is None or type_ok(value, kind):
            continue
        got = type(value).__name__
        hint = ""
        if kind == "list" and isinstance(value, str):
            items = [part.strip() for part in value.split(",") if part.strip()]
            hint = f"; write it as a list: {name}: [{', '.join(items)}]"
        ctx.err(host, name, value, f"is {got}, not {TYPE_WORDS[kind]}",
                f"use {TYPE_WORDS[kind]}{hint or ', e.g. ' + example(name, opt)}")


def check_list_items(ctx: Context) -> None:
    """Every item of a list has the documented element type (str, dict or int).

    From: docs/security.md, Hostile input class 7."""
    for host, name, value, opt in _documented(ctx):
        if value is None or opt.get("type", "raw") != "list" or opt.get("elements") not in ("str", "dict", "int"):
            continue
        wrong = _wrong_elements(ctx, value, opt["elements"])
        if wrong:
            ctx.err(host, name, value,
                    f"has an item {wrong[0]!r} that is not {TYPE_WORDS[opt['elements']]}",
                    f"make every item {TYPE_WORDS[opt['elements']]}, e.g. {example(name, opt)}")


def check_choices(ctx: Context) -> None:
    """A variable with choices has one of them.

    From: docs/inventory-reference.md (each variable's choices)."""
    for host, name, value, opt in _documented(ctx):
        if value is not None and opt.get("choices") and value not in opt["choices"]:
            ctx.err(host, name, value, f"is not one of {', '.join(opt['choices'])}"
                    f"{did_you_mean(str(value), opt['choices'])}",
                    f"set {name} to one of: {', '.join(opt['choices'])}")


def _wrong_elements(ctx: Context, value: list, kind: str) -> list:
    """Items of a list that are not of `kind`, once per distinct list of strings."""
    key = ctx.content_key(value)
    if key is None:
        return [v for v in value if not type_ok(v, kind)]
    checked = ctx.table("wrong_elements")
    if (key, kind) not in checked:
        checked[(key, kind)] = [v for v in value if not type_ok(v, kind)]
    return checked[(key, kind)]
