"""plugins/callback/vms_site_lock.py: one changing run per site; the second waits or refuses, clearly.

The helper tests load the plugin file directly; the run tests start real ansible-playbook processes
against a local-connection inventory (nothing leaves this machine) with the lock dir in tmp_path.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "callback" / "vms_site_lock.py"


def _load():
    spec = importlib.util.spec_from_file_location("vms_site_lock_under_test", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lock = _load()


def test_lock_path_is_sanitised(tmp_path):
    assert lock.lock_path(str(tmp_path), "aio") == str(tmp_path / "aio.lock")
    assert lock.lock_path(str(tmp_path), "../etc/x y") == str(tmp_path / ".._etc_x_y.lock")


def test_default_lock_dir_is_build_locks_of_the_checkout():
    assert lock.default_lock_dir() == str(ROOT / "build" / "locks")


@pytest.mark.parametrize("value,seconds", [(0, 0.0), ("30", 30.0), (1.5, 1.5)])
def test_parse_wait(value, seconds):
    assert lock.parse_wait(value, "extra vars") == seconds


@pytest.mark.parametrize("value", ["soon", -1, "nan", "inf", None, "{{ x }}"])
def test_parse_wait_rejects_with_fix(value):
    with pytest.raises(ValueError) as err:
        lock.parse_wait(value, "extra vars")
    text = str(err.value)
    assert "vms_lock_wait = " in text and "extra vars" in text and "fix:" in text


def test_holder_text():
    raw = json.dumps({"user": "ana", "pid": 42, "host": "ctl", "playbook": "site.yml", "started": "T"})
    assert lock.holder_text(raw) == "user ana, pid 42 on ctl, playbook site.yml, started T"
    assert "just started" in lock.holder_text("")


HOLDER_INFO = {"user": "ana", "pid": 1, "host": "c", "playbook": "site.yml", "started": "T0", "site": "demo"}


@pytest.fixture()
def held(tmp_path):
    """The lock held by another process (POSIX record locks never conflict within one process)."""
    path = tmp_path / "locks" / "demo.lock"
    code = (f"import importlib.util, json, sys, time\n"
            f"spec = importlib.util.spec_from_file_location('l', {str(PLUGIN)!r})\n"
            f"m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            f"h = m.acquire({str(path)!r}, 0, {HOLDER_INFO!r})\n"
            f"print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield str(path), proc
    proc.kill()
    proc.wait(timeout=30)


def test_second_acquire_refused_at_once_naming_holder(held):
    path, holder = held
    with pytest.raises(lock.SiteLocked) as err:
        lock.acquire(path, 0, {"site": "demo"})
    message = err.value.message()
    assert "site 'demo'" in message and "user ana, pid 1 on c, playbook site.yml, started T0" in message
    assert "refused at once" in message and "vms_lock_wait" in message
    # The holder ending (however it ends) frees it.
    holder.kill()
    holder.wait(timeout=30)
    lock.acquire(path, 0, {"site": "demo"}).close()


def test_wait_is_bounded(held):
    path, _ = held
    now = [0.0]
    told = []

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(lock.SiteLocked) as err:
        lock.acquire(path, 3, {"site": "demo"}, on_wait=told.append, clock=lambda: now[0], sleep=sleep)
    assert 3.0 <= now[0] < 3.6
    assert told == ["user ana, pid 1 on c, playbook site.yml, started T0"]
    assert "waited 3 s" in err.value.message()


# ---- real ansible-playbook runs ------------------------------------------------------------------

HOLD = """---
- name: Hold the site for a while
  hosts: all
  gather_facts: false
  tasks:
    - name: Wait
      ansible.builtin.pause:
        seconds: "{{ hold_seconds | default(0) }}"
"""


@pytest.fixture()
def site(tmp_path):
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    h1:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n      vms_site: demo\n")
    (tmp_path / "site.yml").write_text(HOLD)
    (tmp_path / "plan.yml").write_text(HOLD)
    env = dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=str(PLUGIN.parent), ANSIBLE_CALLBACKS_ENABLED="vms_site_lock",
               VMS_LOCK_DIR=str(tmp_path / "locks"), ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="0")
    env.pop("VMS_LOCK_WAIT", None)
    return tmp_path, env


def _run(tmp, env, playbook="site.yml", *extra, timeout=120):
    return subprocess.run(["ansible-playbook", "-i", "hosts.yml", playbook, *extra], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _start_holder(tmp, env, seconds):
    # Own process group: Ansible's forked workers are cleaned up with it (_stop_group).
    proc = subprocess.Popen(["ansible-playbook", "-i", "hosts.yml", "site.yml", "-e", f"hold_seconds={seconds}"],
                            cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lock_file = tmp / "locks" / "demo.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if lock_file.exists() and f'"pid": {proc.pid}' in lock_file.read_text():
            return proc
        if proc.poll() is not None:
            pytest.fail("holder run ended early:\n" + proc.stdout.read())
        time.sleep(0.1)
    _stop_group(proc)
    pytest.fail("holder run never took the lock")


def _stop_group(proc):
    """Kill the holder and every worker it forked (a killed main process leaves its workers behind)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def test_second_run_refused_clearly(site):
    tmp, env = site
    holder = _start_holder(tmp, env, 20)
    try:
        started = time.monotonic()
        second = _run(tmp, env)
        took = time.monotonic() - started
    finally:
        _stop_group(holder)
    out = second.stdout + second.stderr
    assert second.returncode == 75, out
    assert "vms_site_lock: site 'demo' is being changed by another run" in out
    assert f"pid {holder.pid} on " in out and "playbook site.yml" in out and "user " in out and "started 20" in out
    assert "TASK [Wait]" not in out  # refused before any task ran
    assert took < 20


def test_second_run_waits_then_runs(site):
    tmp, env = site
    holder = _start_holder(tmp, env, 8)
    try:
        second = _run(tmp, env, "site.yml", "-e", "vms_lock_wait=60")
        holder_out, _ = holder.communicate(timeout=60)
    finally:
        _stop_group(holder)
    out = second.stdout + second.stderr
    assert second.returncode == 0, out
    assert "is locked by user" in out and "waiting up to 60 s" in out
    assert holder.returncode == 0, holder_out


def test_killed_holder_leaves_no_stale_lock(site):
    tmp, env = site
    holder = _start_holder(tmp, env, 60)
    try:
        os.kill(holder.pid, signal.SIGKILL)  # only the main process, as a crash would
        holder.wait(timeout=30)
        second = _run(tmp, env)
    finally:
        _stop_group(holder)
    assert second.returncode == 0, second.stdout + second.stderr


def test_read_only_playbook_takes_no_lock(site):
    tmp, env = site
    holder = _start_holder(tmp, env, 20)
    try:
        plan = _run(tmp, env, "plan.yml")
    finally:
        _stop_group(holder)
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_bad_lock_wait_names_variable(site):
    tmp, env = site
    proc = _run(tmp, env, "site.yml", "-e", "vms_lock_wait=soon")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 5, out
    assert "vms_lock_wait = 'soon' (from extra vars)" in out and "Traceback" not in out
