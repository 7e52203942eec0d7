"""Issue 24 item 1: the report, ports.md and the router sheet say where they came from, and can be signed.

Expectations come from outside the module: git itself (rev-parse, the commit's date, a modified file),
sha256 of the plan.json file as written, the digest each host records (plan_io.host_digest, the value
vms_nft_table and the Windows rule group store), and idempotent playbook runs (changed=0).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES_DIR, ROOT, load_json

from vms_deploy import cli
from vms_deploy.plan_io import host_digest
from vms_deploy.provenance import html, markdown
from vms_deploy.provenance.facts import collect, inventory_state

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
GOLDEN_PLANS = ROOT / "tests" / "golden" / "plans"
FIXED = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin",
       "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={**ENV, "HOME": str(repo)}, timeout=60).stdout.strip()


@pytest.fixture()
def site_repo(tmp_path):
    repo = tmp_path / "sites"
    shutil.copytree(EXAMPLES_DIR / "xprotect_distributed_dmz", repo / "inventories" / "hq")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hq")
    return repo


def test_deterministic_with_injected_clock_user_and_version():
    plan = load_json(GOLDEN_PLANS / "valerus_separate_app_server.json")
    a = collect(plan, stamped=True, now=lambda: FIXED, user="alice@ctrl", version="9.9")
    b = collect(plan, stamped=True, now=FIXED, user="alice@ctrl", version="9.9")
    assert a == b and markdown(a) == markdown(b) and html(a) == html(b)
    text = markdown(a)
    for needle in ("generated 2026-03-04T05:06:07Z", "alice@ctrl", "| vms-deploy version | 9.9 |",
                   "not recorded: made from a plan.json", "| name | role | date | signature |"):
        assert needle in text, text
    for host in plan["hosts"]:
        assert f"| {host} | `{host_digest(plan, host)}` |" in text
    # plan files carry no clock: the same plan gives the same bytes at any time
    assert "generated" not in collect(plan, user="u", version="1").date_text()


def test_source_date_epoch_sets_the_report_date(monkeypatch):
    plan = load_json(GOLDEN_PLANS / "generic_nvr_home.json")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(FIXED.timestamp())))
    assert collect(plan, stamped=True, user="u").generated_at == "2026-03-04T05:06:07Z"


def test_git_revision_dirty_flag_and_dates(site_repo, tmp_path):
    inv = site_repo / "inventories" / "hq"
    state = inventory_state(str(inv))
    assert state["revision"] == git(site_repo, "rev-parse", "HEAD") and state["dirty"] is False
    assert state["inventory_date"] == "2026-01-02T03:04:05Z"  # the commit's date, not the clock
    old = FIXED.timestamp() - 86400
    for path in inv.rglob("*"):
        os.utime(path, (old, old))
    hosts = inv / "hosts.yml"
    hosts.write_text(hosts.read_text() + "\n# changed\n")
    os.utime(hosts, (FIXED.timestamp(), FIXED.timestamp()))  # the newest file change is the date
    state = inventory_state(str(inv))
    assert state["dirty"] is True and state["inventory_date"] == "2026-03-04T05:06:07Z"
    outside = tmp_path / "plain"
    shutil.copytree(inv, outside)
    assert inventory_state(str(outside))["inventory_note"] == "not in a git repository"


def test_the_three_documents_carry_the_same_facts(site_repo, tmp_path, capsys):
    inv = site_repo / "inventories" / "hq"
    out = tmp_path / "plan"
    assert cli.main(["plan", str(inv), "--out", str(out)]) == 0
    plan_bytes = (out / "plan.json").read_bytes()
    sha = hashlib.sha256(plan_bytes).hexdigest()[:16]
    plan = json.loads(plan_bytes)
    head = git(site_repo, "rev-parse", "HEAD")[:12]
    report = tmp_path / "report"
    assert cli.main(["report", str(inv), "--out", str(report), "--no-picture"]) == 0
    docs = {"ports.md": (out / "ports.md").read_text(), "router.md": (out / "router.md").read_text(),
            "index.html": (report / "index.html").read_text()}
    for name, text in docs.items():
        assert "Provenance and approval" in text, name
        assert sha in text and f"inventories/hq at git {head}, clean" in text, name
        assert "signature" in text, name
    # ports.md lists every host's digest; the router sheet the hosts its forwards reach
    for host in plan["hosts"]:
        assert f"| {host} | `{host_digest(plan, host)}` |" in docs["ports.md"]
    targets = {f["to_host"] for f in plan["forwards"]}
    assert targets and all(f"| {h} | `{host_digest(plan, h)}` |" in docs["router.md"] for h in targets)
    assert "| xrec1 |" not in docs["router.md"]


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="needs ansible-playbook")
def test_plan_playbook_and_edge_stage_write_the_same_router_sheet(tmp_path):
    """Two writers of router.md (plan.yml and site.yml's edge stage): the same bytes, so neither rewrites
    the other's file (changed=0), and the block names the inventory's revision."""
    inventory = EXAMPLES_DIR / "generic_nvr_home"
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}

    def play(*playbooks):
        cmd = ["ansible-playbook", "-i", str(inventory), *[str(ROOT / "playbooks" / p) for p in playbooks],
               "-e", f"vms_plan_dir={tmp_path}"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return proc.stdout

    play("plan.yml")
    first = (tmp_path / "router.md").read_text()
    assert "Provenance and approval" in first and "inventories/examples/generic_nvr_home at git" in first
    out = play("stages/prechecks.yml", "stages/edge.yml")
    task = out.split("Write the router sheet and the firewall rules request on the controller")[1].split("TASK [")[0]
    assert "ok: [localhost] => (item=router.md)" in task and "changed" not in task, task
    assert "ok: [localhost] => (item=firewall-rules.md)" in task  # the firewall request: the same bytes too
    assert (tmp_path / "router.md").read_text() == first
