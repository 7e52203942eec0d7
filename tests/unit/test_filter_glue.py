"""The plugins' one import guard (plugins/filter/_vms_glue.py), through real Ansible runs.

Ansible loads every .py file of a filter directory as a filter plugin (a leading underscore does not
hide it) and gives plugin directories no import path, so the guard is a file each plugin loads by path.
Proven here: with the package, a filter of every guarded file works and Ansible warns about nothing
(the glue file adds no filter); without it, each one fails with the one "run bin/setup" message
instead of Ansible skipping the plugin and then not knowing the filter.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GLUE = ROOT / "plugins" / "filter" / "_vms_glue.py"
PLAN = ROOT / "tests" / "golden" / "plans" / "valerus_separate_app_server.json"
HOSTS = json.loads(PLAN.read_text())["hosts"]
HOST = min(HOSTS)
GATEWAY = next(h for h in sorted(HOSTS) if "gateway" in HOSTS[h]["components"])
MESSAGE = "the vms_deploy Python package is not installed: run bin/setup (or pip install -e .)"
# Plugins that import from vms_deploy: filters and actions import names (vms_import); the inventory and
# vars plugins (plugins/inventory, plugins/vars) subclass the package's size guard (vms_base), and
# without the package refuse every source with the same install hint.
PLUGIN_FILES = sorted([*ROOT.glob("plugins/filter/*.py"), *ROOT.glob("plugins/action/*.py"),
                       *ROOT.glob("plugins/inventory/*.py"), *ROOT.glob("plugins/vars/*.py"),
                       *ROOT.glob("roles/*/*_plugins/*.py")])
# One filter from each file that guards its vms_deploy import, and what the filter returns.
FILTERS = {
    "vms_certs": ("['gw', '10.0.0.5'] | vms_tls_subject_alt_names", ["DNS:gw", "IP:10.0.0.5"]),
    "vms_plan": (f"plan | vms_plan_groups('{HOST}')", None),
    "vms_nftables": (f"plan | vms_nft_host_ruleset('{HOST}')", None),
    "vms_windows": ("{'rc': 3010} | vms_windows_reboot_action", None),
    "vms_nginx": (f"plan | vms_nginx_owned_ports('{GATEWAY}')", None),
}


def _module_level_vms_imports(tree: ast.Module) -> list[int]:
    """Lines of module-level imports of vms_deploy (in a try block too), function bodies excluded."""
    lines = []
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Try):
            todo.extend(node.body + [n for h in node.handlers for n in h.body] + node.orelse + node.finalbody)
        elif isinstance(node, ast.If):
            todo.extend(node.body + node.orelse)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if any(name.split(".")[0] == "vms_deploy" for name in names):
                lines.append(node.lineno)
    return sorted(lines)


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_import_vms_deploy_only_through_the_glue(path):
    source = path.read_text(encoding="utf-8")
    lines = _module_level_vms_imports(ast.parse(source))
    assert not lines, f"{path.relative_to(ROOT)}:{lines}: import vms_deploy through plugins/filter/_vms_glue.py"
    if path != GLUE:
        assert "is not installed: run bin/setup" not in source, "use the glue's MISSING message"


def test_the_checker_sees_a_guard_of_its_own():
    tree = ast.parse("try:\n    from vms_deploy import certs\nexcept ImportError:\n    certs = None\n")
    assert _module_level_vms_imports(tree) == [2]
    assert _module_level_vms_imports(ast.parse("def f():\n    import vms_deploy\n")) == []


def _run_filters(tmp_path: Path, env: dict) -> subprocess.CompletedProcess:
    tasks = "\n".join(textwrap.dedent(f"""\
        - name: {name}
          ansible.builtin.debug:
            msg: "{{{{ {expr} | to_json }}}}"
          ignore_errors: true
        """) for name, (expr, _) in FILTERS.items())
    playbook = tmp_path / "filters.yml"
    playbook.write_text(f"- hosts: localhost\n  gather_facts: false\n  vars:\n    plan: \"{{{{ lookup('file', "
                        f"'{PLAN}') | from_json }}}}\"\n  tasks:\n" + textwrap.indent(tasks, "    "))
    full_env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
                "ANSIBLE_FILTER_PLUGINS": f"{ROOT / 'plugins' / 'filter'}:"
                                          f"{ROOT / 'roles' / 'reverse_proxy' / 'filter_plugins'}",
                **env}
    return subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=full_env, check=False)


def _results(proc: subprocess.CompletedProcess) -> dict:
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]}


def test_every_guarded_filter_works_and_the_glue_adds_no_warning(tmp_path):
    proc = _run_filters(tmp_path, {})
    results = _results(proc)
    for name, (_expr, expected) in FILTERS.items():
        assert not results[name].get("failed"), (name, results[name])
        if expected is not None:
            assert json.loads(results[name]["msg"]) == expected
    assert "Skipping plugin" not in proc.stderr and "_vms_glue" not in proc.stderr, proc.stderr


def test_without_the_package_every_guarded_filter_names_the_fix(tmp_path):
    fake = tmp_path / "fake" / "vms_deploy"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated: package not installed')\n")
    # Without the package the project's vars plugin (plugins/vars) stops the run before any task with
    # the same hint; Ansible's own vars plugin lets the run reach the filters this test is about.
    proc = _run_filters(tmp_path, {"PYTHONPATH": str(tmp_path / "fake"),
                                   "ANSIBLE_VARS_ENABLED": "ansible.builtin.host_group_vars"})
    results = _results(proc)
    for name in FILTERS:
        assert results[name].get("failed"), (name, results[name])
        assert MESSAGE in results[name]["msg"] and "simulated: package not installed" in results[name]["msg"], \
            (name, results[name]["msg"])
    assert "Skipping plugin" not in proc.stderr, proc.stderr


def test_without_the_package_the_inventory_and_vars_plugins_refuse_with_the_fix(tmp_path):
    """The project's inventory plugins (vms_yaml, vms_ini, ...) and vars plugin measure every file with the
    package's guard; without the package they refuse each source and each group_vars file, naming the fix,
    rather than parse it unguarded or fail with a traceback."""
    fake = tmp_path / "fake" / "vms_deploy"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated: package not installed')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake"), "ANSIBLE_NOCOLOR": "1"}
    site = tmp_path / "site"
    (site / "group_vars").mkdir(parents=True)
    (site / "hosts.yml").write_text("all:\n  hosts:\n    app1:\n      ansible_host: 192.0.2.10\n")
    (site / "hosts.ini").write_text("app1 ansible_host=192.0.2.10\n")
    for source in ("hosts.yml", "hosts.ini"):
        proc = subprocess.run(["ansible-inventory", "-i", str(site / source), "--list"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode != 0, proc.stdout
        assert MESSAGE in proc.stderr and "simulated: package not installed" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
    # The vars plugin, on its own (Ansible's yaml inventory plugin parses the source).
    (site / "group_vars" / "all.yml").write_text("vms_site: demo\n")
    proc = subprocess.run(["ansible-inventory", "-i", str(site / "hosts.yml"), "--list"], cwd=ROOT,
                          env={**env, "ANSIBLE_INVENTORY_ENABLED": "ansible.builtin.yaml"},
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0, proc.stdout
    assert MESSAGE in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_the_glue_takes_a_plan_or_the_registered_result_and_names_the_filter_on_bad_input():
    import runpy

    from ansible.errors import AnsibleError, AnsibleFilterError

    glue = runpy.run_path(str(GLUE))
    plan = {"hosts": {}}
    assert glue["vms_plan_arg"](plan, "f") is plan
    assert glue["vms_plan_arg"]({"plan": plan, "warnings": []}, "f") is plan
    for bad in (None, [], "plan", {"plan": "x"}, {"zones": {}}):
        with pytest.raises(AnsibleFilterError, match="my_filter: expected the plan dict"):
            glue["vms_plan_arg"](bad, "my_filter")

    def renders(value):
        raise ValueError(f"bad {value}")

    with pytest.raises(AnsibleFilterError, match="renders: bad 3"):
        glue["vms_call"](renders, (ValueError,), 3)
    with pytest.raises(TypeError):  # not a listed input error: a bug, left to show as one
        glue["vms_call"](lambda: 1 + "", (ValueError,))
    (missing,), error = glue["vms_import"]("vms_deploy.no_such_module")
    assert error is not None
    with pytest.raises(AnsibleError, match="is not installed"):
        glue["vms_call"](missing, (missing, ValueError), plan)
