"""Issue 24 item 7: a diff that shows risk. New plan warnings are part of `vms-deploy diff` (text, Markdown,
JSON), and a bad revision is refused with its reason.

The warning's wording comes from the compiler (the site's own plan), not from the diff: the test compiles
an example site twice, once with its allow-list and once with the default 0.0.0.0/0.
"""
from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest
from conftest import EXAMPLES_DIR, example, plan_of

from vms_deploy import cli
from vms_deploy.diff import diff_plans, render_json, render_markdown, render_text
from vms_deploy.plan_warnings import line


@pytest.fixture(scope="module")
def plans():
    data = example("valerus_separate_app_server")
    assert all("vms_remote_allowlist" in h for h in data["hosts"].values())
    wide = copy.deepcopy(data)
    for hvars in wide["hosts"].values():
        del hvars["vms_remote_allowlist"]
    return plan_of(data), plan_of(wide)


def test_new_warning_is_in_every_format(plans):
    old, new = plans
    # A plan's warnings are {group, text, fix} records; the diff writes each as one line (plan_warnings.line).
    fresh = sorted({line(w) for w in new["warnings"]} - {line(w) for w in old["warnings"]})
    assert any("0.0.0.0/0" in w and w.startswith("router: ") and "Fix: " in w for w in fresh), new["warnings"]
    changes = diff_plans(old, new)
    warning_changes = [c for c in changes if c.kind == "warning"]
    assert [c.new for c in warning_changes] == fresh
    text = render_text(changes, "t")
    md = render_markdown(changes, "t")
    doc = json.loads(render_json(changes, "t"))
    for w in fresh:
        assert f"+ new warning: {w}" in text
        assert f"+ new warning: {w}" in md
    assert "Plan warnings (risk):" in text and "#### Plan warnings (risk)" in md
    assert "; 1 new warning" in text.splitlines()[0]
    # the risk comes first: a reviewer reads it before the rule lines
    assert text.index("Plan warnings") < text.index("Router port forwards")
    assert doc["warnings_added"] == fresh and doc["changed"] is True


def test_resolved_warning_is_shown_as_resolved(plans):
    old, new = plans
    changes = diff_plans(new, old)
    gone = [c for c in changes if c.kind == "warning"]
    assert gone and all(c.action == "removed" and c.text.startswith("- warning resolved: ") for c in gone)


def test_unchanged_warnings_are_no_change(plans):
    old, _new = plans
    assert diff_plans(old, copy.deepcopy(old)) == []


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_bad_revision_names_the_reason(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES_DIR / "valerus_all_in_one", repo / "site")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "site"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True, timeout=60)
    inv = str(repo / "site")
    assert cli.main(["diff", "--inventory", inv, "--rev-a", "no-such-branch"]) == 1
    err = capsys.readouterr().err
    # the reason, not an empty message: which option, which repository, what git said, what to give instead
    assert "--rev-a 'no-such-branch' is not a commit" in err, err
    assert str(repo) in err and "Needed a single revision" in err and "git log" in err
    assert cli.main(["diff", "--inventory", inv, "--rev-a", "HEAD", "--rev-b", "nope"]) == 1
    assert "--rev-b 'nope' is not a commit" in capsys.readouterr().err
