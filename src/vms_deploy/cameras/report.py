"""The camera audit's result as JSON and Markdown, and its exit code (1 on a finding, like audit.yml's drift)."""
from __future__ import annotations

import json

from .checks import FINDING


def findings(result: dict) -> list[tuple[str, dict]]:
    """(device address or "site", finding) of every finding and note, in report order."""
    out = [("site", f) for f in result.get("findings") or []]
    for device in result.get("devices") or []:
        out += [(device["address"], f) for f in device.get("findings") or []]
    return out


def exit_code(result: dict) -> int:
    return 1 if any(f["severity"] == FINDING for _, f in findings(result)) else 0


def to_json(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=True) + "\n"


def _cell(value) -> str:
    return str(value if value not in (None, "") else "-").replace("|", "\\|").replace("\n", " ")


def rows(result: dict) -> list[dict]:
    """One row per device for the Markdown table and the HTML report."""
    out = []
    for d in result.get("devices") or []:
        facts = d.get("facts") or {}
        info = facts.get("info") or {}
        bad = [f for f in d.get("findings") or [] if f["severity"] == FINDING]
        out.append({"address": d["address"], "name": d.get("name") or "", "named": d.get("named"),
                    "discovered": d.get("discovered"), "manufacturer": info.get("Manufacturer", ""),
                    "model": info.get("Model", ""), "firmware": info.get("FirmwareVersion", ""),
                    "auth": {"refused": "required", "answered": "NOT required"}.get(
                        facts.get("unauthenticated"), "no answer"),
                    "clock": "" if facts.get("clock_offset") is None else f"{facts['clock_offset']:+.0f} s",
                    "status": "FINDING" if bad else "ok",
                    "findings": [f["text"] for f in d.get("findings") or []]})
    return out


def to_markdown(result: dict, site: str = "") -> str:
    disc = result.get("discovery") or {}
    lines = [f"# Camera audit{': ' + site if site else ''}", "",
             f"WS-Discovery: {disc.get('probed', 0)} probes, {disc.get('answered', 0)} devices answered, "
             f"{disc.get('ignored', 0)} replies ignored, {disc.get('seconds', 0)} s. Default credentials "
             f"{'tried' if result.get('default_credentials_tried') else 'not tried (off unless asked)'}.", "",
             "| address | name | in inventory | discovered | manufacturer | model | firmware | authentication | "
             "clock | status |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows(result):
        lines.append("| " + " | ".join(_cell(v) for v in (
            r["address"], r["name"], "yes" if r["named"] else "NO", "yes" if r["discovered"] else "no",
            r["manufacturer"], r["model"], r["firmware"], r["auth"], r["clock"], r["status"])) + " |")
    items = findings(result)
    lines += ["", "## Findings", ""]
    if not items:
        lines.append("None.")
    for where, f in items:
        lines.append(f"- **{f['severity']}** {where}: {f['text']} ({f['seed']})")
    return "\n".join(lines) + "\n"
