"""Write the report directory: index.html (self-contained) plus the picture's sources for reuse."""
from __future__ import annotations

import os
from typing import Any

from vms_deploy.plan_io import plan_json
from vms_deploy.render import firewall_request
from vms_deploy.report.graph import plan_to_dot, render_svg
from vms_deploy.report.html import render_html


def write_report(plan: dict[str, Any], out_dir: str, picture: bool = True) -> list[str]:
    """Write index.html, network.dot, network.svg (when `picture`), plan.json and firewall-rules.csv/.md;
    return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    dot_text = plan_to_dot(plan)
    svg = render_svg(dot_text) if picture else None
    files = {"index.html": render_html(plan, svg), "network.dot": dot_text,
             "plan.json": plan_json(plan), **firewall_request.render(plan)}  # the page links the firewall rules
    if svg:
        files["network.svg"] = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg
    for name, text in sorted(files.items()):
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    return written
