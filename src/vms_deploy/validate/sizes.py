"""Sizes: a huge or alias-expanded value is refused before any other rule walks it (phase FORM, first)."""
from __future__ import annotations

from typing import Any

from .. import checks
from ..errors import preview, short_name
from .context import Context


def check_sizes(ctx: Context) -> None:
    """No variable's value holds more than checks.MAX_NODES items (YAML aliases expanded) or a string over
    checks.MAX_STRING characters; a refused value is removed so that no later rule walks it. Each distinct
    object is measured once: group_vars are shared by every host of the group.

    From: docs/security.md, Hostile input class 8 (bounded)."""
    measured: dict[int, tuple[Any, str | None]] = {}
    by_content: dict[tuple, str | None] = {}  # lists of strings equal on every host (a data dict read from JSON)
    for host, hvars in ctx.site.hosts.items():
        for name in sorted(hvars, key=str):
            value = hvars[name]
            if not isinstance(value, (list, dict, str)):
                continue
            hit = measured.get(id(value))
            if hit is None or hit[0] is not value:
                key = ctx.content_key(value)
                if key is None:
                    problem = checks.size_problem(value)
                elif key in by_content:
                    problem = by_content[key]
                else:
                    problem = by_content[key] = checks.size_problem(value)
                hit = measured[id(value)] = (value, problem)
            if hit[1]:
                ctx.err(host, str(name), preview(value), hit[1],
                        f"give {short_name(name)} a value of normal size; check the file for YAML anchors and "
                        "aliases (&, *)")
                del hvars[name]  # no later check may walk it
