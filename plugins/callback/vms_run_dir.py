"""A private directory per run for the key material the controller decrypts (see DOCUMENTATION)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: vms_run_dir
type: aggregate
short_description: Private run directory for decrypted key material, removed however the run ends
description:
  - When the playbook starts, makes one directory private to this run (mode 0700, in C(/dev/shm) when it is
    a writable RAM file system, else the system temporary directory) and exports its path as the
    environment variable C(VMS_RUN_DIR), which the roles read (C(lookup('ansible.builtin.env', 'VMS_RUN_DIR')))
    to place what the controller decrypts (an opened PFX, say) for the length of a task or block.
  - Removes the directory and everything in it when the playbook ends (the stats callback), when the
    C(ansible-playbook) process exits (atexit) and on SIGTERM, SIGHUP and SIGINT (then hands the signal to the
    handler that was there before). An unreachable host leaves its play without running the roles'
    C(always) sections, and a run may fail, be interrupted or be stopped; the key material goes anyway.
  - On those signals Ansible's own per-process temporary directory (C(ansible-local-PID...), where it puts
    the decrypted copies of vault-encrypted files for modules) is removed too; Ansible removes it only at exit.
  - A run killed with SIGKILL cannot clean up; the next run removes the run directories of processes that
    no longer exist (their names carry the pid), and C(/dev/shm) does not survive a reboot.
requirements:
  - a POSIX controller
options:
  run_dir_parent:
    description: Where run directories are made; default C(/dev/shm) when writable, else the temporary directory.
    type: path
    env:
      - name: VMS_RUN_DIR_PARENT
notes:
  - Nothing is written here by this plugin; the directory is empty until a role puts a file in it.
"""

import atexit
import errno
import os
import shutil
import signal
import tempfile

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

PREFIX = "vms-run-"
ENV = "VMS_RUN_DIR"
SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def default_parent() -> str:
    """/dev/shm (RAM, gone at reboot) when it is a writable directory, else the temporary directory."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return tempfile.gettempdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def sweep(parent: str) -> list[str]:
    """Remove the run directories (ours: same owner) of runs whose process is gone; the removed paths."""
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        pid_text = name[len(PREFIX):].partition("-")[0]
        if not name.startswith(PREFIX) or not pid_text.isdigit():
            continue
        path = os.path.join(parent, name)
        try:
            if os.lstat(path).st_uid != os.getuid() or _alive(int(pid_text)):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


class RunDir:
    """One run directory: made once, removed once, only by the process that made it."""

    def __init__(self, parent: str):
        self.owner = os.getpid()
        self.path = tempfile.mkdtemp(prefix=f"{PREFIX}{self.owner}-", dir=parent)
        os.chmod(self.path, 0o700)

    def remove(self) -> None:
        # Forked workers inherit this object and the atexit hook: only the making process removes.
        if os.getpid() == self.owner and self.path and os.path.lexists(self.path):
            shutil.rmtree(self.path, ignore_errors=True)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vms_run_dir"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run_dir: RunDir | None = None
        self._previous = {}

    def v2_playbook_on_start(self, playbook):
        if self.run_dir is not None:
            return
        parent = self.get_option("run_dir_parent") or default_parent()
        sweep(parent)
        self.run_dir = RunDir(parent)
        os.environ[ENV] = self.run_dir.path
        atexit.register(self._remove)
        for signum in SIGNALS:
            # Installed after the TaskQueueManager's own handlers (they stop the workers, then the process
            # dies without atexit): remove first, then hand over.
            self._previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)

    def _remove(self):
        if self.run_dir is not None:
            self.run_dir.remove()
            if os.environ.get(ENV) == self.run_dir.path and os.getpid() == self.run_dir.owner:
                del os.environ[ENV]

    def _on_signal(self, signum, frame):
        self._remove()
        if self.run_dir is not None and os.getpid() == self.run_dir.owner:
            # Ansible's own per-process temporary directory (ansible-local-PID...: the decrypted copies of
            # vault-encrypted files it hands to modules) goes only at exit, which a stopped run never reaches.
            local_tmp = getattr(C, "DEFAULT_LOCAL_TMP", None)
            if local_tmp and os.path.basename(local_tmp).startswith(f"ansible-local-{os.getpid()}"):
                shutil.rmtree(local_tmp, ignore_errors=True)
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL or previous is None:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def v2_playbook_on_stats(self, stats):
        self._remove()
