"""plugins/callback/vms_preload.py: filter and test plugins are loaded once, in ansible-playbook's own
process, not again in every task's worker (docs/BENCHMARKS.md: about 3 s of a 9 s no-change re-run).

A throwaway filter plugin writes the pid of each process that imports it. Without the callback every
task that uses the filter imports it again in its own worker; with it, only ansible-playbook does."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CALLBACKS = Path(__file__).resolve().parents[2] / "plugins" / "callback"
FILTER = """import os
with open(os.environ["PRELOAD_LOG"], "a") as log:
    log.write(f"{os.getpid()}\\n")


class FilterModule:
    def filters(self):
        return {"preload_probe": lambda value: value}
"""
PLAYBOOK = """---
- name: Use one filter in three tasks
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
""" + "".join(f"""    - name: Task {i}
      ansible.builtin.set_fact:
        probe_{i}: "{{{{ {i} | preload_probe }}}}"
""" for i in range(3))


@pytest.mark.parametrize("enabled", [False, True])
def test_filters_load_once_in_the_controller_process(tmp_path, enabled):
    (tmp_path / "filters").mkdir()
    (tmp_path / "filters" / "probe.py").write_text(FILTER)
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    log = tmp_path / "loads.log"
    # No ansible.cfg in tmp_path: the callback runs only when the environment enables it.
    env = dict(os.environ, ANSIBLE_FILTER_PLUGINS=str(tmp_path / "filters"), ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
               PRELOAD_LOG=str(log), ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CONFIG"):
        env.pop(name, None)
    if enabled:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "vms_preload"
    proc = subprocess.Popen(["ansible-playbook", "-i", "localhost,", "site.yml"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    pids = log.read_text().split()
    if enabled:
        assert pids == [str(proc.pid)], pids  # once, by ansible-playbook itself
    else:
        assert len(pids) == 3 and str(proc.pid) not in pids, pids  # once per task, each in its worker
