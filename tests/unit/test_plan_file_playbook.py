"""vms_plan_file end to end on the controller (real ansible-playbook, no managed host is reachable).

A saved, reviewed plan is applied as it is; an inventory that now compiles to another plan stops the
run before any host is contacted and names the differences; partial inventories (AWX slices) never
compile a plan of their own. The hosts of the example inventory do not exist (its own connections, WinRM for
the windows group and SSH for the edge, with one-second timeouts, to addresses nobody answers), so any task
that reached one would show up as unreachable.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES_DIR, ROOT

TIMEOUT = 180
EXAMPLE = EXAMPLES_DIR / "valerus_separate_app_server"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The example site under a name of its own: site.yml takes a per-site lock (vms_site_lock), and
    other tests run site.yml on the example at the same time."""
    inv = tmp_path_factory.mktemp("site") / "inv"
    shutil.copytree(EXAMPLE, inv)
    group_vars = inv / "group_vars" / "all.yml"
    group_vars.write_text(group_vars.read_text().replace("vms_site: valerus-split", "vms_site: plan-file-test"))
    return inv


def run(inventory, playbook, *extra):
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    cmd = ["ansible-playbook", "-i", str(inventory), str(ROOT / playbook),
           "-e", "ansible_ssh_common_args='-o ConnectTimeout=1'", "-e", "ansible_winrm_connection_timeout=1", *extra]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def saved(tmp_path_factory, site):
    out = tmp_path_factory.mktemp("plan")
    rc, text = run(site, "playbooks/plan.yml", "-e", f"vms_plan_dir={out}")
    assert rc == 0, text
    return out / "plan.json"


def test_the_reviewed_plan_is_loaded(saved, site):
    rc, out = run(site, "playbooks/stages/prechecks.yml", "-e", f"vms_plan_file={saved}")
    assert rc == 0, out
    assert "unreachable=1" not in out and "Traceback" not in out


def test_a_changed_inventory_stops_site_yml_before_any_host(saved, site):
    rc, out = run(site, "playbooks/site.yml", "-e", f"vms_plan_file={saved}",
                  "-e", '{"vms_remote_allowlist": ["100.64.5.0/24"]}')
    assert rc != 0, out
    assert f"the inventory no longer compiles to the reviewed plan {saved}" in out, out
    assert "nothing was changed on any host" in out
    # The difference is named in review words (vms_deploy.diff): the forwards' allow-list changed.
    assert re.search(r"~ router: forward tcp/80 .*added 100\.64\.5\.0/24; removed 100\.64\.0\.0/10", out), out
    recap = out.split("PLAY RECAP", 1)[1]
    assert "unreachable=1" not in recap and "changed=1" not in recap, recap
    assert "TASK [host_firewall" not in out and "TASK [edge_firewall" not in out


def test_a_limited_run_compiles_the_whole_plan(saved, site):
    # --limit: Ansible still loads the whole inventory, so the plan compiled under a limit is the full one.
    rc, out = run(site, "playbooks/stages/prechecks.yml", "--limit", "vapp", "-e", f"vms_plan_file={saved}")
    assert rc == 0, out


def test_missing_or_broken_plan_file_is_named(site, tmp_path):
    rc, out = run(site, "playbooks/stages/prechecks.yml", "-e", f"vms_plan_file={tmp_path}/nope.json")
    assert rc != 0 and f"vms_plan_file = '{tmp_path}/nope.json': cannot be read" in out, out
    (tmp_path / "bad.json").write_text('{"schema": 2}')
    rc, out = run(site, "playbooks/stages/prechecks.yml", "-e", f"vms_plan_file={tmp_path}/bad.json")
    assert rc != 0 and "is not a vms-deploy plan" in out and "Traceback" not in out, out


def test_an_awx_workflow_job_without_a_plan_file_is_refused(site):
    rc, out = run(site, "playbooks/site.yml", "-e", "awx_workflow_job_id=41")
    assert rc != 0, out
    assert "awx_workflow_job_id = 41" in out and "give the reviewed plan of the whole site" in out
    assert "unreachable=1" not in out.split("PLAY RECAP", 1)[1]


def _slice(site: Path, tmp_path: Path, keep: set[str], edit=None) -> Path:
    """A copy of the site holding only `keep`, as AWX gives one slice of a sliced job."""
    inv = tmp_path / "slice"
    shutil.copytree(site, inv)
    data = yaml.safe_load((inv / "hosts.yml").read_text())
    for group in data["all"]["children"].values():
        group["hosts"] = {h: v for h, v in group["hosts"].items() if h in keep}
    if edit:
        edit(data)
    (inv / "hosts.yml").write_text(yaml.safe_dump(data))
    return inv


def test_a_slice_with_the_plan_file_applies_its_part_of_the_full_plan(saved, site, tmp_path):
    inv = _slice(site, tmp_path, {"vrec1", "vrec2"})
    rc, out = run(inv, "playbooks/stages/prechecks.yml", "-e", "awx_workflow_job_id=41", "-e", f"vms_plan_file={saved}")
    assert rc == 0, out
    assert "partial inventory (2 of 5 hosts" in out
    # The hosts are grouped from the full plan, whose app server rules still name both recorders.
    plan = json.loads(saved.read_text())
    assert any("10.20.1.21/32" in r["sources"] and "10.20.1.22/32" in r["sources"]
               for r in plan["hosts"]["vapp"]["inbound"])


def test_a_slice_without_the_plan_file_is_refused(site, tmp_path):
    inv = _slice(site, tmp_path, {"vrec1", "vrec2"})
    rc, out = run(inv, "playbooks/site.yml", "-e", "awx_workflow_job_id=41")
    assert rc != 0 and "a slice's inventory holds only its own hosts" in out, out


def test_a_slice_whose_host_moved_is_refused(saved, site, tmp_path):
    def move(data):
        data["all"]["children"]["vms_recorders"]["hosts"]["vrec2"]["ansible_host"] = "10.20.1.99"
    inv = _slice(site, tmp_path, {"vrec1", "vrec2"}, move)
    rc, out = run(inv, "playbooks/stages/prechecks.yml", "-e", f"vms_plan_file={saved}")
    assert rc != 0, out
    assert "~ host vrec2: address 10.20.1.22 in the plan, 10.20.1.99 in the inventory" in out, out
