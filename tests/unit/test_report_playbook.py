"""playbooks/report.yml: the report from a playbook run (AWX-style, no inventory path needed)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "examples" / "valerus_separate_recorders"


@pytest.mark.skipif(shutil.which("dot") is None or shutil.which("ansible-playbook") is None,
                    reason="needs Graphviz and ansible-playbook")
@pytest.mark.skipif(not EXAMPLE.exists(), reason="example inventory not present")
def test_report_playbook_writes_the_page(tmp_path):
    out = tmp_path / "report"
    proc = subprocess.run(["ansible-playbook", "-i", str(EXAMPLE), str(ROOT / "playbooks" / "report.yml"),
                           "-e", f"report_dir={out}"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    page = (out / "index.html").read_text()
    assert "<svg" in page and "Router sheet" in page
    assert (out / "plan.json").exists() and (out / "network.svg").exists()
