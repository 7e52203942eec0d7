"""vms_plan_file end to end on a container lab (issue 12): the reviewed plan is applied as it is, each
host records which plan it runs, and an inventory changed after the review is refused before any host
is touched, naming the difference.

Self-contained: a copy of the all-in-one demo lab under its own names (site "pf", containers vmslab-pf-*,
networks 172.31.60-64.0/24), brought up with playbooks/lab_up.yml and torn down at the end.
VMS_SKIP_LAB=1 skips it. About 4 minutes. Run it under the lab lock: flock /tmp/vms-lab.lock pytest ...
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
from vms_deploy.plan_io import host_digest  # noqa: E402 - needs the sys.path entry above

LAB = "vmslab-pf"
RUN_TIMEOUT = 900

pytestmark = [
    pytest.mark.skipif(os.environ.get("VMS_SKIP_LAB") == "1", reason="VMS_SKIP_LAB=1"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="docker is not installed"),
]


def playbook(inventory: Path, path: str, *extra: str, json_out: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="0")
    if json_out:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    return subprocess.run(["ansible-playbook", "-i", str(inventory), path, *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)


def run_facts(proc: subprocess.CompletedProcess) -> dict:
    """changed per host, and how many tasks ran the vms_plan action, from a json-callback run."""
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    compiles = sum(1 for p in data["plays"] for t in p["tasks"]
                   if any(isinstance(r.get("summary"), dict) and "zone_flows" in r["summary"]
                          for r in t["hosts"].values()))
    tasks = [t["task"]["name"] for p in data["plays"] for t in p["tasks"]]
    return {"changed": {h: s["changed"] for h, s in data["stats"].items()}, "compiles": compiles, "tasks": tasks}


def table(host: str) -> str:
    proc = subprocess.run(["docker", "exec", f"{LAB}-{host}", "nft", "-s", "list", "table", "inet", "vms_deploy"],
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout if proc.returncode == 0 else ""


def recorded_digest(listing: str) -> str | None:
    match = re.search(r'comment "vms-deploy plan ([0-9a-f]+)"', listing)
    return match.group(1) if match else None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The demo lab's inventory, renamed: its own site, containers and subnets."""
    inventory = tmp_path_factory.mktemp("planfile") / "inv"
    shutil.copytree(ROOT / "inventories" / "lab" / "all_in_one", inventory)
    for path in inventory.rglob("*.yml"):
        text = path.read_text().replace("vmslab-aio", LAB).replace("172.28.1", "172.31.6")
        path.write_text(text.replace("vms_site: aio", "vms_site: pf"))
    down = str(ROOT / "playbooks" / "lab_down.yml")
    playbook(inventory, down)  # leftovers of an interrupted earlier run
    up = playbook(inventory, str(ROOT / "playbooks" / "lab_up.yml"))
    try:
        assert up.returncode == 0, "lab creation failed:\n" + (up.stdout + up.stderr)[-6000:]
        yield inventory
    finally:
        gone = playbook(inventory, down)
        print("lab destroyed" if gone.returncode == 0 else "lab destroy failed:\n" + gone.stdout[-3000:])


def test_reviewed_plan_applied_recorded_audited_and_a_changed_inventory_refused(lab, tmp_path):
    plan_dir = tmp_path / "plan"
    saved = playbook(lab, "playbooks/plan.yml", "-e", f"vms_plan_dir={plan_dir}")
    assert saved.returncode == 0, saved.stdout[-4000:]
    plan_file = plan_dir / "plan.json"
    plan = json.loads(plan_file.read_text())

    # 1. Applied as reviewed, compiled once in the whole run (the compile checks the file).
    first = playbook(lab, "playbooks/site.yml", "-e", f"vms_plan_file={plan_file}", json_out=True)
    assert first.returncode == 0, (first.stdout + first.stderr)[-6000:]
    facts = run_facts(first)
    assert facts["compiles"] == 1, facts
    # 2. Each Linux host records the digest of its own part of that plan in its table.
    for host in ("app1", "edge1"):
        assert recorded_digest(table(host)) == host_digest(plan, host), table(host)

    # 3. The same plan again: no host rewritten.
    again = playbook(lab, "playbooks/site.yml", "-e", f"vms_plan_file={plan_file}", json_out=True)
    assert again.returncode == 0, again.stdout[-4000:]
    assert run_facts(again)["changed"].get("app1") == 0 and run_facts(again)["changed"].get("edge1") == 0

    # 3b. One stage alone (--tags), and a limited run: the plan is loaded (once) and applied unchanged.
    for extra in (["--tags", "firewall"], ["--limit", "edge1"]):
        stage = playbook(lab, "playbooks/site.yml", "-e", f"vms_plan_file={plan_file}", *extra, json_out=True)
        assert stage.returncode == 0, (extra, stage.stdout[-4000:])
        facts = run_facts(stage)
        assert facts["compiles"] == 1 and not any(facts["changed"].values()), (extra, facts)

    # 4. The audit says which plan each host runs.
    audit = playbook(lab, "playbooks/audit.yml", "-e", f"vms_plan_file={plan_file}",
                     "-e", f"vms_audit_dir={tmp_path / 'audit'}")
    assert audit.returncode == 0, audit.stdout[-6000:]
    for host in ("app1", "edge1"):
        assert f"PLAN    {host}: runs plan {host_digest(plan, host)}" in audit.stdout, audit.stdout[-4000:]
    report = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert report["plans"]["app1"] == {"runs": host_digest(plan, "app1"), "planned": host_digest(plan, "app1")}

    # 5. The inventory changes after the review: the run stops before any host and names the difference.
    before = {h: table(h) for h in ("app1", "edge1")}
    site_vars = lab / "group_vars" / "all" / "site.yml"
    site_vars.write_text(site_vars.read_text().replace("vms_client_networks: [172.31.63.0/24]",
                                                       "vms_client_networks: [172.31.63.0/24, 10.99.0.0/24]"))
    refused = playbook(lab, "playbooks/site.yml", "-e", f"vms_plan_file={plan_file}")
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0, out[-6000:]
    assert f"the inventory no longer compiles to the reviewed plan {plan_file}" in out, out[-6000:]
    assert "10.99.0.0/24" in out and "nothing was changed on any host" in out
    assert not re.search(r"^TASK \[(host_firewall|edge_firewall|standin_services)", out, re.MULTILINE), out[-4000:]
    recap = out.split("PLAY RECAP", 1)[1]
    assert "changed=1" not in recap and "unreachable=1" not in recap, recap
    assert {h: table(h) for h in before} == before
