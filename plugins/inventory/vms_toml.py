"""Inventory plugin vms_toml: Ansible's toml inventory plugin behind the vms-deploy size guard."""
from __future__ import annotations

DOCUMENTATION = r"""
---
name: vms_toml
short_description: TOML inventory files, measured before they are parsed
description:
  - Ansible's C(toml) inventory plugin (same format, same result; the file name must end in C(.toml)), except that the
    file and the C(group_vars)/C(host_vars) files next to it are measured first with the guard of C(vms-deploy plan)
    (C(vms_deploy.inventory.file_problem)) and refused, naming the file, the limit and the fix, when too big.
  - Enabled in the project's C(ansible.cfg) instead of C(toml). See docs/security.md, class 8.
  - Needs the vms_deploy Python package on the controller (bin/setup installs it).
"""

EXAMPLES = r"""
# ansible.cfg
# [inventory]
# enable_plugins = host_list, script, vms_yaml, vms_ini, vms_auto, vms_toml
"""

import runpy
from pathlib import Path

from ansible.plugins.inventory.toml import InventoryModule as TomlInventory

# The size guard is the package's (plugins/filter/_vms_glue.py): without it, every source is refused with the fix.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "filter" / "_vms_glue.py"))
BoundedInventory = _GLUE["vms_base"]("vms_deploy.bounded_plugins:BoundedInventory", "parse")


class InventoryModule(BoundedInventory, TomlInventory):
    """The toml inventory plugin, each file measured first."""

    NAME = "vms_toml"
