"""Hostile inventories (issue 13): every file in tests/bad_inventories/ is refused cleanly by the CLI.

Each case is a complete Ansible YAML inventory written from the docs and the seed documents, with its
expectation in its header comments:

    # Class N: what the case attacks
    # expect-host / expect-variable / expect-value / expect-problem: the error line that must appear
    # suggest: REGEX     (optional) a group captured from the message's Fix text
    # fix: OLD => NEW    (optional) the fix, applied to the file; {0} is the suggested text
    # untrusted-only: true  (optional) only run in review mode (the case would run code otherwise)

Refused cleanly means: exit 2, no traceback, no plan directory written, and a line naming host,
variable, value (truncated) and a fix. Every case runs in review mode (--untrusted) too, so the data-only
loader is held to the same standard. A case with a fix is accepted once the fix is applied: the fix in
the message works.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from vms_deploy import cli
from vms_deploy.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "bad_inventories"
CASES = sorted(CASES_DIR.glob("c*.yml"))
CLASSES = {str(n) for n in range(1, 10)}


def _header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            if line.strip() not in ("---", ""):
                break
            continue
        match = re.match(r"#\s*([a-z-]+|Class \d+):\s?(.*)$", line)
        if match:
            key = "class" if match.group(1).startswith("Class") else match.group(1)
            fields[key] = match.group(1).split()[1] if key == "class" else match.group(2)
    return fields


def _plan(capsys, path: Path, out: Path, untrusted: bool):
    argv = ["plan", str(path), "--out", str(out)] + (["--untrusted"] if untrusted else [])
    started = time.monotonic()
    code = cli.main(argv)
    elapsed = time.monotonic() - started
    stdout, stderr = capsys.readouterr()
    return code, stdout, stderr, elapsed


def _error_line(stderr: str, expect: dict) -> str | None:
    where = InputError(expect["expect-host"], "", None, "", "").where()
    prefix = f"  - {where}: {expect['expect-variable']} = "
    for line in stderr.splitlines():
        if line.startswith(prefix) and expect["expect-value"] in line and expect["expect-problem"] in line:
            return line
    return None


def test_every_class_has_cases():
    classes = {}
    for path in CASES:
        classes.setdefault(_header(path).get("class"), []).append(path.name)
    assert set(classes) == CLASSES, sorted(classes)
    assert len(CASES) >= 60


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_bad_inventory_is_refused_cleanly(tmp_path, capsys, case, untrusted):
    expect = _header(case)
    if expect.get("untrusted-only") and not untrusted:
        pytest.skip("would run the case's code: review mode only (see test_untrusted.py for the trusted control)")
    out = tmp_path / "plan"
    code, stdout, stderr, elapsed = _plan(capsys, case, out, untrusted)
    assert "Traceback" not in stderr
    assert code == 2, f"exit {code}; stderr:\n{stderr}"
    assert stdout == "" and not out.exists(), "a refused inventory must not write a plan"
    line = _error_line(stderr, expect)
    assert line is not None, f"no line for {expect}; got:\n{stderr}"
    assert "Fix: " in line and len(line) < 1200, line
    assert elapsed < 20, f"refusing took {elapsed:.1f} s"


FIXABLE = [p for p in CASES if "fix" in _header(p)]


@pytest.mark.parametrize("case", FIXABLE, ids=[p.stem for p in FIXABLE])
def test_the_fix_is_accepted_when_applied(tmp_path, capsys, case):
    expect = _header(case)
    work = tmp_path / case.name
    shutil.copy(case, work)
    code, _, stderr, _ = _plan(capsys, work, tmp_path / "refused", untrusted=False)
    assert code == 2
    old, new = expect["fix"].split(" => ", 1)
    old, new = old.replace("\\n", "\n"), new.replace("\\n", "\n")
    if expect.get("suggest"):
        line = _error_line(stderr, expect)
        found = re.search(expect["suggest"], line.split("Fix: ", 1)[1])
        assert found, f"the fix does not suggest {expect['suggest']!r}: {line}"
        new = new.format(found.group(1))
    text = work.read_text()
    assert old in text, f"{old!r} not in {case.name}"
    work.write_text(text.replace(old, new))
    code, _, stderr, _ = _plan(capsys, work, tmp_path / "plan", untrusted=False)
    assert code == 0, f"the fix {new!r} is refused:\n{stderr}"
    assert (tmp_path / "plan" / "plan.json").is_file()
