"""Action plugin vms_audit_controller_file: the audit's reads and writes of controller files, in-process.

Each controller-side module run costs a Python process (about a second on a loaded machine); the audit
made four per site (stat and x509_certificate_info of the site certificate, file and copy of the
report). This plugin does the same work inside Ansible's own process:

- read (default): C(stat) as ansible.builtin.stat with checksum_algorithm sha256 returns it
  (exists, path, checksum) and, when O(soon_days) is given, C(info) as
  community.crypto.x509_certificate_info returns it (not_after, expired, valid_at.soon). Only the
  checksum and dates leave the file: a parsed PFX holds a private key.
- write: O(content) into O(path) (directory 0755, file 0644) when it differs; changed says so. The
  audit report is the audit's output on the controller, so it is written in check mode too.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile

from ansible.plugins.action import ActionBase

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - community.crypto needs it too
    x509 = None

ASN1_TIME = "%Y%m%d%H%M%SZ"


def file_stat(path: str) -> dict:
    if not os.path.isfile(path):
        return {"exists": False, "path": path}
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return {"exists": True, "path": path, "checksum": digest.hexdigest()}


def certificate_info(path: str, soon_days: int, now: dt.datetime | None = None) -> dict:
    now = now or dt.datetime.now(dt.timezone.utc)
    with open(path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    not_after = cert.not_valid_after_utc
    return {"not_after": not_after.strftime(ASN1_TIME), "expired": now > not_after,
            "valid_at": {"soon": cert.not_valid_before_utc <= now + dt.timedelta(days=soon_days) <= not_after}}


def write_if_changed(path: str, content: str) -> bool:
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o755, exist_ok=True)
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == content:
                return False
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".audit-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("path", "soon_days", "content", "state"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        path = str(args.get("path") or "")
        if not path:
            return dict(result, failed=True, msg="vms_audit_controller_file: path is required")
        if args.get("state", "read") == "write":
            changed = write_if_changed(path, str(args.get("content", "")))
            return dict(result, changed=changed, path=path)
        stat = file_stat(path)
        result.update(changed=False, stat=stat)
        if args.get("soon_days") is not None and stat["exists"]:
            if x509 is None:
                return dict(result, failed=True, msg="python cryptography is not installed on the controller")
            try:
                result["info"] = certificate_info(path, int(args["soon_days"]))
            except ValueError as exc:
                return dict(result, failed=True, msg=f"{path}: not a PEM certificate ({exc})")
        return result
