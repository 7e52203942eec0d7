"""plugins/callback/vms_run_dir.py: a private directory per run, gone however the run ends (issue 20, item 6).

Real ansible-playbook runs with the checkout's ansible.cfg, on localhost only: a task writes a "key" into
VMS_RUN_DIR and reports the directory's path and mode; the run then ends well, fails, or is stopped with
SIGTERM while a task sleeps. The directory must be private (0700) while the run lasts and gone after it.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "callback" / "vms_run_dir.py"

PLAYBOOK = """---
- name: Use the run directory
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Write key material where the roles do
      ansible.builtin.copy:
        dest: "{{ lookup('ansible.builtin.env', 'VMS_RUN_DIR') }}/key.pem"
        content: "-----BEGIN PRIVATE KEY-----\\n"
        mode: "0600"
    - name: Say where it went
      ansible.builtin.shell: "stat -c 'RUNDIR %a %n' \\"$VMS_RUN_DIR\\"; echo STARTED >> {{ marker }}"
      changed_when: false
    - name: The end (fail, or sleep until stopped)
      ansible.builtin.command: "{{ 'false' if ending == 'fail' else 'sleep 60' if ending == 'sleep' else 'true' }}"
      changed_when: false
"""


def _load():
    spec = importlib.util.spec_from_file_location("vms_run_dir_under_test", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _start(tmp_path: Path, ending: str) -> tuple[subprocess.Popen, Path, Path]:
    book, parent, marker = tmp_path / "book.yml", tmp_path / "shm", tmp_path / "marker"
    book.write_text(PLAYBOOK)
    parent.mkdir()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), VMS_RUN_DIR_PARENT=str(parent),
               ANSIBLE_NOCOLOR="1", VMS_LOCK_DIR=str(tmp_path / "locks"), ANSIBLE_CACHE_PLUGIN_CONNECTION=str(tmp_path),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"))
    env.pop("VMS_RUN_DIR", None)
    proc = subprocess.Popen(["ansible-playbook", "-i", "localhost,", str(book), "-v", "-e", f"ending={ending}",
                             "-e", f"marker={marker}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    return proc, parent, marker


def _run_dir_line(out: str) -> tuple[str, str]:
    mode, path = out.split("stdout: RUNDIR ")[1].split()[:2]
    return mode, path


@pytest.mark.parametrize(("ending", "code"), [("ok", 0), ("fail", 2)])
def test_the_run_directory_is_private_and_gone_after_the_run(tmp_path, ending, code):
    proc, parent, _ = _start(tmp_path, ending)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == code, out[-3000:]
    mode, path = _run_dir_line(out)
    assert mode == "700" and Path(path).parent == parent, out[-3000:]
    assert list(parent.iterdir()) == []


def test_sigterm_removes_the_run_directory(tmp_path):
    proc, parent, marker = _start(tmp_path, "sleep")
    deadline = time.monotonic() + 90
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert marker.exists(), "the run never reached its sleeping task"
    assert [p.name for p in parent.iterdir()][0].startswith(f"vms-run-{proc.pid}-")
    time.sleep(1)  # the sleep task is running
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, out[-3000:]
    assert list(parent.iterdir()) == []
    # Ansible's own temporary directory of the run (decrypted vault files) is gone too.
    assert [p.name for p in (tmp_path / "local-tmp").iterdir()] == []


def test_a_killed_run_is_swept_by_the_next(tmp_path):
    plugin = _load()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"vms-run-{dead.pid}-abc"
    stale.mkdir(mode=0o700)
    (stale / "key.pem").write_text("key")
    live = tmp_path / f"vms-run-{os.getpid()}-abc"
    live.mkdir(mode=0o700)
    other = tmp_path / "vms-run-notapid"
    other.mkdir()
    assert plugin.sweep(str(tmp_path)) == [str(stale)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_run_dir_is_made_private_and_removed_only_by_its_maker(tmp_path):
    plugin = _load()
    run = plugin.RunDir(str(tmp_path))
    assert stat.S_IMODE(os.stat(run.path).st_mode) == 0o700
    run.owner = os.getpid() + 1  # as a forked worker sees it
    run.remove()
    assert os.path.isdir(run.path)
    run.owner = os.getpid()
    run.remove()
    assert not os.path.exists(run.path)


SUMMARY = ROOT / "plugins" / "callback" / "vms_run_summary.py"


def _summary():
    spec = importlib.util.spec_from_file_location("vms_run_summary_under_test", SUMMARY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_run_that_finished_says_nothing_more():
    stats = {"app1": {"changed": 3, "failures": 0, "unreachable": 0}, "edge1": {"changed": 0}}
    assert _summary().summary_line(stats) is None


def test_a_stopped_run_says_what_changed_and_what_did_not():
    stats = {"app1": {"changed": 3, "failures": 0, "unreachable": 0}, "rec2": {"changed": 0, "unreachable": 1},
             "rec3": {"changed": 1, "failures": 1}, "edge1": {"changed": 0}}
    line = _summary().summary_line(stats)
    assert "\n" not in line
    assert "(unreachable: rec2; failed: rec3)" in line
    assert "Changed: app1 (3 tasks), rec3 (1 task)." in line and "Not changed: edge1, rec2." in line
