"""Write the report directory: index.html (self-contained), the picture's sources, plan.json, and report.pdf."""
from __future__ import annotations

import os
from typing import Any

from vms_deploy.plan_io import plan_json
from vms_deploy.render import firewall_request
from vms_deploy.report.graph import plan_to_dot, render_picture
from vms_deploy.report.html import render_html


def write_report(plan: dict[str, Any], out_dir: str, picture: bool = True, pdf: bool = False,
                 provenance=None, settings: dict[str, Any] | None = None,
                 cameras: dict[str, Any] | None = None) -> list[str]:
    """Write index.html, network.dot, network.svg (when `picture`), plan.json, firewall-rules.csv/.md (the
    page links them) and report.pdf (when `pdf`); return the paths written. provenance and settings: see
    render_html (cameras: the camera audit's result, for the camera section)."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    dot_text, svg = render_picture(plan) if picture else (plan_to_dot(plan), None)
    page = render_html(plan, svg, provenance, settings, cameras)
    files = {"index.html": page, "network.dot": dot_text, "plan.json": plan_json(plan),
             **firewall_request.render(plan)}
    if svg:
        files["network.svg"] = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg
    for name, text in sorted(files.items()):
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    if pdf:
        from vms_deploy.report.pdf import write_pdf

        path = os.path.join(out_dir, "report.pdf")
        write_pdf(page, path)
        written.append(path)
    return written
