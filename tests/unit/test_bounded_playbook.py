"""Bounded on the playbook path too (issue 13, class 8; docs/security.md).

`ansible-playbook` parses the inventory with its own plugins before any vms-deploy code runs. The project's
ansible.cfg replaces them (plugins/inventory/vms_*.py, plugins/vars/vms_host_group_vars.py) with the same
plugins behind vms_deploy.inventory.file_problem, the guard `vms-deploy plan` uses. Each hostile run here
is bounded (address space and time): unguarded, the alias bomb takes 4 GB and hours.
"""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vms_deploy.inventory import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MAX_FILE_BYTES,
    MAX_HOSTS,
    _text_values,
    _yaml_values,
    oversized_files,
    range_hosts,
    text_problem,
    yaml_problem,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "examples" / "valerus_all_in_one"
C8_CASES = sorted((ROOT / "tests" / "bad_inventories").glob("c8-*.yml"))
INVENTORIES = sorted(p for p in (ROOT / "inventories").glob("*/*") if p.is_dir())
MEMORY_LIMIT = 2_000_000_000  # bytes of address space for the whole ansible-playbook process
TIME_LIMIT = 60  # seconds; a refusal takes about 3
MAX_OUTPUT = 20_000  # characters: the message names the file, it never shows the value
BOMB = "\n".join(["---", "bomb0: &b0 [a, a, a, a, a, a, a, a, a, a]"]
                 + [f"bomb{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, 9)]) + "\n"


def _bounded():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(cmd: list[str], env: dict | None = None) -> tuple[int, str, float]:
    full_env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIME_LIMIT, env=full_env,
                          check=False, preexec_fn=_bounded)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def assert_refused(rc: int, out: str, took: float, file: Path, problem: str, out_dir: Path):
    assert rc != 0, out[:MAX_OUTPUT]
    assert f"vms-deploy refused inventory file '{file}' before Ansible parsed it: it {problem}" in out, out[:MAX_OUTPUT]
    assert "Fix: " in out
    assert "Traceback" not in out and "PLAY [" not in out, out[:MAX_OUTPUT]
    assert len(out) < MAX_OUTPUT
    assert took < TIME_LIMIT / 2
    assert not out_dir.exists()


def _expected_problem(case: Path) -> str:
    return next(line.split(":", 1)[1].strip() for line in case.read_text().splitlines()
                if line.startswith("# expect-problem:"))


@pytest.mark.parametrize("case", C8_CASES, ids=[p.stem for p in C8_CASES])
def test_plan_playbook_refuses_each_class_8_inventory_bounded(case, tmp_path):
    rc, out, took = run_bounded(["ansible-playbook", "-i", str(case), "playbooks/plan.yml",
                                 "-e", f"vms_plan_dir={tmp_path}/out"])
    assert_refused(rc, out, took, case, _expected_problem(case), tmp_path / "out")
    assert f"Completely failed to parse inventory source {case}" in out
    # reported by vms_yaml alone: vms_ini and vms_auto decline a source it has refused
    assert set(re.findall(r"Failed to parse inventory with '(\w+)' plugin", out)) == {"vms_yaml"}, out


@pytest.mark.parametrize("where", ["group_vars/vms_recorders.yml", "host_vars/valerus1.yml", "group_vars/all/bomb.yml"])
def test_an_alias_bomb_in_group_or_host_vars_stops_the_run_before_any_play(where, tmp_path):
    inv = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inv)
    if where.startswith("group_vars/all/"):  # a directory of files for a group: move all.yml into it
        (inv / "group_vars" / "all").mkdir()
        (inv / "group_vars" / "all.yml").rename(inv / "group_vars" / "all" / "main.yml")
    (inv / where).parent.mkdir(parents=True, exist_ok=True)
    (inv / where).write_text(BOMB)
    for playbook in ("playbooks/plan.yml", "playbooks/site.yml"):
        rc, out, took = run_bounded(["ansible-playbook", "-i", str(inv), playbook, "--check",
                                     "-e", f"vms_plan_dir={tmp_path}/out"])
        assert_refused(rc, out, took, inv / where, f"expands to more than {MAX_EXPANDED_NODES} values",
                       tmp_path / "out")


