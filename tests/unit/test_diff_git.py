"""`vms-deploy diff --inventory INV --rev-a A --rev-b B`: compile a site at two git revisions.

Uses a throw-away git repository holding a site made by `new-site`, so it needs the inventory
loader and compiler (skipped with a reason until they are installed).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vms_deploy import cli

pytest.importorskip("vms_deploy.inventory", reason="needs the inventory loader (vms_deploy.inventory)")
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env, timeout=60).stdout


@pytest.fixture()
def site_repo(tmp_path):
    repo = tmp_path / "sites-repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    assert cli.main(["new-site", "lobby", "--product", "valerus", "--topology", "separate_app_server",
                     "--dir", str(repo / "inventories")]) == 0
    main = repo / "inventories" / "lobby" / "group_vars" / "all" / "main.yml"  # the placeholder replaced
    main.write_text(main.read_text().replace("vms_public_address: 100.64.0.10", "vms_public_address: 47.21.27.216"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "new site")
    hosts_file = repo / "inventories" / "lobby" / "hosts.yml"
    inventory = yaml.safe_load(hosts_file.read_text())
    inventory["all"]["hosts"]["rec2"] = {"ansible_host": "10.20.1.22"}
    inventory["all"]["children"]["vms_recorders"]["hosts"]["rec2"] = None
    hosts_file.write_text(yaml.safe_dump(inventory))
    git(repo, "commit", "-q", "-am", "add a recorder")
    return repo


def test_diff_between_revisions(site_repo, capsys):
    inv = str(site_repo / "inventories" / "lobby")
    assert cli.main(["diff", "--inventory", inv, "--rev-a", "HEAD~1", "--rev-b", "HEAD", "--format", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    texts = [c["text"] for c in doc["changes"]]
    assert "+ host rec2 (10.20.1.22) in zone servers: recorder" in texts
    assert any(t.startswith("+ rec2 (10.20.1.22): open tcp/") for t in texts)
    assert doc["title"] == "plan diff for lobby: HEAD~1 -> HEAD"
    # the temporary worktrees are gone again
    assert git(site_repo, "worktree", "list").count("\n") == 1


def test_working_tree_is_the_default_rev_b(site_repo, capsys):
    inv = str(site_repo / "inventories" / "lobby")
    assert cli.main(["diff", "--inventory", inv, "--rev-a", "HEAD"]) == 0
    assert "no changes" in capsys.readouterr().out
    main_yml = site_repo / "inventories" / "lobby" / "group_vars" / "all" / "main.yml"
    main_yml.write_text(main_yml.read_text().replace("  - 10.20.2.0/24", "  - 10.20.2.0/24\n  - 10.20.5.0/24", 1))
    assert cli.main(["diff", "--inventory", inv, "--rev-a", "HEAD"]) == 2
    assert "~ zone clients: added 10.20.5.0/24" in capsys.readouterr().out


def test_bad_revision_is_a_user_error(site_repo, capsys):
    inv = str(site_repo / "inventories" / "lobby")
    assert cli.main(["diff", "--inventory", inv, "--rev-a", "no-such-branch"]) == 1
    err = capsys.readouterr().err
    assert "no-such-branch" in err and "Traceback" not in err
    assert cli.main(["diff", "--inventory", inv, "--rev-a", "HEAD~1", "--rev-b", "HEAD", "extra.json"]) == 1
    assert "not both" in capsys.readouterr().err


def test_site_missing_at_revision(site_repo, tmp_path, capsys):
    other = site_repo / "inventories" / "newer"
    shutil.copytree(site_repo / "inventories" / "lobby", other)
    (other / "group_vars" / "all" / "main.yml").write_text(
        (other / "group_vars" / "all" / "main.yml").read_text().replace("vms_site: lobby", "vms_site: newer"))
    assert cli.main(["diff", "--inventory", str(other), "--rev-a", "HEAD"]) == 1
    assert "does not exist at revision HEAD" in capsys.readouterr().err
