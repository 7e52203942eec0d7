"""Certificate filters (thin wrappers over vms_deploy.certs)."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

try:
    from vms_deploy import certs
    IMPORT_ERROR = None
except ImportError as exc:  # the controller lacks the package: say how to fix it, not a traceback
    IMPORT_ERROR = exc

MISSING = "the vms_deploy Python package is not installed: run bin/setup (or pip install -e .)"


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
