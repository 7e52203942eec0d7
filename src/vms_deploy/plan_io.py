"""Write a compiled plan and its derived documents to a directory, touching only changed files."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .render import port_matrix, router_sheet


def plan_json(plan: dict) -> str:
    """The canonical, byte-stable text of plan.json (sorted keys, indent 2, trailing newline)."""
    return json.dumps(plan, sort_keys=True, indent=2) + "\n"


def outputs(plan: dict) -> dict[str, str]:
    """file name -> text of every output of plan.yml."""
    return {"plan.json": plan_json(plan), "ports.md": port_matrix.render(plan),
            "router.csv": router_sheet.to_csv(plan), "router.md": router_sheet.to_markdown(plan)}


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    # Write to a temporary file then rename, so a reader never sees half a plan.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def write_plan_outputs(plan: dict, directory: str | Path) -> dict[str, bool]:
    """Write plan.json, ports.md, router.csv, router.md into `directory`; return {file: changed}."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {name: _write_if_changed(directory / name, text) for name, text in outputs(plan).items()}
