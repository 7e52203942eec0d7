"""Inventory plugin vms_yaml: Ansible's yaml inventory plugin behind the vms-deploy size guard."""
from __future__ import annotations

DOCUMENTATION = r"""
---
name: vms_yaml
short_description: YAML inventory files, measured before they are parsed
description:
  - Ansible's C(yaml) inventory plugin (same format, same options, same result), except that the file and the
    C(group_vars)/C(host_vars) files next to it are measured first with the guard of C(vms-deploy plan)
    (C(vms_deploy.inventory.file_problem)). A file over 16 MiB, expanding to more than 500000 values through YAML
    anchors and aliases or nesting values more than 100 levels deep, or an inventory defining more than 5000 hosts
    (also over the sources of one run together), is refused in seconds, with bounded memory, naming the file, the
    limit and the fix; Ansible's parser never reads it.
  - Enabled in the project's C(ansible.cfg) instead of C(yaml); with C(any_unparsed_is_failed) a refused inventory
    stops the run before any play. See docs/security.md, class 8.
  - Needs the vms_deploy Python package on the controller (bin/setup installs it).
options:
  yaml_extensions:
    description: File name extensions read as YAML.
    type: list
    elements: string
    default: ['.yaml', '.yml', '.json']
    env:
      - name: ANSIBLE_YAML_FILENAME_EXT
      - name: ANSIBLE_INVENTORY_PLUGIN_EXTS
    ini:
      - key: yaml_valid_extensions
        section: defaults
      - section: inventory_plugin_yaml
        key: yaml_valid_extensions
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# inventory_plugins = ./plugins/inventory
# [inventory]
# enable_plugins = host_list, script, vms_yaml, vms_ini, vms_auto, vms_toml
# any_unparsed_is_failed = True
"""

import runpy
from pathlib import Path

from ansible.plugins.inventory.yaml import InventoryModule as YamlInventory

# The size guard is the package's (plugins/filter/_vms_glue.py): without it, every source is refused with the fix.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "filter" / "_vms_glue.py"))
BoundedInventory = _GLUE["vms_base"]("vms_deploy.bounded_plugins:BoundedInventory", "parse")


class InventoryModule(BoundedInventory, YamlInventory):
    """The yaml inventory plugin, each file measured first."""

    NAME = "vms_yaml"
