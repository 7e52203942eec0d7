"""The guard of the project's Ansible inventory and vars plugins (issue 13, class 8: bounded).

Ansible's yaml, ini, auto and toml inventory plugins and its host_group_vars vars plugin parse a file
whole before any vms-deploy code sees a value, so an alias bomb would take gigabytes and hours in
`ansible-playbook -i SITE playbooks/plan.yml`. The project's plugins (plugins/inventory/vms_*.py,
plugins/vars/vms_host_group_vars.py, enabled in ansible.cfg) are those same plugins with these
mixins in front: each file is measured first by vms_deploy.inventory.file_problem (the measure
`vms-deploy plan` uses) and refused with AnsibleParserError naming the file, the limit and the fix.

Imported only by the plugins (it imports Ansible); docs/security.md, class 8.
"""
from __future__ import annotations

import weakref

from ansible import constants
from ansible.errors import AnsibleParserError

from .inventory import defined_hosts, file_problem, oversized_files, refusal

# The last refusal: (path, position in enable_plugins of the plugin that refused it). Ansible offers a
# refused source to every later enabled plugin; the later project plugins decline it, so the refusal
# is reported once (see BoundedInventory.verify_file).
_REFUSED: dict[str, int] = {}
# Hosts of the sources each inventory (one InventoryData per InventoryManager) has accepted: Ansible hands a
# directory inventory to the plugins one file at a time, so MAX_HOSTS holds for the files together.
_HOSTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _position(name: str) -> int:
    try:
        return list(constants.INVENTORY_ENABLED).index(name)
    except ValueError:
        return -1


class BoundedInventory:
    """Mixin for a file inventory plugin: measure the source, and the group_vars/host_vars next to it
    (host_group_vars loads those only when a task needs them), before the plugin parses anything."""

    def verify_file(self, path):
        if not super().verify_file(path):  # type: ignore[misc]
            return False
        refused_by = _REFUSED.get(path)
        # An earlier project plugin has reported this refusal already: decline, so Ansible moves on
        # to its unparsed-source error (any_unparsed_is_failed) without parsing the file.
        return refused_by is None or refused_by >= _position(self._load_name)  # type: ignore[attr-defined]

    def parse(self, inventory, loader, path, cache=True):
        from pathlib import Path

        # ansible-core 2.19 hands each source a new proxy (_InventoryDataWrapper) of the one InventoryData
        accepted = _HOSTS.setdefault(getattr(inventory, "__wrapped__", inventory), {})
        before = sum(hosts for source, hosts in accepted.items() if source != path)
        message = refusal(oversized_files(Path(path), hosts_before=before))
        if message:
            _REFUSED[path] = _position(self._load_name)  # type: ignore[attr-defined]
            raise AnsibleParserError(message)
        _REFUSED.pop(path, None)
        accepted[path] = defined_hosts(Path(path))
        return super().parse(inventory, loader, path, cache=cache)  # type: ignore[misc]


class BoundedVarsFiles:
    """Mixin for host_group_vars: measure each group_vars/host_vars file before it is loaded."""

    def load_found_files(self, loader, data, found_files):
        message = refusal([error for error in map(file_problem, found_files) if error is not None])
        if message:
            raise AnsibleParserError(message)
        return super().load_found_files(loader, data, found_files)  # type: ignore[misc]