def test_the_vars_plugin_measures_group_vars_beside_a_playbook(tmp_path):
    """group_vars next to the playbook are loaded by the vars plugin alone (no inventory plugin sees them)."""
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(BOMB)
    playbook = tmp_path / "play.yml"
    playbook.write_text("---\n- name: Nothing\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
                        "    - name: Say so\n      ansible.builtin.debug:\n        msg: never shown\n")
    rc, out, took = run_bounded(["ansible-playbook", "-i", str(EXAMPLE), str(playbook)])
    assert rc != 0 and "TASK [" not in out, out[:MAX_OUTPUT]  # the play stops before its first task
    assert f"vms-deploy refused inventory file '{tmp_path / 'group_vars' / 'all.yml'}' before Ansible parsed it" in out
    assert "Traceback" not in out and len(out) < MAX_OUTPUT and took < TIME_LIMIT / 2


def test_a_huge_ini_inventory_is_refused_bounded(tmp_path):
    big = tmp_path / "hosts"
    with big.open("w") as fh:
        fh.write("[vms_recorders]\n")
        line = 0
        while fh.tell() <= MAX_FILE_BYTES:
            fh.write(f"rec{line} ansible_host=10.{line // 65536 % 256}.{line // 256 % 256}.{line % 256}\n")
            line += 1
    rc, out, took = run_bounded(["ansible-playbook", "-i", str(big), "playbooks/plan.yml",
                                 "-e", f"vms_plan_dir={tmp_path}/out"])
    assert_refused(rc, out, took, big, f"is {big.stat().st_size} bytes, more than {MAX_FILE_BYTES}", tmp_path / "out")


