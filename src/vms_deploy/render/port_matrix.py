"""Markdown port matrix: per host, every open inbound port, who may connect, and why.

Sources are written in words (vms_deploy.describe: "anywhere except the camera network ..."), exact;
plan.json keeps every CIDR. The warnings are the hosts' and the site's (vms_deploy.plan_warnings):
the router's go to the router sheet, the firewall's to the firewall request, all of them to the report.
"""
from __future__ import annotations

from .. import plan_warnings
from .. import provenance as _provenance
from ..claims import all_host_claims, grouped, host_claims, site_claims
from ..describe import sources
from ..ports import port_range
from .escape import md


def _cell(text) -> str:
    return md(text)


def render_host(plan: dict, host: str, settings: dict | None = None) -> str:
    """Markdown section of one host: a table of its inbound rules and what holds for the ports it does not list."""
    h = plan["hosts"][host]
    claims = host_claims(plan, host, settings)
    unlisted = f"Ports not listed: {md(claims.unlisted)} (vms-deploy owns {md(claims.owned)})."
    lines = [f"## {md(host)} ({md(h['address'])})", "",
             (f"Zone `{md(h['zone'])}`, platform `{md(h['platform'])}`, components: "
              f"{md(', '.join(h['components'])) or '(none)'}."), ""]
    if not h["inbound"]:
        lines += ["No inbound port is opened by vms-deploy on this host. " + unlisted, ""]
        return "\n".join(lines)
    lines += ["| protocol | ports | sources | component | service | purpose |",
              "| --- | --- | --- | --- | --- | --- |"]
    for rule in h["inbound"]:
        words = sources(rule["sources"], plan.get("zones") or {})
        lines.append(f"| {md(rule['protocol'])} | {port_range(rule['ports'])} | {md(words)} | "
                     f"{md(rule['component'])} | {md(rule['service'])} | {_cell(rule['purpose'])} |")
    lines += ["", unlisted, ""]
    return "\n".join(lines)


def not_owned(plan: dict, settings: dict | None = None) -> str:
    """What vms-deploy does not filter, per group of hosts with the same claims, and site-wide."""
    lines = ["## What vms-deploy does not own", ""]
    for hosts, claims in grouped(all_host_claims(plan, settings)):
        lines.append(f"{md(', '.join(hosts))} ({md(claims.platform)}):")
        lines += [f"- {md(text)}" for text in claims.not_owned]
        lines.append("")
    lines.append("Site-wide:")
    lines += [f"- {md(text)}" for text in site_claims(plan)]
    return "\n".join(lines) + "\n"


def render(plan: dict, provenance: _provenance.Provenance | None = None, settings: dict | None = None) -> str:
    """The whole site's port matrix (one section per host), ending in a newline. `provenance`
    (vms_deploy.provenance.facts.collect) adds the provenance and approval block; `settings` the per-host
    inventory settings the claims depend on (claims.settings_from_inventory)."""
    head = [f"# Port matrix: site {md(plan['site'])} ({md(plan['product'])}, {md(plan['topology'])})", "",
            "Generated from plan.json by vms-deploy; do not edit. Each host's section says what holds for a port "
            "it does not list; the last sections say what vms-deploy does not filter.", ""]
    body = [render_host(plan, host, settings) for host in sorted(plan["hosts"])]
    warnings = plan_warnings.for_document(plan.get("warnings") or (), "port_matrix")
    if warnings:
        parts = ["## Warnings", ""]
        for group, entries in plan_warnings.grouped(warnings):
            parts += [f"### {plan_warnings.TITLES[group]}", ""]
            parts += [f"- {_cell(plan_warnings.line(w, with_group=False))}" for w in entries] + [""]
        body.append("\n".join(parts))
    others = len(plan_warnings.of(plan)) - len(warnings)
    if others:
        body.append(f"{others} more warning(s) about the router and the firewall between zones: router.md, "
                    "firewall-rules.md and the report.\n")
    body.append(not_owned(plan, settings))
    if provenance is not None:
        body.append(_provenance.markdown(provenance))
    return "\n".join(head + body).rstrip("\n") + "\n"
