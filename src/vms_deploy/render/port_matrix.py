"""Markdown port matrix: per host, every open inbound port, who may connect, and why."""
from __future__ import annotations

from ..ports import port_range
from .escape import md


def _cell(text) -> str:
    return md(text)


def render_host(plan: dict, host: str) -> str:
    """Markdown section of one host: a table of its inbound rules."""
    h = plan["hosts"][host]
    lines = [f"## {md(host)} ({md(h['address'])})", "",
             (f"Zone `{md(h['zone'])}`, platform `{md(h['platform'])}`, components: "
              f"{md(', '.join(h['components'])) or '(none)'}."), ""]
    if not h["inbound"]:
        lines += ["No inbound port is open on this host.", ""]
        return "\n".join(lines)
    lines += ["| protocol | ports | sources | component | service | purpose |",
              "| --- | --- | --- | --- | --- | --- |"]
    for rule in h["inbound"]:
        lines.append(f"| {md(rule['protocol'])} | {port_range(rule['ports'])} | {md(', '.join(rule['sources']))} | "
                     f"{md(rule['component'])} | {md(rule['service'])} | {_cell(rule['purpose'])} |")
    lines.append("")
    return "\n".join(lines)


def render(plan: dict) -> str:
    """The whole site's port matrix (one section per host), ending in a newline."""
    head = [f"# Port matrix: site {md(plan['site'])} ({md(plan['product'])}, {md(plan['topology'])})", "",
            "Generated from plan.json by vms-deploy; do not edit. Every port not listed is closed.", ""]
    body = [render_host(plan, host) for host in sorted(plan["hosts"])]
    if plan.get("warnings"):
        body.append("## Warnings\n\n" + "\n".join(f"- {_cell(w)}" for w in plan["warnings"]) + "\n")
    return "\n".join(head + body).rstrip("\n") + "\n"
