"""src/vms_deploy has no import cycle, counting function-level imports too (issue 16).

A cycle hidden behind a local import still couples two modules both ways: neither can be read,
tested or replaced alone. The graph is built from the source with `ast`, never by importing it.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "vms_deploy"
ROOT = Path(__file__).resolve().parents[2] / "src" / PACKAGE


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> modules of the package it imports (module level or inside a function)."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # `from . import checks` imports the module vms_deploy.checks; `from . import PLAN_SCHEMA`
                # the package itself.
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in files else source for a in node.names]
            for target in targets:
                while target and target not in files:  # `import vms_deploy.x.y` of a name inside x
                    target = target.rpartition(".")[0]
                if target and target != name and target.split(".")[0] == PACKAGE:
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """(one cycle a -> ... -> a, its whole component) for every strongly connected component of more
    than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [(_cycle_in(graph, set(c)), c) for c in components]


def _cycle_in(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """One concrete cycle a -> b -> ... -> a inside a strongly connected component."""
    start = min(members)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return sorted(members)


def test_no_import_cycle():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in src/vms_deploy (a cycle, then every module tied into it):\n" + "\n".join(
        f"{' -> '.join(cycle)}  [{', '.join(component)}]" for cycle, component in cycles)


def test_the_graph_sees_function_level_and_relative_imports(tmp_path):
    """The checker itself: a cycle through a function-level relative import is found."""
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub.b import thing\n")
    (pkg / "sub" / "b.py").write_text("def thing():\n    from .. import a\n    return a\n")
    (pkg / "c.py").write_text("import os\nfrom vms_deploy.a import thing\n")
    graph = import_graph(pkg)
    assert graph == {"vms_deploy": set(), "vms_deploy.sub": set(), "vms_deploy.a": {"vms_deploy.sub.b"},
                     "vms_deploy.sub.b": {"vms_deploy.a"}, "vms_deploy.c": {"vms_deploy.a"}}
    assert find_cycles(graph) == [(["vms_deploy.a", "vms_deploy.sub.b", "vms_deploy.a"],
                                   ["vms_deploy.a", "vms_deploy.sub.b"])]
    graph["vms_deploy.sub.b"] = set()
    assert find_cycles(graph) == []


def test_compiler_and_validator_do_not_import_each_other():
    """Neither the validator package (any of its rule modules) nor the compiler imports the other."""
    graph = import_graph()
    validator = {m for m in graph if m == "vms_deploy.validate" or m.startswith("vms_deploy.validate.")}
    assert len(validator) > 1, "vms_deploy.validate is a package of rule modules"
    assert {m for m in validator if "vms_deploy.compiler" in graph[m]} == set()
    assert graph["vms_deploy.compiler"] & validator == set()
