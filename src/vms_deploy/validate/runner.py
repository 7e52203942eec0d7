"""Runs the registered rules phase by phase (the phases' meaning: vms_deploy.validate.registry)."""
from __future__ import annotations

from typing import Any

from ..catalog import load_catalog
from ..errors import InputError, merge_errors
from ..model import Site
from ..secrets import remember, remember_hosts
from .context import Context
from .registry import Phase, rules
from .site_wide import valid_product


def _run(ctx: Context, phase: Phase) -> None:
    for rule in rules(phase):
        rule.check(ctx)


def run(data: Any, extra_errors=None) -> list[InputError]:
    """Every problem of the inventory data, merged per group variable and sorted."""
    ctx = Context(data)
    ctx.errors.extend(extra_errors or [])
    given = len(ctx.errors)
    for rule in rules(Phase.SHAPE):
        rule.check(ctx)
        if len(ctx.errors) > given:
            return ctx.errors  # nothing to judge without hosts in the site's groups
    _run(ctx, Phase.FORM)
    ctx.product = valid_product(ctx)
    # Deeper rules see only values of the documented type: a reported value is dropped (as if unset), so one
    # mistake gives one message, never a crash in a later rule.
    for host, name in ctx.bad:
        ctx.site.hosts.get(host, {}).pop(name, None)
    _run(ctx, Phase.ALWAYS)
    if ctx.product:
        ctx.catalog = load_catalog(ctx.product)
        _run(ctx, Phase.PRODUCT)
        if not ctx.errors:
            _run(ctx, Phase.CLEAN)
    remember((), "validator")  # this run's secrets replace the last run's
    if ctx.errors:
        _remember_secrets(ctx)
    return merge_errors(ctx.errors, set(ctx.site.hosts))


def _remember_secrets(ctx: Context) -> None:
    """Only on the error path (a valid site is not walked for nothing): the messages about to be shown are
    masked with every secret the site's values carry (secrets.masked; issue 23, class 7). The values left
    after the FORM phase (an oversized one is gone), each shared object once."""
    seen: set[int] = set()
    found: dict[str, dict] = {}
    for host, hvars in ctx.site.hosts.items():
        mine = found.setdefault(host, {})
        for name, value in hvars.items():
            if id(value) not in seen:
                seen.add(id(value))
                mine[name] = value
    remember_hosts(found, "validator")


def run_compiled(site: Site, plan: dict) -> list[InputError]:
    """The rules that need the compiled plan of a site that validated."""
    ctx = Context({}, site=site, plan=plan)
    _run(ctx, Phase.COMPILED)
    return merge_errors(ctx.errors, set(site.hosts))
