"""Inventory plugin vms_auto: Ansible's auto inventory plugin behind the vms-deploy size guard."""
from __future__ import annotations

DOCUMENTATION = r"""
---
name: vms_auto
short_description: Inventory plugin configuration files, measured before they are parsed
description:
  - Ansible's C(auto) inventory plugin (a YAML file whose C(plugin) key names the inventory plugin to run), except
    that the file and the C(group_vars)/C(host_vars) files next to it are measured first with the guard of
    C(vms-deploy plan) (C(vms_deploy.inventory.file_problem)); C(auto) would otherwise load every YAML inventory
    whole only to look for that key.
  - A source another vms_* inventory plugin has refused already is declined, so the refusal is reported once.
  - Enabled in the project's C(ansible.cfg) instead of C(auto). See docs/security.md, class 8.
  - Needs the vms_deploy Python package on the controller (bin/setup installs it).
"""

EXAMPLES = r"""
# ansible.cfg
# [inventory]
# enable_plugins = host_list, script, vms_yaml, vms_ini, vms_auto, vms_toml
"""

import runpy
from pathlib import Path

from ansible.plugins.inventory.auto import InventoryModule as AutoInventory

# The size guard is the package's (plugins/filter/_vms_glue.py): without it, every source is refused with the fix.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "filter" / "_vms_glue.py"))
BoundedInventory = _GLUE["vms_base"]("vms_deploy.bounded_plugins:BoundedInventory", "parse")


class InventoryModule(BoundedInventory, AutoInventory):
    """The auto inventory plugin, each file measured first."""

    NAME = "vms_auto"
