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

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory.ini import InventoryModule as IniInventory

try:
    from vms_deploy.bounded_plugins import BoundedInventory
except ImportError:  # the guard is the package's: say how to install it rather than show a traceback

    class BoundedInventory:  # type: ignore[no-redef]
        """Refuses every source: without the package no file can be measured."""

        def parse(self, inventory, loader, path, cache=True):
            raise AnsibleParserError("the vms_deploy Python package is not installed: run bin/setup "
                                     "(or pip install -e .)")


class InventoryModule(BoundedInventory, IniInventory):
    """The ini inventory plugin, each file measured first."""

    NAME = "vms_ini"
