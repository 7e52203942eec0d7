"""Camera audit filters (thin wrappers over vms_deploy.cameras; playbooks/cameras.yml, docs/cameras.md)."""
from __future__ import annotations

import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(inventory, report), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.cameras.inventory", "vms_deploy.cameras.report")
MISSING = _GLUE["MISSING"]


def _ready():
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")


def vms_camera_request(site_vars, discovery_seconds=5.0, max_probes=1024, try_defaults=None):
    """{vms_camera_networks, vms_cameras, vms_camera_username, ...} -> the audit request (holds the password:
    hand it to the auditing host on stdin, under no_log)."""
    _ready()
    if not isinstance(site_vars, dict):
        raise AnsibleFilterError(f"vms_camera_request: expected the site's camera variables, got {site_vars!r}")
    return inventory.audit_request(lambda name, default=None: site_vars.get(name, default),
                                   discovery_seconds=float(discovery_seconds), max_probes=int(max_probes),
                                   try_defaults=try_defaults)


def vms_camera_markdown(result, site=""):
    _ready()
    return report.to_markdown(result, str(site))


def vms_camera_json(result):
    _ready()
    return report.to_json(result)


def vms_camera_findings(result):
    """The lines of every finding (notes left out): 'ADDRESS: TEXT (SEED)'."""
    _ready()
    return [f"{where}: {f['text']} ({f['seed']})" for where, f in report.findings(result)
            if f["severity"] == "finding"]


class FilterModule:
    def filters(self):
        return {"vms_camera_request": vms_camera_request, "vms_camera_markdown": vms_camera_markdown,
                "vms_camera_json": vms_camera_json, "vms_camera_findings": vms_camera_findings}
