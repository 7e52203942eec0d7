"""One run at a time per site: an fcntl lock on build/locks/<vms_site>.lock (see DOCUMENTATION)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: vms_site_lock
type: aggregate
short_description: Refuse (or wait for) a second run against the same VMS site
description:
  - Before the first play of a playbook that changes hosts, takes an exclusive POSIX record lock
    (C(fcntl.lockf)) on C(<lock_dir>/<vms_site>.lock) for every C(vms_site) of the inventory, and holds it
    until the C(ansible-playbook) process ends. The kernel releases the lock when the process dies, however
    it dies, so a lock can never go stale. A record lock (unlike C(flock)) is not inherited by the worker
    processes Ansible forks, so a worker left behind by a killed run holds nothing.
  - A second run against the same site waits up to C(vms_lock_wait) seconds (default 0, refuse at once),
    then stops with exit code 75 and a message naming the holder (user, pid, controller host, playbook,
    start time).
  - Playbooks listed in O(exempt_playbooks) (read-only ones such as plan.yml, audit.yml and cameras.yml) take no lock.
    C(--syntax-check) and C(--list-*) runs take none either (Ansible sends no callbacks for them).
requirements:
  - a POSIX controller (fcntl)
options:
  lock_dir:
    description: Directory of the lock files; default C(build/locks) in the checkout holding this plugin.
    type: path
    env:
      - name: VMS_LOCK_DIR
    ini:
      - section: callback_vms_site_lock
        key: lock_dir
  exempt_playbooks:
    description: Playbook file names that never take the lock (they change no managed host).
    type: list
    elements: str
    default: [plan.yml, audit.yml, report.yml, cameras.yml]
    env:
      - name: VMS_LOCK_EXEMPT_PLAYBOOKS
    ini:
      - section: callback_vms_site_lock
        key: exempt_playbooks
notes:
  - C(vms_lock_wait) is read from extra vars (C(-e vms_lock_wait=600)), then the inventory, then the
    C(VMS_LOCK_WAIT) environment variable.
  - The lock serialises runs that share the lock directory (one checkout or controller, or an AWX
    project directory). Controllers with separate checkouts do not see each other's locks.
"""

import datetime
import errno
import fcntl
import getpass
import json
import os
import re
import socket
import time

from ansible.plugins.callback import CallbackBase

EXIT_LOCKED = 75  # EX_TEMPFAIL (sysexits.h): temporary failure, try again later
EXIT_BAD_INPUT = 5  # what ansible-playbook returns for bad options
POLL_SECONDS = 0.5
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
# Open lock files live here for the life of the process: closing one would release its lock.
_HELD: dict = {}


def default_lock_dir() -> str:
    """build/locks in the checkout that holds this plugin (plugins/callback/ -> checkout root)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(root, "build", "locks")


def lock_path(lock_dir: str, site: str) -> str:
    name = _SAFE.sub("_", str(site)) or "site"
    return os.path.join(lock_dir, name + ".lock")


def parse_wait(value, origin: str) -> float:
    """vms_lock_wait as seconds >= 0; ValueError with the variable, the bad value and the fix."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds < float("inf"):  # also refuses NaN
        raise ValueError(f"vms_lock_wait = {value!r} (from {origin}) is not a number of seconds >= 0; fix: set it to 0 "
                         "to refuse at once, or to how long a second run may wait, e.g. -e vms_lock_wait=600")
    return seconds


def holder_text(raw: str) -> str:
    """Who holds the lock, from the JSON the holder wrote into the lock file."""
    try:
        info = json.loads(raw)
        return "user {}, pid {} on {}, playbook {}, started {}".format(
            info["user"], info["pid"], info["host"], info["playbook"], info["started"])
    except (ValueError, KeyError, TypeError):
        return "a run that has just started (its details are not written yet)"


