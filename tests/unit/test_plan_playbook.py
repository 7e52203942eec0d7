"""playbooks/plan.yml and stages/prechecks.yml end to end (real ansible-playbook, controller only)."""
from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import EXAMPLES, EXAMPLES_DIR, GOLDEN_PLANS, ROOT

TIMEOUT = 120


def run_playbook(inventory, playbook="playbooks/plan.yml", *extra, env=None):
    cmd = ["ansible-playbook", "-i", str(inventory), str(ROOT / playbook), *extra]
    full_env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, env=full_env, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", EXAMPLES)
def test_plan_playbook_writes_the_golden_plan_and_documents(name, tmp_path):
    rc, out = run_playbook(EXAMPLES_DIR / name, "playbooks/plan.yml", "-e", f"vms_plan_dir={tmp_path}")
    assert rc == 0, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["firewall-rules.csv", "firewall-rules.md", "plan.json",
                                                          "ports.md", "router.csv", "router.md"]
    assert (tmp_path / "plan.json").read_text() == (GOLDEN_PLANS / f"{name}.json").read_text()
    assert (tmp_path / "router.csv").read_text().startswith(
        "name,protocol,external_port,external_range,internal_address,internal_port,internal_range")
    golden = ROOT / "tests" / "golden" / "firewall_request"
    for file in ("firewall-rules.csv", "firewall-rules.md"):  # beside router.csv, for every site
        assert (tmp_path / file).read_text() == (golden / f"{name}.{file}").read_text()
    assert "Traceback" not in out


def test_plan_playbook_is_idempotent_and_check_mode_writes_nothing(tmp_path):
    inv = EXAMPLES_DIR / "valerus_separate_app_server"
    rc, out = run_playbook(inv, "playbooks/plan.yml", "--check", "-e", f"vms_plan_dir={tmp_path}/p")
    assert rc == 0 and not (tmp_path / "p").exists(), out
    rc, out = run_playbook(inv, "playbooks/plan.yml", "-e", f"vms_plan_dir={tmp_path}/p")
    assert rc == 0 and "changed=1" in out, out
    rc, out = run_playbook(inv, "playbooks/plan.yml", "-e", f"vms_plan_dir={tmp_path}/p")
    assert rc == 0 and "changed=0" in out, out
    # Diff mode shows what would change in the documents (here: another allow-list).
    rc, out = run_playbook(inv, "playbooks/plan.yml", "--check", "--diff", "-e", f"vms_plan_dir={tmp_path}/p",
                           "-e", '{"vms_remote_allowlist": ["100.64.5.0/24"]}')
    assert rc == 0 and "changed=1" in out, out
    # plan.json holds one rule per line: the diff replaces the lines of the rules that changed.
    lines = out.splitlines()
    assert any(line.startswith("-") and '"100.64.0.0/10"' in line for line in lines), out
    assert any(line.startswith("+") and '"100.64.5.0/24"' in line for line in lines), out
    assert "100.64.0.0/10" in (tmp_path / "p" / "plan.json").read_text()  # check mode wrote nothing
    router = (tmp_path / "p" / "router.csv").read_text().splitlines()
    assert any(line.startswith("valerus-gateway-http,TCP,80,80:80,10.20.9.55,9080,9080:9080,100.64.0.0/10,")
               for line in router), router


def test_plan_playbook_default_directory_is_build_plan_site():
    rc, out = run_playbook(EXAMPLES_DIR / "generic_nvr_home", "playbooks/plan.yml")
    assert rc == 0, out
    assert (ROOT / "build" / "plan" / "nvr-home" / "router.md").exists()


def _bad_inventory(tmp_path: Path) -> Path:
    (tmp_path / "group_vars").mkdir(parents=True)
    (tmp_path / "hosts.yml").write_text(textwrap.dedent("""\
        all:
          children:
            vms_app_servers: {hosts: {app: {ansible_host: 10.0.0.300}}}
            vms_recorders: {hosts: {rec1: {ansible_host: 10.0.0.5}, rec2: {ansible_host: 10.0.0.5}}}
        """))
    (tmp_path / "group_vars" / "all.yml").write_text(
        "vms_product: valerus\nvms_site: bad\nvms_client_network: [10.1.0.0/24]\n")
    return tmp_path


def test_bad_inventory_fails_with_every_error_and_writes_nothing(tmp_path):
    inv = _bad_inventory(tmp_path / "inv")
    out_dir = tmp_path / "out"
    rc, out = run_playbook(inv, "playbooks/plan.yml", "-e", f"vms_plan_dir={out_dir}")
    assert rc != 0
    assert "the site inventory has 4 errors; nothing was changed" in out
    assert "host app: ansible_host = '10.0.0.300' is not an IPv4 address. Fix:" in out
    assert "host rec1: ansible_host = '10.0.0.5' is also the address of rec2" in out
    assert ("vms_client_network = ['10.1.0.0/24'] is not a vms-deploy variable (did you mean vms_client_networks?)"
            in out)
    assert "Traceback" not in out
    assert not out_dir.exists()