def test_an_ini_inventory_with_too_many_entries_is_refused(tmp_path):
    many = tmp_path / "hosts.ini"
    many.write_text("[vms_recorders]\n" + "".join(f"r{i} ansible_host=10.9.{i // 256 % 256}.{i % 256}\n"
                                                  for i in range(MAX_EXPANDED_NODES // 3 + 10)))
    rc, out, took = run_bounded(["ansible-playbook", "-i", str(many), "playbooks/plan.yml",
                                 "-e", f"vms_plan_dir={tmp_path}/out"])
    assert_refused(rc, out, took, many, f"holds more than {MAX_EXPANDED_NODES} values", tmp_path / "out")
    assert "'vms_ini' plugin" in out


def _inventory_json(inventory: Path, builtin: bool) -> tuple[str, str]:
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
    if builtin:  # Ansible's own plugins, as before the project's guard
        env.update(ANSIBLE_INVENTORY_ENABLED="host_list,script,yaml,ini,auto,toml",
                   ANSIBLE_VARS_ENABLED="host_group_vars")
    proc = subprocess.run(["ansible-inventory", "-i", str(inventory), "--list", "--export", "-vvv"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    start = proc.stdout.index("\n{") + 1
    return proc.stdout[start:], proc.stdout[:start]


def test_every_inventory_parses_identically_through_the_guarded_plugins():
    assert len(INVENTORIES) >= 10
    jobs = [(inv, builtin) for inv in INVENTORIES for builtin in (False, True)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(jobs, pool.map(lambda job: _inventory_json(*job), jobs), strict=True))
    for inv in INVENTORIES:
        (guarded, log), (builtin, builtin_log) = results[(inv, False)], results[(inv, True)]
        assert "inventory source with vms_yaml plugin" in log, log
        assert "inventory source with yaml plugin" in builtin_log, builtin_log
        assert json.loads(guarded) == json.loads(builtin), inv
        assert json.loads(guarded)["_meta"]["hostvars"], inv


# The measure itself (vms_deploy.inventory.yaml_problem / text_problem), on what the files above cannot show.
def test_a_recursive_alias_is_refused():
    problem, fix = yaml_problem("all:\n  vars:\n    loop: &a [1, *a]\n")
    assert "refers to itself" in problem and "*a" in problem and "anchors and aliases" in fix


def test_block_nesting_without_brackets_is_measured():
    problem, fix = yaml_problem("all:\n  vars:\n    deep:\n      " + "- " * (MAX_DEPTH + 5) + "x\n")
    assert "nests values too deeply" in problem and str(MAX_DEPTH) in fix


def test_merge_keys_and_json_count_as_expanded():
    merged = "base: &b {" + ", ".join(f"k{i}: v" for i in range(1000)) + "}\n" + "".join(
        f"h{i}: {{<<: *b}}\n" for i in range(300))
    problem, _ = yaml_problem(merged)
    assert f"expands to more than {MAX_EXPANDED_NODES} values" in problem
    flat = json.dumps({"all": {"vars": {"big": list(range(MAX_EXPANDED_NODES + 1))}}})
    assert yaml_problem(flat)[0] == f"holds more than {MAX_EXPANDED_NODES} values"


def test_normal_inventories_pass_both_measures():
    for inv in INVENTORIES:
        for file in inv.rglob("*.yml"):
            text = file.read_text()
            assert yaml_problem(text) is None and text_problem(text) is None, file


def test_many_files_each_under_the_limit_are_refused_together(tmp_path):
    inv = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inv)
    for i in range(3):  # each file holds MAX_EXPANDED_NODES // 2 values: fine alone, too many together
        (inv / "group_vars" / f"part{i}.yml").write_text(
            "vms_note: [" + ", ".join(["1"] * (MAX_EXPANDED_NODES // 2)) + "]\n")
    errors = oversized_files(inv)
    assert [(e.variable, e.problem.split(" in its")[0]) for e in errors] == [
        ("inventory", f"holds more than {MAX_EXPANDED_NODES} values")]
    assert str(inv) in str(errors[0]) and "at most" in errors[0].fix


def test_certificates_beside_the_inventory_are_skipped_not_failed(tmp_path):
    """any_unparsed_is_failed would turn a PEM file no plugin parses into an error: ansible.cfg skips them."""
    inv = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inv)
    (inv / "site.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (inv / "site.key").write_text("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    rc, out, _ = run_bounded(["ansible-inventory", "-i", str(inv), "--graph"])
    assert rc == 0 and "valerus1" in out and "WARNING" not in out, out


def test_plugin_configuration_files_still_reach_their_plugin(tmp_path):
    """vms_auto is auto behind the guard: a YAML file naming an inventory plugin still runs that plugin."""
    config = tmp_path / "generated.yml"
    config.write_text('plugin: ansible.builtin.generator\nhosts:\n  name: "{{ a }}-host"\nlayers:\n  a: [x, y]\n')
    rc, out, _ = run_bounded(["ansible-inventory", "-i", str(config), "--graph"])
    assert rc == 0 and "x-host" in out and "y-host" in out, out


# Hosts, not values (MAX_HOSTS): 100000 hosts are few values each, and Ansible's own plugins take 215 s and 1.1 GB
# (YAML) or 34 s and 250 MB (INI) to load them.
HOSTS = 100_000


def _write_hosts(file: Path, count: int, ini: bool) -> Path:
    with file.open("w") as fh:
        fh.write("[vms_recorders]\n" if ini else "all:\n  children:\n    vms_recorders:\n      hosts:\n")
        for i in range(count):
            address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
            fh.write(f"rec{i:06d} vms_address={address}\n" if ini
                     else f"        rec{i:06d}:\n          vms_address: {address}\n")
    return file


@pytest.mark.parametrize("name", ["hosts.yml", "hosts.ini"])
def test_an_inventory_with_too_many_hosts_is_refused_bounded(name, tmp_path):
    inv = _write_hosts(tmp_path / name, HOSTS, ini=name.endswith(".ini"))
    rc, out, took = run_bounded(["ansible-playbook", "-i", str(inv), "playbooks/plan.yml",
                                 "-e", f"vms_plan_dir={tmp_path}/out"])
    assert_refused(rc, out, took, inv, f"defines more than {MAX_HOSTS} hosts", tmp_path / "out")
    assert "split the site into several inventories" in out
    rc, out, took = run_bounded(["vms-deploy", "plan", str(inv), "--out", str(tmp_path / "out")])
    assert rc == 2 and f"'{inv}' defines more than {MAX_HOSTS} hosts" in out, out[:MAX_OUTPUT]
    assert "Traceback" not in out and len(out) < MAX_OUTPUT and took < TIME_LIMIT / 2
    assert not (tmp_path / "out").exists()


def test_a_host_range_counts_every_host_it_expands_to(tmp_path):
    """One line, rec[000000:999999999]: Ansible would build the list of a billion names before any check."""
    inv = tmp_path / "hosts"
    inv.write_text("[vms_recorders]\nrec[000000:999999999]\n")
    rc, out, took = run_bounded(["ansible-playbook", "-i", str(inv), "playbooks/plan.yml",
                                 "-e", f"vms_plan_dir={tmp_path}/out"])
    assert_refused(rc, out, took, inv, f"defines more than {MAX_HOSTS} hosts", tmp_path / "out")
    assert range_hosts("rec[0001:0900]") == 900 and range_hosts("db[a:f:2]-[1:3]") == 9
    assert range_hosts("[::1]") == 1 and range_hosts("plain") == 1


def test_hosts_of_an_inventory_directory_are_counted_together(tmp_path):
    inv = tmp_path / "inv"
    shutil.copytree(EXAMPLE, inv)
    for part in ("a", "b"):
        _write_hosts(inv / f"more_{part}.ini", MAX_HOSTS // 2 + 10, ini=True)
        (inv / f"more_{part}.ini").write_text((inv / f"more_{part}.ini").read_text().replace("rec", f"{part}rec"))
    errors = oversized_files(inv)
    assert [(e.variable, e.problem) for e in errors] == [("inventory", f"defines more than {MAX_HOSTS} hosts in its "
                                                          f"{len(list(inv.glob('*.*')))} inventory files")]
    # ansible-playbook hands the plugins one file at a time: the second file is refused
    rc, out, took = run_bounded(["ansible-playbook", "-i", str(inv), "playbooks/plan.yml",
                                 "-e", f"vms_plan_dir={tmp_path}/out"])
    assert rc != 0 and f"defines more than {MAX_HOSTS} hosts" in out and "with the " in out, out[:MAX_OUTPUT]
    assert "Traceback" not in out and "PLAY [" not in out and took < TIME_LIMIT / 2


def test_an_inventory_just_under_the_host_limit_passes_the_guard(tmp_path):
    """The guard only (Ansible is not run on it); vars files define no hosts, whatever keys they hold."""
    for name in ("hosts.yml", "hosts.ini"):
        inv = tmp_path / name.split(".")[1]
        (inv / "host_vars").mkdir(parents=True)
        _write_hosts(inv / name, MAX_HOSTS, ini=name.endswith(".ini"))
        (inv / "group_vars").mkdir()
        (inv / "group_vars" / "all.yml").write_text("".join(f"vms_note_{i}: {i}\n" for i in range(MAX_HOSTS)))
        for i in range(50):
            (inv / "host_vars" / f"rec{i:06d}.yml").write_text("vms_address: 10.0.0.1\nhosts: {a: 1}\n")
        assert oversized_files(inv) == [], name
        assert oversized_files(inv / name) == [], name
        _write_hosts(inv / name, MAX_HOSTS + 1, ini=name.endswith(".ini"))
        assert [e.problem for e in oversized_files(inv / name)] == [f"defines more than {MAX_HOSTS} hosts"], name


def test_hosts_count_once_per_file_and_aliases_count_what_they_bring():
    listed_twice = "all:\n  children:\n    a:\n      hosts: &h {x: , y: }\n    b:\n      hosts: *h\n    c:\n" \
                   "      hosts: {x: , z: }\n"
    assert _yaml_values(listed_twice)[1] == 3
    aliased = "vms_names: &n {p: , q: , r: }\nall:\n  hosts: *n\ng:\n  hosts:\n    <<: *n\n    s:\n"
    assert _yaml_values(aliased)[1] == 7
    ini = "h0\n[g]\nh1 a=1\nh1\n[g:vars]\nx=1\n[p:children]\ng\n[q]  # note\nr[1:5]\n"
    assert _text_values(ini)[1] == 7
