"""Where a run keeps a site's files (thin wrapper over vms_deploy.runner.build_path)."""
from __future__ import annotations

import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(runner,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.runner")
MISSING = _GLUE["MISSING"]
# This checkout (plugins/filter/ -> root): a plain ansible-playbook run keeps build/ here, as it always did.
CHECKOUT = Path(__file__).resolve().parents[2]


def vms_build_path(kind, site):
    """'pki' | vms_build_path('aio') -> $VMS_BUILD_DIR/pki/aio (vms-deploy deploy|check|audit|rotate, a site
    repository), else CHECKOUT/build/pki/aio."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    if not isinstance(kind, str) or not kind.isidentifier():
        raise AnsibleFilterError(f"vms_build_path: the kind of file must be a word such as pki or plan, got {kind!r}")
    site = str(site)
    if not site or "/" in site or site in (".", ".."):
        raise AnsibleFilterError(f"vms_build_path: {site!r} is not a site name (vms_site)")
    return runner.build_path(kind, site, root=CHECKOUT)


class FilterModule:
    def filters(self):
        return {"vms_build_path": vms_build_path}
