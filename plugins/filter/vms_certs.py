"""Certificate filters (thin wrappers over vms_deploy.certs)."""
from __future__ import annotations

import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(certs,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.certs")
MISSING = _GLUE["MISSING"]


def vms_tls_subject_alt_names(names):
    """['gw', '10.0.0.5', 'GW.example.com'] -> ['DNS:gw', 'DNS:gw.example.com', 'IP:10.0.0.5'] (stable order)."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise AnsibleFilterError(f"vms_tls_subject_alt_names: expected a list of names/addresses, got {names!r}")
    return certs.subject_alt_names(str(n) for n in names)


class FilterModule:
    def filters(self):
        return {"vms_tls_subject_alt_names": vms_tls_subject_alt_names}
