"""The filter plugins' one import guard: import from vms_deploy, or say how to install it.

Every filter plugin (plugins/filter/vms_*.py, roles/*/filter_plugins/vms_*.py) loads this file by
path (Ansible gives plugin directories no import path of their own) and asks it for what it needs:

    _glue = runpy.run_path(str(<path of this file>))
    (certs,), IMPORT_ERROR = _glue["vms_import"]("vms_deploy.certs")
    MISSING = _glue["MISSING"]

When the controller lacks the package, IMPORT_ERROR holds the ImportError and each name is a
stand-in that raises `f"{MISSING} ({IMPORT_ERROR})"` on any use (an attribute, a call), so every
filter names the fix, even one that reads `module.function` before checking IMPORT_ERROR, instead of
Ansible skipping the plugin with a traceback and then failing on an unknown filter.

The inventory and vars plugins (plugins/inventory, plugins/vars) subclass the package's size guard
instead; they load this file the same way and ask vms_base for the class:

    BoundedInventory = _glue["vms_base"]("vms_deploy.bounded_plugins:BoundedInventory", "parse")

Without the package that is a class whose listed methods raise AnsibleParserError with the same message,
so every source is refused with the fix rather than parsed unguarded.

Ansible loads every .py file of a filter directory, a leading underscore included, and warns about
one without a FilterModule: this one has an empty FilterModule, so it adds no filter and no warning.
"""
from __future__ import annotations

import importlib

from ansible.errors import AnsibleError, AnsibleFilterError, AnsibleParserError

MISSING = "the vms_deploy Python package is not installed: run bin/setup (or pip install -e .)"


def vms_import(*targets: str):
    """("vms_deploy.x", "vms_deploy.y:name", ...) -> ([module x, y.name, ...], None), or
    ([None, ...], the ImportError) when the package (or a module of it) cannot be imported."""
    found = []
    try:
        for target in targets:
            module_name, _, attribute = target.partition(":")
            if not module_name.split(".")[0] == "vms_deploy":
                raise ValueError(f"{target!r}: the glue imports from vms_deploy only")
            module = importlib.import_module(module_name)
            found.append(getattr(module, attribute) if attribute else module)
    except (ImportError, AttributeError) as exc:  # no package (or an old one): say how to fix it, not a traceback
        return [Missing(target, exc) for target in targets], exc
    return found, None


def vms_plan_arg(value, name: str) -> dict:
    """The plan a filter was given: the plan dict itself, or the registered result of the vms_plan action
    (which holds it under "plan"). Anything else is refused naming the filter."""
    if isinstance(value, dict) and "plan" in value and "hosts" not in value:
        value = value["plan"]
    if not isinstance(value, dict) or "hosts" not in value:
        raise AnsibleFilterError(f"{name}: expected the plan dict from the vms_plan action (validate_inventory_plan), "
                                 f"got {type(value).__name__}")
    return value


def vms_call(func, errors: tuple, *args, **kwargs):
    """func(*args, **kwargs) for a filter. The package's input errors listed in `errors` become an
    AnsibleFilterError naming func; a func that could not be imported raises the install message."""
    if isinstance(func, Missing):
        func()
    caught = tuple(error for error in errors if isinstance(error, type))
    try:
        return func(*args, **kwargs)
    except caught as exc:
        raise AnsibleFilterError(f"{func.__name__}: {exc}") from None


def vms_base(target: str, *methods: str) -> type:
    """The class "vms_deploy.module:Class", or, when it cannot be imported, a stand-in base class whose
    `methods` (e.g. "parse", "load_found_files") raise AnsibleParserError naming the fix."""
    (found,), error = vms_import(target)
    if error is None:
        return found

    def refuse(self, *args, **kwargs):
        raise AnsibleParserError(f"{MISSING} ({error})")

    doc = "Refuses every source: without the package no file can be measured."
    return type("Missing" + target.rpartition(":")[2], (), {"__doc__": doc, **{name: refuse for name in methods}})


class Missing:
    """Stands for a name that could not be imported: false, and any use raises the one message."""

    def __init__(self, target: str, error: Exception):
        self._target = target
        self._error = error

    def _fail(self):
        raise AnsibleError(f"{MISSING} ({self._error})")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._fail()

    def __call__(self, *args, **kwargs):
        self._fail()

    def __bool__(self):
        return False

    def __repr__(self):
        return f"<{self._target}: not importable ({self._error})>"


class FilterModule:
    """No filters: Ansible loads this file as a filter plugin too."""

    def filters(self):
        return {}
