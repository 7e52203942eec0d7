"""Per-site HTML report: port matrix, router sheet, zones and a generated network picture.

`graph.plan_to_dot` builds a Graphviz description of the plan, `graph.render_svg` runs `dot`,
and `html.render_html` writes one self-contained page (inline CSS and SVG) that opens in any
browser without Ansible or network access. `write_report` ties them together for the CLI.
"""
from vms_deploy.report.build import write_report

__all__ = ["write_report"]
