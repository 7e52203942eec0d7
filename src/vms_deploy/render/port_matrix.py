"""Markdown port matrix: per host, every open inbound port, who may connect, and why.

Sources are written in words (vms_deploy.describe: "anywhere except the camera network ..."), exact;
plan.json keeps every CIDR. The warnings are the hosts' and the site's (vms_deploy.plan_warnings):
the router's go to the router sheet, the firewall's to the firewall request, all of them to the report.
"""
from __future__ import annotations

from ..describe import sources
from ..plan_warnings import TITLES, for_document, grouped, line, of
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
        words = sources(rule["sources"], plan.get("zones") or {})
        lines.append(f"| {md(rule['protocol'])} | {port_range(rule['ports'])} | {md(words)} | "
                     f"{md(rule['component'])} | {md(rule['service'])} | {_cell(rule['purpose'])} |")
    lines.append("")
    return "\n".join(lines)


def render(plan: dict) -> str:
    """The whole site's port matrix (one section per host), ending in a newline."""
    head = [f"# Port matrix: site {md(plan['site'])} ({md(plan['product'])}, {md(plan['topology'])})", "",
            "Generated from plan.json by vms-deploy; do not edit. Every port not listed is closed.", ""]
    body = [render_host(plan, host) for host in sorted(plan["hosts"])]
    warnings = for_document(plan.get("warnings") or (), "port_matrix")
    if warnings:
        parts = ["## Warnings", ""]
        for group, entries in grouped(warnings):
            parts += [f"### {TITLES[group]}", ""] + [f"- {_cell(line(w, with_group=False))}" for w in entries] + [""]
        body.append("\n".join(parts))
    others = len(of(plan)) - len(warnings)
    if others:
        body.append(f"{others} more warning(s) about the router and the firewall between zones: router.md, "
                    "firewall-rules.md and the report.\n")
    return "\n".join(head + body).rstrip("\n") + "\n"
