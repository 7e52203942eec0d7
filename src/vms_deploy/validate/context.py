"""What every rule shares: the site, the error sink with its "already reported" set, and the memos.

A rule is `check_x(ctx: Context) -> None`: it reads `ctx.site` (and `ctx.data`, `ctx.catalog`,
`ctx.plan` by phase) and reports with `ctx.err(...)`. Nothing else is shared between rules.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InputError
from ..memo import IdentityMemo
from ..model import Site
from .spec import list_key


class Context:
    """The state of one validation run.

    `bad` holds each (host, variable) already reported: a later rule of the same variable skips it
    (one mistake, one message). Every host carries the site-wide lists of its group variables, so a
    rule that parses or compares them keeps its result in a memo (`memo`, `identity_memo`): once per
    distinct list, never once per host."""

    def __init__(self, data: Any, site: Site | None = None, plan: dict | None = None):
        self.data = data
        self.errors: list[InputError] = []
        self.bad: set[tuple[str, str]] = set()
        self.site: Site = site  # type: ignore[assignment]  # None only during the SHAPE phase's first rules
        self.product: str | None = None  # a valid vms_product, set after the FORM phase
        self.catalog = None  # its catalog (vms_deploy.catalog), for the PRODUCT and CLEAN phases
        self.plan = plan  # the compiled plan, for the COMPILED phase
        self._memos: dict[str, Any] = {}

    # --- reporting ---------------------------------------------------------------------------------
    def err(self, host: str, variable: str, value: Any, problem: str, fix: str) -> None:
        """One problem: `host rec1: VARIABLE = VALUE PROBLEM. Fix: FIX` (see CONTRIBUTING.md)."""
        self.errors.append(InputError(host, variable, value, problem, fix))
        self.bad.add((host, variable))

    def add(self, error: InputError) -> None:
        """An error already worded elsewhere (a renderer's WindowsInputError, certs.inventory_issues)."""
        self.errors.append(error)
        self.bad.add((error.host, error.variable))

    def reported(self, host: str, variable: str) -> bool:
        return (host, variable) in self.bad

    def reported_on_any_host(self, variable: str) -> bool:
        """A site-wide variable reported for some host: its site value is not to be judged again."""
        return any((h, variable) in self.bad for h in self.site.hosts)

    # --- memos for big sites -----------------------------------------------------------------------
    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """compute() once per run under `name` (a value parsed and reported once, then shared)."""
        if name not in self._memos:
            self._memos[name] = compute()
        return self._memos[name]

    def identity_memo(self, name: str) -> IdentityMemo:
        """One IdentityMemo per computation, by name, for values Ansible shares between hosts."""
        return self.memo(name, IdentityMemo)

    def content_key(self, value: Any) -> tuple | None:
        """spec.list_key(value) (a list of strings as a dict key, else None), once per object: every rule
        that memoises by content asks for the key of the same few lists on every host."""
        keys = self.table("content_keys")
        hit = keys.get(id(value))
        if hit is None or hit[0] is not value:
            hit = keys[id(value)] = (value, list_key(value))  # the value is kept: its id is not reused
        return hit[1]

    def table(self, name: str) -> dict:
        """A dict kept for the run under `name` (a cache keyed by content, e.g. a list's items)."""
        return self.memo(name, dict)
