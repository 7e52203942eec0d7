"""Controller paths in roles come from role_path, never from playbook_dir.

playbook_dir is the directory of the playbook file a play is in: playbooks/ for plan.yml, but
playbooks/stages/ for every stage site.yml imports. A role default of playbook_dir ~ '/../build/...'
therefore wrote the router sheet under playbooks/build/ when site.yml ran the edge stage, and the
audit report likewise before it moved to role_path (both found on disk, not by a test)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("roles/*/defaults/*.yml"), *ROOT.glob("roles/*/vars/*.yml"),
                *ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("lab/roles/*/defaults/*.yml"),
                *ROOT.glob("lab/roles/*/tasks/*.yml"), *ROOT.glob("src/vms_deploy/specs/*.yml")])


def _uses(text: str) -> list[int]:
    """Line numbers that use playbook_dir in a template (comments aside)."""
    return [n for n, line in enumerate(text.splitlines(), 1)
            if re.search(r"\bplaybook_dir\b", line.split("#", 1)[0]) and "{{" in line]


def test_no_role_resolves_a_path_from_playbook_dir():
    found = {str(p.relative_to(ROOT)): _uses(p.read_text(encoding="utf-8")) for p in FILES}
    assert FILES and not {k: v for k, v in found.items() if v}, found


def test_the_check_sees_one():
    assert _uses("dir: \"{{ vms_plan_dir | default(playbook_dir ~ '/../build') }}\"\n# playbook_dir {{ x }}\n") == [1]
