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
  - Never connects to a managed host. With O(output_dir) it writes plan.json, ports.md, router.csv,
    router.md, firewall-rules.csv and firewall-rules.md on the controller and reports changed only when
    a file's content changed. Supports check mode (nothing is written) and diff mode (the changed files'
    old and new text).
  - Needs the vms_deploy Python package on the controller (bin/setup installs it).
options:
  output_dir:
    description: Directory to write the plan outputs to. Nothing is written when omitted, in check mode or on bad input.
    type: path
    required: false
  return_plan:
    description:
      - Return the whole plan as RV(plan). Turn it off when only the files and RV(summary) are needed
        (playbooks/plan.yml does); Ansible copies and inspects every result value several times, which
        for a site of 1000 recorders costs more than compiling the plan.
    type: bool
    default: true
  hosts:
    description: Inventory hosts that make up the site; default every host in group all.
    type: list
    elements: str
    required: false
  plan_file:
    description:
      - A saved, reviewed plan (plan.json from playbooks/plan.yml) to apply instead of a new one. The
        inventory is still compiled, once, and must give exactly this plan; otherwise the task fails naming
        every difference (in vms_deploy.diff's words) and no host has been touched.
      - On a partial inventory (its vms-deploy hosts a strict subset of the plan's, as in an AWX job slice)
        the whole plan cannot be compiled; each visible host is then checked against the plan (in it, same
        groups, same address) and the plan file is returned.
      - Relative paths are taken from the current directory, then the project root (the playbooks' parent).
    type: path
    required: false
  partial_check:
    description:
      - Refuse a run that may see only part of the site when no O(plan_file) is given. An AWX job started by a
        workflow (C(awx_workflow_job_id) is set) may be one slice of a sliced job; AWX gives a slice only its
        hosts and no variable that says so, so the compiled plan would silently miss the other hosts.
      - C(--limit) is not partial: Ansible still loads the whole inventory, and the plan is compiled from it.
    type: bool
    default: false
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
source:
  description: Where the plan came from, C(compiled) or the plan file's path.
  returned: success
  type: str
digests:
  description: Host -> vms_deploy.plan_io.host_digest, the digest each host records with its rules.
  returned: success, when return_plan is true
  type: dict
summary:
  description: Site name, product, topology and the number of hosts, forwards and zone flows in the plan.
  returned: success
  type: dict
  sample: {"site": "demo", "product": "valerus", "topology": "all_in_one", "hosts": 1, "forwards": 2, "zone_flows": 4}
warnings_list:
  description:
    - "Plan warnings, one line each (C(GROUP: TEXT. Fix: FIX.)), also shown as Ansible warnings. The plan's
      own C(warnings) hold them as objects with their group and fix (docs/architecture.md)."
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
import runpy
from pathlib import Path

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.vars.manager import VariableManager

display = Display()
# The plugins' one "not installed" message (plugins/filter/_vms_glue.py); the package is imported in _run.
NOT_INSTALLED = runpy.run_path(str(Path(__file__).resolve().parents[1] / "filter" / "_vms_glue.py"))["MISSING"]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("output_dir", "hosts", "return_plan", "plan_file", "partial_check"))
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
            from vms_deploy.errors import ValidationFailed
            from vms_deploy.inventory import collect
            from vms_deploy.pipeline import compile_plan
            from vms_deploy.plan_io import host_digests, outputs, write_plan_outputs
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
            return {**result, "failed": True,
                    "msg": "vms_plan: no inventory in task variables (run it from a playbook)"}
        variables = VariableManager(loader=self._loader, inventory=inventory)
        data, vault_errors = collect(inventory, variables, self._loader, names)
        plan_file = self._task.args.get("plan_file")
        if not plan_file and _flag(self._task.args.get("partial_check", False)):
            refusal = _partial_refusal(task_vars)
            if refusal:
                return {**result, "failed": True, "msg": refusal}
        source = "compiled"
        if plan_file:
            loaded = _reviewed_plan(plan_file, task_vars, data)
            if "msg" in loaded:
                return {**result, "failed": True, "msg": loaded["msg"]}
            plan, source = loaded["plan"], loaded["path"]
            if loaded["partial"]:
                display.display(f"site {plan['site']}: partial inventory ({len(loaded['partial'])} of "
                                f"{len(plan['hosts'])} hosts, e.g. an AWX job slice): applying their part of "
                                f"the reviewed plan {source}")
        if source == "compiled" or not loaded["partial"]:
            try:
                compiled = compile_plan(data, extra_errors=vault_errors)
            except ValidationFailed as exc:
                # Only msg: the default callback prints every key of a failed result, and one line per
                # error is what the user needs to read.
                return {**result, "failed": True, "msg": exc.message()}
            if plan_file:
                from vms_deploy.plan_io import mismatch_message, plan_differences
                lines = plan_differences(plan, compiled)
                if lines:
                    return {**result, "failed": True, "msg": mismatch_message(source, plan, lines)}
            else:
                plan = compiled

        from vms_deploy.plan_warnings import line
        warnings_list = [line(w) for w in plan["warnings"]]
        for warning in warnings_list:
            display.warning(f"site {plan['site']}: {warning}")
        summary = {"site": plan["site"], "product": plan["product"], "topology": plan["topology"],
                   "hosts": len(plan["hosts"]), "forwards": len(plan["forwards"]),
                   "zone_flows": len(plan["zone_flows"])}
        result.update({"changed": False, "summary": summary, "warnings_list": warnings_list, "source": source})
        if _flag(self._task.args.get("return_plan", True)):
            result["plan"] = plan
            result["digests"] = host_digests(plan)
        output_dir = self._task.args.get("output_dir")
        if output_dir:
            base = Path(output_dir)
            # ports.md and router.md end with their provenance (vms_deploy.provenance; no clock: by content).
            from vms_deploy.claims import settings_from_inventory
            from vms_deploy.provenance.facts import collect as provenance
            from vms_deploy.provenance.facts import inventory_from_sources
            texts = outputs(plan, provenance(plan, inventory_from_sources(task_vars.get("ansible_inventory_sources"))),
                            settings_from_inventory(data))
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


def _flag(value) -> bool:
    return value not in (False, "false", "False", "no", "0", 0, None)


WORKFLOW_VARS = ("awx_workflow_job_id", "tower_workflow_job_id")


def _partial_refusal(task_vars: dict) -> str | None:
    """A message when this run may see only part of the site and has no plan file to hold it to."""
    marker = next((name for name in WORKFLOW_VARS if task_vars.get(name) not in (None, "")), None)
    if marker is None:
        return None
    return (f"this AWX job runs in a workflow ({marker} = {task_vars[marker]}), so it may be one slice of a sliced "
            "job, and a slice's inventory holds only its own hosts: a plan compiled from it would leave the other "
            "hosts out of every rule. Nothing was changed. Fix: give the reviewed plan of the whole site as the "
            "extra variable vms_plan_file (the plan.json written by playbooks/plan.yml and committed with the "
            "inventory; see docs/awx.md).")


def _resolve(path: str, task_vars: dict) -> Path:
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    playbook_dir = task_vars.get("playbook_dir")
    bases = [Path.cwd()] + ([Path(playbook_dir).parent, Path(playbook_dir).parent.parent] if playbook_dir else [])
    for base in bases:
        if (base / candidate).exists():
            return base / candidate
    return Path.cwd() / candidate


def _reviewed_plan(plan_file: str, task_vars: dict, data: dict) -> dict:
    """{"plan", "path", "partial"} or {"msg"}: the reviewed plan, and the visible hosts when the
    inventory holds only part of the plan's hosts (then they are checked one by one)."""
    from vms_deploy.catalog import all_groups
    from vms_deploy.plan_io import (
        PlanFileError,
        load_plan_file,
        mismatch_message,
        slice_differences,
    )

    path = _resolve(str(plan_file), task_vars)
    try:
        plan = load_plan_file(path)
    except PlanFileError as exc:
        return {"msg": str(exc)}
    known = set(all_groups())
    visible = {}
    for host, hvars in data["hosts"].items():
        groups = sorted(g for g, members in data["groups"].items() if host in members and g in known)
        if groups:
            visible[host] = {"groups": groups, "address": hvars.get("vms_address") or hvars.get("ansible_host")}
    partial = set(visible) < set(plan["hosts"])
    if partial:
        lines = slice_differences(plan, visible)
        if lines:
            return {"msg": mismatch_message(str(path), plan, lines)}
    return {"plan": plan, "path": str(path), "partial": sorted(visible) if partial else []}
