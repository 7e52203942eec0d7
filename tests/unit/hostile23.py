"""Shared by the issue 23 hostile-input tests: a seed-shaped site (the XProtect example with its Mobile Server
alone in a DMZ, seed 001) copied to a temporary directory, changed by a case, then planned through
`vms-deploy plan` (in-process, trusted and --untrusted) or `ansible-playbook playbooks/plan.yml`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from vms_deploy import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "examples" / "xprotect_distributed_dmz"
Files = dict[str, "str | bytes | Callable[[Path], None]"]


def site(tmp_path: Path, extra_all: str = "", files: Files | None = None) -> Path:
    """The example site with `extra_all` appended to group_vars/all.yml and `files` (relative path -> text,
    bytes or a function that makes the file) written over it."""
    inv = tmp_path / "site"
    shutil.copytree(EXAMPLE, inv)
    with (inv / "group_vars" / "all.yml").open("a") as f:
        f.write(extra_all)
    for rel, content in (files or {}).items():
        path = inv / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return inv


def plan(capsys, inv: Path, out: Path, untrusted: bool) -> tuple[int, str, float]:
    """vms-deploy plan in-process: (exit code, stdout + stderr, seconds)."""
    started = time.monotonic()
    code = cli.main(["plan", str(inv), "--out", str(out), *(["--untrusted"] if untrusted else [])])
    elapsed = time.monotonic() - started
    stdout, stderr = capsys.readouterr()
    return code, stdout + stderr, elapsed


def playbook(inv: Path, out: Path, timeout: int = 120) -> tuple[int, str]:
    """ansible-playbook playbooks/plan.yml on the inventory (the project's ansible.cfg: its guarded plugins)."""
    # Without ANSIBLE_CONFIG: an in-process --untrusted run of the same test session sets it to an empty file.
    env = {**{k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}, "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(["ansible-playbook", "-i", str(inv), str(ROOT / "playbooks" / "plan.yml"),
                           "-e", f"vms_plan_dir={out}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def refused_line(text: str, *parts: str) -> str | None:
    """The first error line (`  - host ...: VARIABLE = VALUE PROBLEM. Fix: FIX`) holding every part."""
    for line in text.splitlines():
        if " Fix: " in line and all(part in line for part in parts):
            return line
    return None