def holder_info(playbook: str) -> dict:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (containers): the uid still identifies the holder
        user = f"uid {os.getuid()}"
    return {"user": user, "pid": os.getpid(), "host": socket.gethostname(), "playbook": playbook,
            "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


class SiteLocked(Exception):
    def __init__(self, site, path, holder, waited):
        super().__init__(site)
        self.site, self.path, self.holder, self.waited = site, path, holder, waited

    def message(self) -> str:
        waited = ("refused at once (vms_lock_wait is 0)" if not self.waited
                  else f"waited {self.waited:g} s (vms_lock_wait)")
        return (f"site {self.site!r} is being changed by another run: {self.holder}. This run {waited} and changed "
                f"nothing. Lock file: {self.path}. Fix: "
                "wait for that run to finish, or re-run with -e vms_lock_wait=SECONDS to queue behind it. The lock "
                "belongs to a live process: it is released the moment that process ends, so there is nothing to "
                "delete.")


def acquire(path: str, wait: float, info: dict, on_wait=None, clock=time.monotonic, sleep=time.sleep):
    """Take the lock at path (waiting up to `wait` seconds) and write info into it; return the open file.

    Raises SiteLocked naming the holder when the lock is still taken after `wait`.
    """
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    # "a+" never truncates: the holder's details stay readable until we own the lock. This process
    # must never open and close the file elsewhere: closing any descriptor drops a POSIX record lock.
    handle = open(path, "a+", encoding="utf-8")
    deadline = clock() + wait
    told = False
    while True:
        try:
            fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                handle.close()
                raise
        handle.seek(0)
        holder = holder_text(handle.read())
        if clock() >= deadline:
            handle.close()
            raise SiteLocked(info.get("site", "?"), path, holder, wait)
        if on_wait and not told:
            on_wait(holder)
            told = True
        sleep(min(POLL_SECONDS, max(deadline - clock(), 0.01)))
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(info, sort_keys=True) + "\n")
    handle.flush()
    return handle


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vms_site_lock"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        name = os.path.basename(getattr(playbook, "_file_name", "") or "playbook")
        exempt = set(self.get_option("exempt_playbooks") or [])
        if name in exempt:
            return
        plays = playbook.get_plays()
        manager = plays[0].get_variable_manager() if plays else None
        if manager is None:
            return
        sites, wait_values = self._site_vars(manager)
        try:
            wait = self._wait(manager, wait_values)
        except ValueError as exc:
            self._stop(str(exc), EXIT_BAD_INPUT)
        lock_dir = self.get_option("lock_dir") or default_lock_dir()
        for site in sorted(sites):
            path = lock_path(lock_dir, site)
            if path in _HELD:
                continue  # several playbooks in one command: this process holds it already
            info = dict(holder_info(name), site=site)
            try:
                _HELD[path] = acquire(path, wait, info, on_wait=lambda holder, s=site: self._display.display(
                    f"vms_site_lock: site {s!r} is locked by {holder}; waiting up to {wait:g} s (vms_lock_wait)"))
            except SiteLocked as locked:
                self._stop(locked.message())
            except OSError as exc:
                self._stop(f"cannot create the site lock {path}: {exc.strerror or exc}; fix: make {lock_dir} writable "
                           "or set VMS_LOCK_DIR", 1)
            self._display.vv(f"vms_site_lock: holding {path}")

    @staticmethod
    def _site_vars(manager):
        """The inventory's vms_site and any vms_lock_wait, from the first host that sets vms_site.

        validate.py makes every host carry the same vms_site, so one host is enough (and a site of
        thousands of hosts costs one variable lookup, not thousands)."""
        inventory = manager._inventory
        for host in inventory.get_hosts("all", ignore_restrictions=True):
            hvars = manager.get_vars(host=host, include_hostvars=False)
            site = hvars.get("vms_site")
            if site not in (None, ""):
                waits = [(hvars["vms_lock_wait"], f"the inventory of host {host.name}")] \
                    if "vms_lock_wait" in hvars else []
                return {str(site)}, waits
        # No vms_site yet: validation will say so; still serialise the run.
        return ({"site"} if inventory.hosts else set()), []

    @staticmethod
    def _wait(manager, inventory_values) -> float:
        extra = getattr(manager, "extra_vars", None) or {}
        if "vms_lock_wait" in extra:
            return parse_wait(extra["vms_lock_wait"], "extra vars")
        if inventory_values:
            return parse_wait(*inventory_values[0])
        if os.environ.get("VMS_LOCK_WAIT"):
            return parse_wait(os.environ["VMS_LOCK_WAIT"], "the environment variable VMS_LOCK_WAIT")
        return 0.0

    def _stop(self, message, code=EXIT_LOCKED):
        self._display.error("vms_site_lock: " + message)
        # A callback cannot fail a run by raising an Exception (Ansible turns it into a warning);
        # SystemExit passes through and the playbook executor still cleans up in its finally block.
        raise SystemExit(code)
