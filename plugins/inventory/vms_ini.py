"""Inventory plugin vms_ini: Ansible's ini inventory plugin behind the vms-deploy size guard."""
from __future__ import annotations

DOCUMENTATION = r"""
---
name: vms_ini
short_description: INI inventory files, measured before they are parsed
description:
  - Ansible's C(ini) inventory plugin (same format, same result), except that the file and the
    C(group_vars)/C(host_vars) files next to it are measured first with the guard of C(vms-deploy plan)
    (C(vms_deploy.inventory.file_problem)).
    A file over 16 MiB or with more than 500000 values (hosts, groups, keys and values), or an inventory defining
    more than 5000 hosts (a range such as C(rec[0001:0900]) counted as expanded; also over the sources of one run
    together), is refused in seconds, naming the file, the limit and the fix; Ansible's parser never reads it.
  - A source another vms_* inventory plugin has refused already is declined, so the refusal is reported once.
  - Enabled in the project's C(ansible.cfg) instead of C(ini). See docs/security.md, class 8.
  - Needs the vms_deploy Python package on the controller (bin/setup installs it).
"""

EXAMPLES = r"""
# ansible.cfg
# [inventory]
# enable_plugins = host_list, script, vms_yaml, vms_ini, vms_auto, vms_toml
"""

import runpy
from pathlib import Path

from ansible.plugins.inventory.ini import InventoryModule as IniInventory

# The size guard is the package's (plugins/filter/_vms_glue.py): without it, every source is refused with the fix.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "filter" / "_vms_glue.py"))
BoundedInventory = _GLUE["vms_base"]("vms_deploy.bounded_plugins:BoundedInventory", "parse")


class InventoryModule(BoundedInventory, IniInventory):
    """The ini inventory plugin, each file measured first."""

    NAME = "vms_ini"
