"""The facts of a document's provenance: clock, user, the inventory's git state, the plan's digests."""
from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import os
import socket
import subprocess
from collections.abc import Callable
from typing import Any

from . import Provenance

GIT_TIMEOUT_SECONDS = 30
DIGEST_LENGTH = 16


def _utc(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> _dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
    return _dt.datetime.now(_dt.timezone.utc)


def _user() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        name = "unknown user"
    return f"{name}@{socket.gethostname() or 'unknown host'}"


def _git(cwd: str, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", cwd, *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _newest_change(path: str) -> str | None:
    newest = None
    for root, dirs, names in os.walk(path) if os.path.isdir(path) else [(os.path.dirname(path), [], [path])]:
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            try:
                stamp = os.stat(os.path.join(root, name)).st_mtime
            except OSError:
                continue
            newest = stamp if newest is None or stamp > newest else newest
    return _utc(_dt.datetime.fromtimestamp(newest, _dt.timezone.utc)) if newest is not None else None


def inventory_state(inventory: str) -> dict[str, Any]:
    """{revision, dirty, inventory_date, inventory_note} of an inventory path (file or directory)."""
    path = os.path.abspath(inventory)
    where = path if os.path.isdir(path) else os.path.dirname(path)
    if not os.path.exists(path):
        return {"inventory_note": "path not found"}
    top = _git(where, "rev-parse", "--show-toplevel")
    if not top:
        return {"inventory_note": "not in a git repository", "inventory_date": _newest_change(path), "shown": path}
    revision = _git(where, "rev-parse", "HEAD")
    status = _git(where, "status", "--porcelain", "--untracked-files=normal", "--", path)
    dirty = bool(status) if status is not None else None
    if dirty or not revision:
        date = _newest_change(path)
    else:
        stamp = _git(where, "log", "-1", "--format=%ct", "--", path)
        date = _utc(_dt.datetime.fromtimestamp(int(stamp), _dt.timezone.utc)) if stamp and stamp.isdigit() else None
    # Shown relative to the repository, so `vms-deploy plan` and plan.yml (absolute sources) write the same bytes.
    shown = os.path.relpath(os.path.realpath(path), os.path.realpath(top)) if top else None
    return {"revision": revision, "dirty": dirty, "inventory_date": date, "shown": shown,
            "inventory_note": "" if revision else "a git repository without commits"}


def inventory_from_sources(sources) -> str | None:
    """The first existing path of Ansible's `ansible_inventory_sources` (or one path); None when none is."""
    items = [sources] if isinstance(sources, str) else list(sources or [])
    return next((str(s) for s in items if s and os.path.exists(str(s))), None)


def plan_sha256(plan: dict[str, Any]) -> str:
    from ..plan_io import plan_json

    return hashlib.sha256(plan_json(plan).encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def collect(plan: dict[str, Any], inventory: str | None = None, *, stamped: bool = False,
            now: Callable[[], _dt.datetime] | _dt.datetime | None = None, user: str | None = None,
            version: str | None = None) -> Provenance:
    """The provenance of a document made from `plan` (compiled from `inventory`, when given).

    stamped: the document is written on demand and records when (the report); plan files are not.
    now, user, version: injected by tests (default: the clock or SOURCE_DATE_EPOCH, user@host, the package)."""
    from .. import __version__
    from ..plan_io import host_digests

    state = inventory_state(inventory) if inventory else {}
    shown = state.pop("shown", None) or inventory
    moment = None
    if stamped:
        moment = now() if callable(now) else (now or _now())
    return Provenance(tool_version=version or __version__, generated_by=user or _user(),
                      plan_sha256=plan_sha256(plan), host_digests=host_digests(plan),
                      generated_at=_utc(moment) if moment else None, inventory=shown, **state)


