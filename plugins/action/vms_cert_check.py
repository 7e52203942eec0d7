"""Action plugin vms_cert_check: check one host's TLS certificate input on the controller.

Thin over vms_deploy.certs. Files are read through Ansible's loader, so vault-encrypted PEM/PFX
files work. Runs entirely on the controller and changes nothing.

Arguments (all optional except what the mode needs):
  cert_file, key_file, chain_file   PEM files (or pfx_file + pfx_password)
  pfx_file, pfx_password            PKCS#12 file and its password (vaulted)
  key_passphrase                    passphrase of an encrypted PEM key
  trust_files                       extra CA files that count as roots (e.g. the site CA)
  use_system_trust                  also accept roots in the controller's trust store (default true)
  names                             names/addresses clients use: each must be covered by a SAN
  warning_days                      warn when the certificate expires sooner (default 30)
  fail_on_error                     default true
  key_made_here                     true only for a key the certificates role made on this controller:
                                    skips cryptography's slow RSA consistency check (the key-pair
                                    match with the certificate is still checked); default false

Returns: info (subject, serial, not_after, days_left, dns_names, ip_addresses, chain),
problems (list of strings), warnings (shown by Ansible). Fails with one line per problem.
"""
from __future__ import annotations

import os
import runpy
from pathlib import Path

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

# The plugins' one import guard (plugins/filter/_vms_glue.py): certs is None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[1] / "filter" / "_vms_glue.py"))
(certs,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.certs")
MISSING = _GLUE["MISSING"]

_ARGS = frozenset(("cert_file", "key_file", "chain_file", "pfx_file", "pfx_password", "key_passphrase", "trust_files",
                   "use_system_trust", "names", "warning_days", "fail_on_error", "key_made_here"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _resolve(self, path, task_vars):
        """Relative paths are taken from the inventory directory, then the playbook directory."""
        if not path:
            return None
        path = os.path.expanduser(str(path))
        if os.path.isabs(path):
            return path
        for base in (task_vars.get("inventory_dir"), task_vars.get("playbook_dir")):
            if base and os.path.exists(os.path.join(base, path)):
                return os.path.join(base, path)
        return os.path.abspath(path)

    def _read_all(self, paths):
        """Decrypt vaulted files via the loader; missing files are left for certs.check to report."""
        contents = {}
        for path in paths:
            if path and os.path.isfile(path):
                try:
                    real = self._loader.get_real_file(path, decrypt=True)
                except AnsibleError:
                    continue  # e.g. no vault password: certs.check then reports the unreadable content
                try:
                    with open(real, "rb") as handle:
                        contents[path] = handle.read()
                finally:
                    self._loader.cleanup_tmp_file(real)
        return contents

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        host = task_vars.get("inventory_hostname")
        if IMPORT_ERROR is not None:
            return dict(result, failed=True, msg=f"{MISSING} ({IMPORT_ERROR})")
        args = self._task.args
        unknown = sorted(set(args) - _ARGS)
        if unknown:
            return dict(result, failed=True, msg=f"vms_cert_check: unknown argument(s) {', '.join(unknown)}")
        try:
            warning_days = int(args.get("warning_days", 30))
        except (TypeError, ValueError):
            return dict(result, failed=True, msg=f"host {host}: vms_tls_expiry_warning_days="
                        f"{args.get('warning_days')!r} is not a whole number of days. Fix: set it to e.g. 30")
        names = args.get("names") or []
        if isinstance(names, str):
            names = [names]
        trust = args.get("trust_files") or []
        if isinstance(trust, str):
            trust = [trust]
        inp = certs.CheckInput(
            cert_file=self._resolve(args.get("cert_file"), task_vars),
            key_file=self._resolve(args.get("key_file"), task_vars),
            chain_file=self._resolve(args.get("chain_file"), task_vars),
            pfx_file=self._resolve(args.get("pfx_file"), task_vars),
            pfx_password=to_text(args["pfx_password"]) if args.get("pfx_password") not in (None, "") else None,
            key_passphrase=to_text(args["key_passphrase"]) if args.get("key_passphrase") not in (None, "") else None,
            trust_files=[self._resolve(t, task_vars) for t in trust],
            use_system_trust=bool(args.get("use_system_trust", True)),
            names=[to_text(n) for n in names],
            warning_days=warning_days,
            host=host,
            validate_key=not boolean(args.get("key_made_here", False), strict=False),
        )
        inp.contents = self._read_all([inp.cert_file, inp.key_file, inp.chain_file, inp.pfx_file])
        checked = certs.check(inp)
        result["changed"] = False
        result["info"] = checked.info
        result["problems"] = [str(e) for e in checked.errors]
        if checked.warnings:
            result["warnings"] = [str(w) for w in checked.warnings]
        if checked.errors and args.get("fail_on_error", True):
            result["failed"] = True
            result["msg"] = "certificate check failed:\n" + "\n".join(result["problems"])
        return result
