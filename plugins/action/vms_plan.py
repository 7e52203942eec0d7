# -*- coding: utf-8 -*-
"""Action plugin vms_plan: compile the site plan on the controller (thin wrapper over vms_deploy)."""
from __future__ import annotations

DOCUMENTATION = r"""
---
action: vms_plan
short_description: Validate the site inventory and compile its plan (controller only)
description:
  - Reads every inventory host's vms_* variables and group membership from hostvars, validates them
    (all errors at once, each naming host, variable, value and fix) and compiles the site plan
    (plan.json schema 1, see docs/architecture.md).
  - Never connects to a managed host. With O(output_dir) it writes plan.json, ports.md, router.csv and
    router.md on the controller and reports changed only when a file's content changed. Supports check
    mode (nothing is written) and diff mode (the changed files' old and new text).
  - Needs the vms_deploy Python package on the controller (bin/setup installs it).
options:
  output_dir:
    description: Directory to write the plan outputs to. Nothing is written when omitted, in check mode or on bad input.
    type: path
    required: false
  return_plan:
    description:
      - Return the whole plan as RV(plan). Turn it off when only the files and RV(summary) are needed
        (playbooks/plan.yml does): Ansible copies and inspects every result value several times, which
        for a site of 1000 recorders costs more than compiling the plan.
    type: bool
    default: true
  hosts:
    description: Inventory hosts that make up the site; default every host in group all.
    type: list
    elements: str
    required: false
author: vms-deploy
"""

EXAMPLES = r"""
- name: Compile the plan
  vms_plan:
  register: vms_plan_result
  run_once: true
  delegate_to: localhost

- name: Compile and write build/plan/SITE
  vms_plan:
    output_dir: "{{ playbook_dir }}/../build/plan/{{ vms_site }}"
"""

RETURN = r"""
plan:
  description: The compiled plan (schema 1).
  returned: success, when return_plan is true
  type: dict
summary:
  description: Site name, product, topology and the number of hosts, forwards and zone flows in the plan.
  returned: success
  type: dict
  sample: {"site": "demo", "product": "valerus", "topology": "all_in_one", "hosts": 1, "forwards": 2, "zone_flows": 4}
warnings_list:
  description: Plan warnings (also shown as Ansible warnings).
  returned: success
  type: list
  elements: str
files:
  description: For each written file, whether its content changed.
  returned: when output_dir is given
  type: dict
msg:
  description: On bad input, a header line and one line per error (host, variable, value, problem, fix).
  returned: failed
  type: str
"""

import gc
from pathlib import Path

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.vars.manager import VariableManager

display = Display()
NOT_INSTALLED = "the vms_deploy Python package is not installed: run bin/setup (or pip install -e .)"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("output_dir", "hosts", "return_plan"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        # A large site's plan is hundreds of thousands of small acyclic objects: with the cyclic
        # garbage collector on, building it rescans Ansible's whole heap several times.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._run(tmp, task_vars)
        finally:
            if paused:
                gc.enable()

    def _run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        try:
            from vms_deploy.compiler import compile_plan
            from vms_deploy.errors import ValidationFailed
            from vms_deploy.inventory import collect
            from vms_deploy.plan_io import outputs, write_plan_outputs
        except ImportError:
            return {**result, "failed": True, "msg": NOT_INSTALLED}

        task_vars = task_vars or {}
        groups = task_vars.get("groups", {})
        names = self._task.args.get("hosts") or groups.get("all", [])
        # A fresh VariableManager over the run's inventory sees inventory variables and extra vars
        # only: facts and registered results of earlier plays neither change the plan nor count
        # as unknown variables. Vault secrets are process-wide, so decryption works as in the play.
        inventory = getattr(task_vars.get("hostvars"), "_inventory", None)
        if inventory is None:
            return {**result, "failed": True, "msg": "vms_plan: no inventory in task variables (run it from a playbook)"}
        variables = VariableManager(loader=self._loader, inventory=inventory)
        data, vault_errors = collect(inventory, variables, self._loader, names)
        try:
            plan = compile_plan(data, extra_errors=vault_errors)
        except ValidationFailed as exc:
            # Only msg: the default callback prints every key of a failed result, and one line per
            # error is what the user needs to read.
            return {**result, "failed": True, "msg": exc.message()}

        for warning in plan["warnings"]:
            display.warning(f"site {plan['site']}: {warning}")
        summary = {"site": plan["site"], "product": plan["product"], "topology": plan["topology"],
                   "hosts": len(plan["hosts"]), "forwards": len(plan["forwards"]),
                   "zone_flows": len(plan["zone_flows"])}
        result.update({"changed": False, "summary": summary, "warnings_list": plan["warnings"]})
        if self._task.args.get("return_plan", True) not in (False, "false", "False", "no", 0):
            result["plan"] = plan
        output_dir = self._task.args.get("output_dir")
        if output_dir:
            base = Path(output_dir)
            texts = outputs(plan)
            before = {n: (base / n).read_text(encoding="utf-8") if (base / n).is_file() else "" for n in texts}
            if self._task.check_mode:
                files = {n: before[n] != text or not (base / n).is_file() for n, text in texts.items()}
            else:
                files = write_plan_outputs(plan, output_dir, texts)
            if self._task.diff:
                result["diff"] = [{"before": before[n], "after": texts[n], "before_header": str(base / n),
                                   "after_header": str(base / n)} for n in sorted(texts) if files[n]]
            result["files"] = files
            result["changed"] = any(files.values())
            result["output_dir"] = output_dir
        return result
