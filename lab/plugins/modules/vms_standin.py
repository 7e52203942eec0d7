#!/usr/bin/python
"""Module vms_standin: install and run the lab's stand-in listeners in one round trip."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: vms_standin
short_description: Install and run the lab stand-in listeners for a host's planned ports (lab only)
description:
  - The proprietary VMS services cannot run on Linux; in the container lab a labelled stand-in
    (standin.py, NOT the VMS product) listens on every inbound port the plan gives the host.
  - One module run does what used to take five tasks (directory, two file copies, port list,
    launcher); it writes the files that differ, then starts the stand-in, or restarts it when a file or
    the port list changed or it is not running. Every task is a round trip to the host, and the
    converge benchmark (docs/BENCHMARKS.md) showed these round trips growing with the site.
  - Containers have no systemd, so a pid file (/run/vms-standin.pid) stands in for a service unit.
  - Supports check mode (nothing is written or started) and diff mode (the port list).
options:
  lib_dir:
    description: Directory for the stand-in's files and its port list (standin.json).
    type: path
    required: true
  files:
    description: File name to content of the stand-in's program files (written with mode 0755).
    type: dict
    required: true
  ports:
    description: The port list, as the vms_standin_ports filter returns it (protocol, port, component, service).
    type: list
    elements: dict
    required: true
author: vms-deploy
"""

EXAMPLES = r"""
- name: Stand-in listeners for this host's planned ports
  vms_standin:
    lib_dir: /usr/local/lib/vms-deploy
    files:
      standin.py: "{{ lookup('ansible.builtin.file', 'lib/standin.py', rstrip=false) }}"
    ports: "{{ plan | vms_standin_ports(inventory_hostname) }}"
"""

RETURN = r"""
state:
  description: C(running) (nothing to do), C(started), C(restarted), or in check mode C(would start) / C(would restart).
  returned: always
  type: str
  sample: running
files_changed:
  description: Files written (or, in check mode, that would be), port list included.
  returned: always
  type: list
  elements: str
  sample: [standin.json]
"""

import json
import os
import subprocess
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

PID_FILE = "/run/vms-standin.pid"
LOG_FILE = "/var/log/vms-standin.log"
CONF = "standin.json"
PROGRAM = "standin.py"


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _write(path, text, mode):
    # Temporary file then rename: a half-written port list must never be read by a restart.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def running_pid():
    """The stand-in's pid when its pid file names a live standin.py process, else None."""
    text = _read(PID_FILE)
    if not text or not text.strip().isdigit():
        return None
    pid = int(text.strip())
    cmdline = _read(f"/proc/{pid}/cmdline") or ""
    return pid if PROGRAM in cmdline else None


def start(lib_dir, old_pid):
    if old_pid:
        os.kill(old_pid, 15)
        for _ in range(30):  # up to 3 s for the sockets to be released
            if not os.path.exists(f"/proc/{old_pid}"):
                break
            time.sleep(0.1)
    with open(LOG_FILE, "ab") as log:
        proc = subprocess.Popen(["python3", os.path.join(lib_dir, PROGRAM), os.path.join(lib_dir, CONF)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
    _write(PID_FILE, f"{proc.pid}\n", 0o644)
    time.sleep(0.3)
    return proc.poll() is None


def main():
    module = AnsibleModule(
        argument_spec={"lib_dir": {"type": "path", "required": True},
                       "files": {"type": "dict", "required": True},
                       "ports": {"type": "list", "elements": "dict", "required": True}},
        supports_check_mode=True)
    lib_dir = module.params["lib_dir"]
    files = dict(module.params["files"])
    if PROGRAM not in files:
        module.fail_json(msg=f"files must hold {PROGRAM} (the stand-in program)")
    conf_text = json.dumps(module.params["ports"], indent=4, sort_keys=True) + "\n"
    wanted = {name: (str(text), 0o755) for name, text in files.items()}
    wanted[CONF] = (conf_text, 0o644)

    before_conf = _read(os.path.join(lib_dir, CONF))
    changed_files = sorted(name for name, (text, _) in wanted.items() if _read(os.path.join(lib_dir, name)) != text)
    pid = running_pid()
    restart = bool(changed_files) or pid is None
    state = "running" if not restart else ("restarted" if pid else "started")
    result = {"changed": restart, "files_changed": changed_files}
    if module._diff and CONF in changed_files:
        result["diff"] = {"before": before_conf or "", "after": conf_text,
                          "before_header": os.path.join(lib_dir, CONF), "after_header": os.path.join(lib_dir, CONF)}
    if module.check_mode:
        module.exit_json(state=state if not restart else "would " + state[:-2], **result)

    if not os.path.isdir(lib_dir):
        os.makedirs(lib_dir, mode=0o755)
    for name in changed_files:
        text, mode = wanted[name]
        _write(os.path.join(lib_dir, name), text, mode)
    if restart and not start(lib_dir, pid):
        module.fail_json(msg="the stand-in exited at start; its log says: " + (_read(LOG_FILE) or "")[-2000:],
                         **result)
    module.exit_json(state=state, **result)


if __name__ == "__main__":
    main()
