"""Input errors a user can act on, and the exception that carries all of them at once."""
from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any

from .secrets import NOT_SHOWN, masked, may_hold_secret, shown_value

# Marker for "the variable is not set" so a message can say so instead of printing None.
MISSING = object()
SHOWN_LENGTH = 120


class Preview(str):
    """A value already shortened for a message (a huge or alias-expanded value is never kept whole)."""


_REPR = reprlib.Repr()
_REPR.maxstring = SHOWN_LENGTH
_REPR.maxother = SHOWN_LENGTH
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8
_REPR.maxlevel = 4


def preview(value: Any) -> Preview:
    """repr(value) cut to SHOWN_LENGTH characters, computed in bounded time and memory whatever its size."""
    text = _REPR.repr(value)
    return Preview(text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH - 3] + "...")


def show_value(value: Any, variable: str | None = None) -> str:
    """Short, stable rendering of a bad value for a message (never a Python object repr).

    Values of variables that may hold a secret (by name, or a password inside) are never shown."""
    if value is MISSING:
        return "(not set)"
    if variable is not None and may_hold_secret(variable):
        return NOT_SHOWN
    if isinstance(value, Preview):
        return masked(str.__str__(value))
    if variable is not None and shown_value(variable, value) == NOT_SHOWN:
        return NOT_SHOWN
    return masked(str.__str__(preview(value)))


def short_name(name: str) -> str:
    """A variable or host name for a message, cut to SHOWN_LENGTH characters (a 5 MB name is never echoed)."""
    name = str(name)
    return name if len(name) <= SHOWN_LENGTH else name[:SHOWN_LENGTH - 3] + "..."


@dataclass(frozen=True)
class InputError:
    """One problem in the inventory: where (host), what (variable = value), why, and how to fix it.

    host is an inventory host name, a comma-separated list of hosts when the same bad value comes
    from a group variable, "all" for a site-wide value, or "" when no host is involved.
    """

    host: str
    variable: str
    value: Any
    problem: str
    fix: str

    def where(self) -> str:
        if not self.host:
            return "site"
        if self.host == "all":
            return "all hosts"
        hosts = self.host if len(self.host) <= 4 * SHOWN_LENGTH else self.host[:4 * SHOWN_LENGTH - 3] + "..."
        return ("hosts " if "," in self.host else "host ") + hosts

    def __str__(self) -> str:
        # masked: a secret's text never reaches a message, whatever part of it quotes it (issue 23, class 7).
        return masked(f"{self.where()}: {short_name(self.variable)} = {show_value(self.value, self.variable)} "
                      f"{self.problem}. Fix: {self.fix}")

    def key(self) -> tuple:
        return (self.variable, show_value(self.value, self.variable), self.problem, self.fix)

    def as_dict(self) -> dict:
        return {"host": masked(self.host), "variable": masked(short_name(self.variable)),
                "value": show_value(self.value, self.variable), "problem": masked(self.problem),
                "fix": masked(self.fix), "message": str(self)}


class ValidationFailed(Exception):
    """Raised with every InputError found; nothing may be written or touched after it."""

    def __init__(self, errors: list[InputError]):
        self.errors = list(errors)
        super().__init__(self.message())

    def header(self) -> str:
        count = len(self.errors)
        return f"the site inventory has {count} error{'s' if count != 1 else ''}; nothing was changed:"

    def message(self) -> str:
        return "\n".join([self.header()] + [f"  - {err}" for err in self.errors])


class WindowsInputError(ValueError):
    """Bad input for one Windows host, worded like every other vms-deploy input error
    (InputError): host, variable = value, problem, fix. Raised by the Windows renderers; the
    validator and the pipeline collect its `.error`."""

    def __init__(self, host: str, variable: str, value, problem: str, fix: str):
        self.error = InputError(host, variable, value, problem, fix)
        super().__init__(str(self.error))


def merge_errors(errors, all_hosts) -> list[InputError]:
    """One error per (variable, value, problem): a bad group variable is reported once, for its hosts."""
    merged: dict[tuple, list] = {}
    first: dict[tuple, InputError] = {}
    for err in errors:
        merged.setdefault(err.key(), []).extend(h for h in err.host.split(",") if h)
        first.setdefault(err.key(), err)
    out = []
    for key, hosts in merged.items():
        hosts = sorted(set(hosts))
        err = first[key]
        if len(hosts) > 1 and set(hosts) == all_hosts:
            host = "all"
        else:
            host = ",".join(hosts)
        out.append(InputError(host, err.variable, err.value, err.problem, err.fix))
    out.sort(key=lambda e: (e.host, e.variable, e.problem))
    return out
