"""Run from the site's own repository (issue 20, item 7): vms_deploy.runner and `vms-deploy deploy|check|audit|
rotate`. The command is built from outside the checkout; one real ansible-playbook --syntax-check from a
directory outside it shows the toolkit's configuration (its action plugins: vms_plan) is the one used."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vms_deploy import runner

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "examples" / "valerus_all_in_one"


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "customer-site"
    (site / "group_vars").mkdir(parents=True)
    (site / "hosts.yml").write_text((EXAMPLE / "hosts.yml").read_text())
    (site / "group_vars" / "all.yml").write_text((EXAMPLE / "group_vars" / "all.yml").read_text())
    return site


@pytest.mark.parametrize(("action", "playbook", "options"), [
    ("deploy", "site.yml", []), ("check", "site.yml", ["--check", "--diff"]), ("audit", "audit.yml", []),
    ("rotate", "rotate_certificates.yml", [])])
def test_each_action_runs_its_playbook_with_the_toolkit_config(tmp_path, monkeypatch, action, playbook, options):
    site = _site(tmp_path)
    monkeypatch.chdir(tmp_path)
    run = runner.prepare(action, "customer-site", None, ["--limit", "valerus1"], env={"PATH": "/bin"})
    assert run.argv == ["ansible-playbook", "-i", str(site), str(ROOT / "playbooks" / playbook), *options,
                        "--limit", "valerus1"]
    assert run.env["ANSIBLE_CONFIG"] == str(ROOT / "ansible.cfg")
    assert run.env["VMS_BUILD_DIR"] == str(site / "build") == str(run.build_dir)
    assert run.env["VMS_LOCK_DIR"] == str(site / "build" / "locks")
    assert run.env["ANSIBLE_CACHE_PLUGIN_CONNECTION"] == str(site / "build" / "facts")
    assert run.cwd == str(tmp_path)
    assert run.env["PYTHONWARNINGS"] == runner.DSA_IMPORT_WARNING


def test_a_hosts_file_keeps_build_beside_it_and_build_dir_wins(tmp_path):
    site = _site(tmp_path)
    assert runner.prepare("deploy", str(site / "hosts.yml"), None, [], env={}).build_dir == site / "build"
    other = tmp_path / "elsewhere"
    assert runner.prepare("deploy", str(site), str(other), [], env={}).build_dir == other


@pytest.mark.parametrize("extra", [["-i", "x"], ["--inventory=x"], ["--inventory-file", "x"]])
def test_a_second_inventory_is_refused(tmp_path, extra):
    with pytest.raises(runner.RunnerError, match="INVENTORY argument"):
        runner.prepare("deploy", str(_site(tmp_path)), None, extra, env={})


def test_a_missing_inventory_or_toolkit_is_a_clear_error(tmp_path):
    with pytest.raises(runner.RunnerError, match="does not exist"):
        runner.prepare("deploy", str(tmp_path / "nope"), None, [], env={})
    with pytest.raises(runner.RunnerError, match="VMS_DEPLOY_HOME"):
        runner.prepare("deploy", str(_site(tmp_path)), None, [], env={"VMS_DEPLOY_HOME": str(tmp_path)})


def test_build_path_is_the_checkout_unless_the_cli_says(tmp_path):
    assert runner.build_path("pki", "aio", env={}) == str(ROOT / "build" / "pki" / "aio")
    assert runner.build_path("pki", "aio", env={"VMS_BUILD_DIR": str(tmp_path)}) == str(tmp_path / "pki" / "aio")


def _outside_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    return dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))


def test_the_cli_runs_the_toolkit_from_outside_the_checkout(tmp_path):
    """Plain ansible-playbook from the site's directory cannot resolve the toolkit's roles and plugins (it reads
    no ansible.cfg there); `vms-deploy deploy` can."""
    site = _site(tmp_path)
    plain = subprocess.run(["ansible-playbook", "-i", str(site), str(ROOT / "playbooks" / "site.yml"),
                            "--syntax-check"], cwd=site, env=_outside_env(tmp_path), capture_output=True, text=True,
                           timeout=300, check=False)
    # Its roles and plugins are not found (the role first, then "couldn't resolve module/action 'vms_plan'").
    assert plain.returncode != 0 and "validate_inventory" in plain.stdout + plain.stderr
    proc = subprocess.run(["vms-deploy", "deploy", str(site), "--syntax-check"], cwd=site, env=_outside_env(tmp_path),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ANSIBLE_CONFIG={ROOT / 'ansible.cfg'}" in proc.stderr
    # Item 9: ansible-core's own DSA import warning is not the user's concern (plain ansible-playbook shows it).
    assert "CryptographyDeprecationWarning" in plain.stderr and "CryptographyDeprecationWarning" not in proc.stderr


def test_check_without_a_flow_is_the_dry_run_and_half_a_flow_is_refused(tmp_path, capsys):
    from vms_deploy import cli

    assert cli.main(["check", str(_site(tmp_path)), "--from", "10.10.2.5"]) == cli.EXIT_USAGE
    assert "or none of them" in capsys.readouterr().err
    # Only the running subcommands pass options on to ansible-playbook.
    with pytest.raises(SystemExit):
        cli.main(["plan", str(EXAMPLE), "--limit", "x"])
