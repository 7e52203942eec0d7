"""Vars plugin vms_host_group_vars: Ansible's host_group_vars behind the vms-deploy size guard."""
from __future__ import annotations

DOCUMENTATION = r"""
---
name: vms_host_group_vars
short_description: group_vars and host_vars files, measured before they are loaded
requirements:
  - Enabled in configuration (vars_plugins_enabled), instead of host_group_vars
description:
  - Ansible's C(host_group_vars) (loads C(group_vars/) and C(host_vars/) next to the inventory and the playbook),
    except that each file is measured first with the guard of C(vms-deploy plan)
    (C(vms_deploy.inventory.file_problem)). A file over 16 MiB, expanding to more than 500000 values through YAML
    anchors and aliases or nesting values more than 100 levels deep is refused with an error naming the file, the
    limit and the fix; Ansible's parser never reads it.
  - The vms_* inventory plugins measure the group_vars and host_vars next to an inventory source while the inventory
    is parsed, so a bad file there stops the run before any play; this plugin covers every other load (the
    playbook directory's group_vars, inventories parsed by other plugins). See docs/security.md, class 8.
  - Needs the vms_deploy Python package on the controller (bin/setup installs it).
options:
  stage:
    ini:
      - key: stage
        section: vars_host_group_vars
    env:
      - name: ANSIBLE_VARS_PLUGIN_STAGE
  _valid_extensions:
    default: [".yml", ".yaml", ".json"]
    description:
      - File name extensions of variable files (YAML or JSON, or vaulted versions of these).
    env:
      - name: ANSIBLE_YAML_FILENAME_EXT
    ini:
      - key: yaml_valid_extensions
        section: defaults
    type: list
    elements: string
extends_documentation_fragment:
  - vars_plugin_staging
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# vars_plugins = ./plugins/vars
# vars_plugins_enabled = vms_host_group_vars
"""

import runpy
from pathlib import Path

from ansible.plugins.vars.host_group_vars import VarsModule as HostGroupVars

# The size guard is the package's (plugins/filter/_vms_glue.py): without it, every file is refused with the fix.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "filter" / "_vms_glue.py"))
BoundedVarsFiles = _GLUE["vms_base"]("vms_deploy.bounded_plugins:BoundedVarsFiles", "load_found_files")


class VarsModule(BoundedVarsFiles, HostGroupVars):
    """host_group_vars, each file measured before it is loaded."""
