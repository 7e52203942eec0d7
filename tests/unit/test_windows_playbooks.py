"""The Windows plays and roles: syntax, lint, and that every inventory variable they read is documented."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ["windows_prechecks", "windows_install", "windows_firewall", "windows_certificates", "valerus_gateway"]
PLAY = "playbooks/stages/windows_hosts.yml"
EXAMPLES = sorted(p for p in (ROOT / "inventories" / "examples").iterdir() if (p / "hosts.yml").exists())
TIMEOUT = 600


def _run(cmd):
    if not shutil.which(cmd[0]):
        pytest.fail(f"{cmd[0]} is not installed: run bin/setup")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_windows_stage_syntax_check(example):
    code, out = _run(["ansible-playbook", "--syntax-check", "-i", str(example), PLAY])
    assert code == 0, out


def test_windows_roles_lint_clean():
    paths = [PLAY] + [f"roles/{r}" for r in ROLES]
    _code, out = _run(["ansible-lint", "--profile", "production", "--nocolor", "-f", "pep8", *paths])
    roles = "|".join(ROLES)
    mine = [line for line in out.splitlines()
            if re.match(rf"^(playbooks/stages/windows_hosts\.yml|roles/({roles})/)", line)]
    assert not mine, "\n".join(mine)


def test_windows_files_yamllint_clean():
    code, out = _run(["yamllint", "--strict", PLAY, *[f"roles/{r}" for r in ROLES],
                      "tests/golden/windows/settings.yml"])
    assert code == 0, out


def _vms_names_used() -> set[str]:
    files = [ROOT / PLAY] + [f for r in ROLES for f in (ROOT / "roles" / r).rglob("*.yml") if "meta" not in f.parts]
    names = set()
    for path in files:
        names |= set(re.findall(r"\b(vms_[a-z0-9_]+)\b", path.read_text()))
    # filter and action names and the dynamic group are not variables
    return {n for n in names if not n.startswith(("vms_windows_", "vms_xprotect_", "vms_valerus_", "vms_pfx_",
                                                   "vms_platform_", "vms_plan", "vms_component_", "vms_zone_",
                                                   "vms_product_", "vms_gateway_proxy_",
                                                   "vms_gateway_registration_"))}


def test_role_defaults_and_argument_specs_agree():
    for role in ROLES:
        spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        documented = {n for n in spec["argument_specs"]["main"]["options"] if n.startswith("vms_")}
        read = set(re.findall(r"\b(vms_[a-z0-9_]+) \|", (ROOT / "roles" / role / "defaults" / "main.yml").read_text()))
        assert read <= documented, f"{role}: defaults read {sorted(read - documented)} not in meta/argument_specs.yml"


def test_every_inventory_variable_the_windows_stage_reads_is_accepted_by_the_validator():
    """vms_plan rejects unknown vms_* names; those documented in a role's argument_specs are accepted."""
    from vms_deploy.catalog import all_groups
    from vms_deploy.validate import inventory_spec, role_variables
    known = set(inventory_spec()) | set(role_variables()) | set(all_groups()) | {"vms_deploy"}
    missing = sorted(n for n in _vms_names_used() if n not in known and not n.endswith("_"))
    assert not missing, "document these in the reading role's meta/argument_specs.yml: " + ", ".join(missing)
