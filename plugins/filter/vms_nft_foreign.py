"""Filters for nftables tables vms-deploy does not own (thin wrappers over vms_deploy.nft_foreign)."""

from __future__ import annotations

import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(nft_foreign,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.nft_foreign")
MISSING = _GLUE["MISSING"]


def _module():
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    return nft_foreign


def _call(name, *args):
    module = _module()
    try:
        return getattr(module, name)(*args)
    except module.ForeignError as exc:
        raise AnsibleFilterError(str(exc)) from None


def vms_nft_foreign_findings(listing, host, owned=None, accepted=None, removed=None):
    """`nft -j list ruleset` stdout | vms_nft_foreign_findings(host, [owned], [accepted], [removed]) -> findings."""
    module = _module()
    return _call("findings", listing, host, owned or module.OWNED_DEFAULT, accepted or (), removed or ())


def vms_nft_foreign_tables(listing, owned=None, accepted=None):
    """`nft -j list ruleset` stdout | vms_nft_foreign_tables([owned], [accepted]) -> [{family, name}] to remove."""
    module = _module()
    return _call("to_remove", listing, owned or module.OWNED_DEFAULT, accepted or ())


class FilterModule:
    def filters(self):
        return {"vms_nft_foreign_findings": vms_nft_foreign_findings, "vms_nft_foreign_tables": vms_nft_foreign_tables}
