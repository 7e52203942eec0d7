"""The package works outside the checkout (issue 16): a wheel built from this tree, installed into a
fresh venv, validates and plans a site from a directory that is not the checkout.

The validator reads every role's argument specs (the inventory variables' names and types); they are
package data (src/vms_deploy/specs/<role>.yml, linked from roles/<role>/meta/argument_specs.yml), so
an installed package needs no roles/ next to it. No containers: about 30-60 s, most of it building the
wheel (pip's isolated build environment).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "examples" / "valerus_all_in_one"
GOLDEN = ROOT / "tests" / "golden" / "plans" / "valerus_all_in_one.json"
TIMEOUT = 600


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT, check=False,
                          **kwargs)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; its dependencies (PyYAML, Jinja2, ansible-core) are read
    from this interpreter's site-packages through a plain path line: no .pth file of that directory
    runs, so an editable install of the checkout stays invisible."""
    tmp = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", ROOT])
    wheels = sorted((tmp / "dist").glob("vms_deploy-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheels[0]])
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "zz_vms_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def outside_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ANSIBLE_", "VIRTUAL_ENV"))}
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def test_the_installed_package_is_not_the_checkout(installed, tmp_path):
    code = "import vms_deploy.validate as v; print(v.__file__); print(v.SPEC_PATH)"
    proc = run([installed / "bin" / "python", "-c", code], cwd=tmp_path, env=outside_env())
    module, spec = proc.stdout.split()
    assert Path(module).is_relative_to(installed) and not Path(module).is_relative_to(ROOT / "src"), module
    assert Path(spec).is_file() and Path(spec).is_relative_to(installed), spec


def test_vms_deploy_plan_outside_the_checkout(installed, tmp_path):
    proc = run([installed / "bin" / "vms-deploy", "plan", EXAMPLE], cwd=tmp_path, env=outside_env())
    assert json.loads(proc.stdout) == json.loads(GOLDEN.read_text())


def test_the_installed_validator_knows_every_variable(installed, tmp_path):
    """A misspelled variable is refused with a "did you mean" taken from the packaged specs."""
    inventory = tmp_path / "site"
    inventory.mkdir()
    for part in EXAMPLE.iterdir():
        if part.is_file():
            (inventory / part.name).write_text(part.read_text())
    (inventory / "group_vars").mkdir()
    for part in (EXAMPLE / "group_vars").iterdir():
        (inventory / "group_vars" / part.name).write_text(part.read_text())
    all_vars = inventory / "group_vars" / "all.yml"
    all_vars.write_text(all_vars.read_text() + "vms_web_playr: false\n")
    proc = subprocess.run([str(installed / "bin" / "vms-deploy"), "plan", str(inventory)], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False, cwd=tmp_path, env=outside_env())
    assert proc.returncode != 0
    assert ("vms_web_playr = False is not a vms-deploy variable (did you mean vms_web_player?)"
            in proc.stderr + proc.stdout)
