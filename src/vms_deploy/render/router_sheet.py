"""Router sheet: the port forwards an admin types into a consumer router ("virtual server").

One row per forward: name, external port(s), internal address, internal port(s), protocol, and
the sources allowed (routers with IP filtering can use them). Rendered as CSV and Markdown.
"""
from __future__ import annotations

import csv
import io

from .escape import csv_cell, md

COLUMNS = ("name", "external_port", "internal_address", "internal_port", "protocol", "allowed_sources")


def _ports(pair) -> str:
    # The router UIs in the seeds show ranges as "first:last" (e.g. 80:80 on the D-Link example).
    return f"{pair[0]}:{pair[1]}"


def rows(plan: dict) -> list[dict]:
    return [{"name": f["name"], "external_port": _ports(f["external_ports"]), "internal_address": f["to_address"],
             "internal_port": _ports(f["to_ports"]), "protocol": f["protocol"].upper(),
             "allowed_sources": " ".join(f["sources"])} for f in plan["forwards"]]


def to_csv(plan: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows(plan))
    return out.getvalue()


def to_markdown(plan: dict) -> str:
    lines = [f"# Router port forwards: site {md(plan['site'])}", ""]
    public = (plan.get("edge") or {}).get("public_address")
    if plan.get("remote_access") == "vpn" and plan.get("vpn"):
        vpn = plan["vpn"]
        lines += [(f"Remote access is by VPN: forward only UDP {md(vpn['listen_port'])} to the edge host "
                   f"({md(vpn['edge_address'] or 'its public address')}); no other port is forwarded."), ""]
    elif not plan["forwards"]:
        lines += ["No port is forwarded from the Internet for this site.", ""]
    else:
        lines += [(f"Public address: {md(public or '(not set)')}. Add one forwarding (virtual server) rule per row; "
                   "ranges are written first:last. Disable UPnP on the router."), "",
                  "| name | external port | internal address | internal port | protocol | allowed sources |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for row in rows(plan):
            lines.append("| " + " | ".join(md(row[c]) for c in COLUMNS) + " |")
        lines.append("")
    if plan.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {md(w)}" for w in plan["warnings"]] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
