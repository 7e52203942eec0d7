"""Edge backend `router_sheet`: the port forwards an admin types into a consumer router ("virtual server").

One row per forward of the neutral edge model (vms_deploy.edge.model): name, external port(s),
internal address, internal port(s), protocol, and the sources allowed (routers with IP filtering can
use them). Rendered as CSV and Markdown; nothing applies it: playbooks/plan.yml and the edge stage
write it on the controller and the forwards are typed by hand.
"""
from __future__ import annotations

import csv
import io

from .. import provenance as _provenance
from ..edge.model import EdgeModel, build
from .escape import csv_cell, md

NAME = "router_sheet"
MANAGED_EDGE = False
APPLIED = ("written on the controller (router.csv, router.md in the plan directory); the forwards are typed by "
           "hand into the site's router")
COLUMNS = ("name", "external_port", "internal_address", "internal_port", "protocol", "allowed_sources")


def _ports(pair) -> str:
    # The router UIs in the seeds show ranges as "first:last" (e.g. 80:80 on the D-Link example).
    return f"{pair[0]}:{pair[1]}"


def plan_model(plan: dict) -> EdgeModel:
    """The neutral edge model this backend renders for a plan (no edge host: a router vms-deploy does not manage)."""
    return build(plan, None, backend=NAME)


def model_rows(model: EdgeModel) -> list[dict]:
    return [{"name": f.name, "external_port": _ports(f.external_ports), "internal_address": f.to_address,
             "internal_port": _ports(f.to_ports), "protocol": f.protocol.upper(),
             "allowed_sources": " ".join(f.allowed_sources)} for f in model.forwards]


def sheet_csv(model: EdgeModel) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in model_rows(model))
    return out.getvalue()


def sheet_markdown(model: EdgeModel, provenance: _provenance.Provenance | None = None) -> str:
    lines = [f"# Router port forwards: site {md(model.site)}", ""]
    if model.remote_access == "vpn" and model.vpn:
        vpn = model.vpn
        lines += [(f"Remote access is by VPN: forward only UDP {md(vpn.listen_port)} to the edge host "
                   f"({md(vpn.edge_address or 'its public address')}); no other port is forwarded."), ""]
    elif not model.forwards:
        lines += ["No port is forwarded from the Internet for this site.", ""]
    else:
        lines += [(f"Public address: {md(model.public_address or '(not set)')}. Add one forwarding (virtual server) "
                   "rule per row; ranges are written first:last. Disable UPnP on the router."), "",
                  "| name | external port | internal address | internal port | protocol | allowed sources |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for row in model_rows(model):
            lines.append("| " + " | ".join(md(row[c]) for c in COLUMNS) + " |")
        lines.append("")
    if model.warnings:
        lines += ["## Warnings", ""] + [f"- {md(w)}" for w in model.warnings] + [""]
    if provenance is not None:  # the hosts the forwards reach: the digests the router's typist can compare
        lines.append(_provenance.markdown(provenance, hosts=sorted({f.to_host for f in model.forwards if f.to_host})))
    return "\n".join(lines).rstrip("\n") + "\n"


def render(model: EdgeModel, provenance: _provenance.Provenance | None = None) -> dict[str, str]:
    """The backend interface (vms_deploy.edge): {"router.csv": ..., "router.md": ...}; `provenance`
    (vms_deploy.provenance.facts.collect) adds the provenance and approval block to router.md."""
    return {"router.csv": sheet_csv(model), "router.md": sheet_markdown(model, provenance)}


# The plan-level functions plan.yml, the report and the kernel judge's router stand-in use.
def rows(plan: dict) -> list[dict]:
    return model_rows(plan_model(plan))


def to_csv(plan: dict) -> str:
    return sheet_csv(plan_model(plan))


def to_markdown(plan: dict, provenance: _provenance.Provenance | None = None) -> str:
    return sheet_markdown(plan_model(plan), provenance)