def test_undecryptable_vault_value_fails_naming_the_variable(tmp_path):
    from ansible.parsing.vault import VaultLib, VaultSecret
    blob = VaultLib([("default", VaultSecret(b"other"))]).encrypt("pw").decode()
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  children:\n    vms_app_servers: {hosts: {a: {ansible_host: 10.1.1.1}}}\n"
                                   "    vms_recorders: {hosts: {a: {}}}\n")
    (inv / "group_vars" / "all.yml").write_text(
        "vms_product: valerus\nvms_site: v\nvms_tls_pfx_password: !vault |\n" + textwrap.indent(blob, "  "))
    pwfile = tmp_path / "pw"
    pwfile.write_text("wrong\n")
    rc, out = run_playbook(inv, "playbooks/plan.yml", "--vault-password-file", str(pwfile),
                           "-e", f"vms_plan_dir={tmp_path}/out")
    assert rc != 0, out
    assert "host a: vms_tls_pfx_password = (secret, not shown) cannot be decrypted" in out
    assert "Traceback" not in out and not (tmp_path / "out").exists()


def test_missing_package_gives_the_setup_hint(tmp_path):
    fake = tmp_path / "fake" / "vms_deploy"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated: package not installed')\n")
    rc, out = run_playbook(EXAMPLES_DIR / "valerus_all_in_one", "playbooks/plan.yml",
                           "-e", f"vms_plan_dir={tmp_path}/out", env={"PYTHONPATH": str(tmp_path / "fake")})
    assert rc != 0
    assert "the vms_deploy Python package is not installed: run bin/setup (or pip install -e .)" in out


def test_prechecks_stop_bad_input_before_any_host_is_touched(tmp_path):
    inv = _bad_inventory(tmp_path / "inv")
    rc, out = run_playbook(inv, "playbooks/stages/prechecks.yml", "-e", "ansible_connection=ssh")
    assert rc != 0 and "nothing was changed" in out and "Traceback" not in out
    # The plan is compiled on the controller (run_once, delegated) and its failure stops every host
    # before any task reaches one: no host is unreachable although none of them exists.
    recap = out.split("PLAY RECAP", 1)[1]
    assert "unreachable=1" not in recap and "changed=1" not in recap, recap
    tasks = re.findall(r"^TASK \[(.*)\]", out, re.MULTILINE)
    assert tasks[-1] == ("validate_inventory : Validate the inventory and compile the site plan "
                         "(or check it against vms_plan_file)"), tasks
    assert all(t.startswith("validate_inventory : ") for t in tasks), tasks


def test_prechecks_group_hosts_by_platform_without_connecting():
    # The example's own connections (WinRM for its windows group, SSH for the edge) to hosts that do not exist:
    # any task that reached one would leave it unreachable. (ssh for every host is refused before that now:
    # a Windows host needs winrm or psrp, issue 20 item 3.)
    rc, out = run_playbook(EXAMPLES_DIR / "valerus_separate_app_server", "playbooks/stages/prechecks.yml")
    assert rc == 0, out
    assert "unreachable=1" not in out
    for host in ("vapp", "vrec1", "vrec2", "vgw", "vedge"):
        assert f"{host}" in out.split("PLAY RECAP", 1)[1]


def test_facts_set_by_earlier_plays_neither_change_the_plan_nor_count_as_unknown(tmp_path):
    # The playbook must sit under playbooks/ so ansible.cfg's plugin paths resolve from it.
    playbook = ROOT / "playbooks" / f".test_facts_{os.getpid()}.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: An earlier stage leaves vms_* results on the hosts (no connection needed)
          hosts: all
          gather_facts: false
          tasks:
            - name: Remember something
              ansible.builtin.set_fact:
                vms_scratch_result: 1
                vms_client_networks: [10.77.0.0/24]
        - name: A later stage compiles the plan
          hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - name: Plan
              vms_plan:
              register: result
            - name: Check
              ansible.builtin.assert:
                that: result.plan.zones.clients == ['10.20.2.0/24']
        """))
    try:
        rc, out = run_playbook(EXAMPLES_DIR / "valerus_separate_app_server", str(playbook.relative_to(ROOT)))
    finally:
        playbook.unlink()
    assert rc == 0, out


def test_malformed_inventory_yaml_fails_cleanly(tmp_path):
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "hosts.yml").write_text("all:\n  children:\n    vms_recorders:\n      hosts: {nvr: {ansible_host: "
                                   "10.1.1.1}\n")
    rc, out = run_playbook(inv, "playbooks/plan.yml", "-e", f"vms_plan_dir={tmp_path}/out")
    assert rc != 0
    # any_unparsed_is_failed (ansible.cfg): the run stops at the inventory, before any play
    assert "YAML parsing failed" in out and f"Completely failed to parse inventory source {inv}/hosts.yml" in out
    assert "PLAY [" not in out
    assert "Traceback" not in out and not (tmp_path / "out").exists()
