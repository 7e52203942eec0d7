"""Edge backend `router_sheet`: the sheet a field technician types into a consumer router.

One row per forward of the neutral edge model (vms_deploy.edge.model): name, protocol, external
port(s), internal address and port(s), and the sources allowed. Around the table, what the
technician must also do on the router and how to prove the work (seeds 000 and 002): a fixed
address for the forwarded host; old forwards, any "DMZ host" setting, remote (WAN) administration
and UPnP off; what to do when the router cannot filter by source; the test from outside the site
(`vms-deploy probe`); the router's warnings only; a sign-off line.

Ports are written as people and most router forms write them (`80`, `10000-10099`), with the range
form some routers want beside them (`80:80`, as on the D-Link of seed 000). Rendered as CSV and
Markdown; nothing applies it: playbooks/plan.yml and the edge stage write it on the controller.
"""
from __future__ import annotations

import csv
import io

from .. import provenance as _provenance
from ..checks import safe_name_problem
from ..describe import sources
from ..edge.model import EdgeModel, build
from ..plan_warnings import for_document, line
from ..ports import port_range
from .escape import csv_cell, md

NAME = "router_sheet"
MANAGED_EDGE = False
APPLIED = ("written on the controller (router.csv, router.md in the plan directory); the forwards are typed by "
           "hand into the site's router")
COLUMNS = ("name", "protocol", "external_port", "external_range", "internal_address", "internal_port",
           "internal_range", "allowed_sources", "host", "purpose")
TITLES = ("name", "protocol", "external port", "internal address", "internal port", "as a range (external, internal)",
          "allowed sources")
PLAN_DIR = "build/plan"  # where playbooks/plan.yml and `vms-deploy plan --out` put plan.json by default


def plan_model(plan: dict) -> EdgeModel:
    """The neutral edge model this backend renders for a plan (no edge host: a router vms-deploy does not manage)."""
    return build(plan, None, backend=NAME)


def model_rows(model: EdgeModel) -> list[dict]:
    return [{"name": f.name, "protocol": f.protocol.upper(), "external_port": port_range(f.external_ports),
             "external_range": port_range(f.external_ports, "router"), "internal_address": f.to_address,
             "internal_port": port_range(f.to_ports), "internal_range": port_range(f.to_ports, "router"),
             "allowed_sources": " ".join(f.allowed_sources), "host": f.to_host, "purpose": f.purpose}
            for f in model.forwards]


def sheet_csv(model: EdgeModel) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in model_rows(model))
    return out.getvalue()


def _forwarded_hosts(model: EdgeModel) -> list[tuple[str, str]]:
    return sorted({(f.to_host, f.to_address) for f in model.forwards})


def _before(model: EdgeModel) -> list[str]:
    """What to set on the router first, so the forwards below are the only way in."""
    lines = ["## 1. Before you start", ""]
    for host, address in _forwarded_hosts(model):
        lines.append(f"- [ ] Give {md(host)} the fixed address {md(address)}: set it statically on the host, or "
                     "reserve it in the router's DHCP settings for the host's MAC address, so the forwards keep "
                     "pointing at it.")
    lines += ["- [ ] Delete every port forward (virtual server) already on the router that is not in the table "
              "below: old forwards to recorders, cameras or the NVR stay open otherwise.",
              "- [ ] Turn off any \"DMZ host\" (exposed host) setting: it sends every port to one machine.",
              "- [ ] Turn off remote (WAN) administration of the router, so its own login page cannot be reached "
              "from the Internet.",
              "- [ ] Disable UPnP, so no device on the network can open ports on the router by itself.", ""]
    return lines


def _sources_note(model: EdgeModel) -> list[str]:
    """The allowed sources, and what to do when the router cannot filter by source."""
    if not model.forwards:
        return []
    lists = {f.allowed_sources for f in model.forwards}
    if all(list(s) == ["0.0.0.0/0"] for s in lists):
        return ["Allowed sources: anywhere (vms_remote_allowlist is 0.0.0.0/0, see the warnings): leave the "
                "source open on every rule.", ""]
    hosts = ", ".join(f"{md(h)} ({md(a)})" for h, a in _forwarded_hosts(model))
    return [("If the router can filter by source address, enter each rule's allowed sources. If it cannot (most "
             f"consumer routers), leave the source open: the host firewall on {hosts}, set up by vms-deploy, "
             "admits only the allowed sources. Turn off any option that makes the router rewrite the source "
             "address of forwarded connections (the host would see the router's address and could not filter)."),
            ""]


def _test(model: EdgeModel, site: str) -> list[str]:
    lines = ["## 3. Test from outside the site", ""]
    if not model.public_address:
        return lines + ["The site has no public address (vms_public_address): there is nothing to test from "
                        "outside.", ""]
    # A site name the validator would refuse (a hand-edited plan) never goes into a command to copy.
    path = f"{PLAN_DIR}/{site}/plan.json" if safe_name_problem(site) is None else "PATH/TO/plan.json"
    lines += ["From a machine outside the site's networks (a laptop on a phone's mobile data, not the site's own "
              "network or Wi-Fi), with vms-deploy installed and this site's plan.json:", "",
              f"    vms-deploy probe {path}", ""]
    if any(list(f.allowed_sources) != ["0.0.0.0/0"] for f in model.forwards):
        lines += ["The forwards admit only their allowed sources: add `--source` followed by the machine's public "
                  "address, and run it from an address inside the list.", ""]
    lines += [(f"It tries every forward and the ports that must stay closed on {md(model.public_address)}. "
               "Exit code 0 means every port is as planned; a DIFF line names the forward or port to fix."), ""]
    return lines


def _sign_off() -> list[str]:
    """The technician's line: the work on the router done and tested (the provenance block after it
    holds the plan's approval)."""
    return ["## Sign-off", "",
            "Router (make, model, firmware): ______________________________", "",
            "Configured and tested by: ______________________  Date: ____________  Probe exit code: ______", "",
            "Signature: ______________________________", ""]


def sheet_markdown(model: EdgeModel, provenance: _provenance.Provenance | None = None,
                   edge_host: str | None = None) -> str:
    """The technician's sheet. provenance (vms_deploy.provenance.facts.collect) adds the provenance and
    approval block; edge_host: the site's managed edge, when it applies the forwards itself."""
    lines = [f"# Router port forwards: site {md(model.site)}", ""]
    if edge_host:
        lines += [(f"Nothing to type: the managed edge host {md(edge_host)} applies these forwards itself "
                   f"(public address {md(model.public_address or '(not set)')}). If another router stands between it "
                   "and the Internet, that router must pass the external ports below to the edge host unchanged, "
                   "and the checklist below is for it."),
                  ""]
    else:
        lines += [(f"Public address: {md(model.public_address or '(not set)')}. The router is not managed by "
                   "vms-deploy: the forwards below are typed in by hand."), ""]
    if model.remote_access == "vpn" and model.vpn:
        vpn = model.vpn
        lines += [(f"Remote access is by VPN (WireGuard on the edge host): a router in front of the edge forwards only "
                   f"UDP {md(vpn.listen_port)} to the edge host's Internet-facing address "
                   f"({md(model.public_address or 'vms_public_address')}); no other port is forwarded."), ""]
    lines += _before(model)
    lines += ["## 2. Port forwards", ""]
    if not model.forwards:
        lines += ["No port is forwarded from the Internet for this site.", ""]
    else:
        lines += [("Add one forwarding (virtual server) rule per row. A router that asks for a range wants the "
                   "first:last form of the \"as a range\" column (a single port 80 is 80:80)."), "",
                  "| " + " | ".join(TITLES) + " |", "| " + " | ".join("---" for _ in TITLES) + " |"]
        for f, row in zip(model.forwards, model_rows(model), strict=True):
            cells = (row["name"], row["protocol"], row["external_port"], row["internal_address"], row["internal_port"],
                     f"{row['external_range']}, {row['internal_range']}", sources(f.allowed_sources))
            lines.append("| " + " | ".join(md(c) for c in cells) + " |")
        lines.append("")
        lines += _sources_note(model)
    lines += _test(model, model.site)
    warnings = for_document(model.warnings, "router_sheet")
    if warnings:
        lines += ["## Warnings about the router", ""] + [f"- {md(line(w, with_group=False))}" for w in warnings] + [""]
    lines += _sign_off()
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


def to_csv(plan: dict, model: EdgeModel | None = None) -> str:
    return sheet_csv(model or plan_model(plan))


def to_markdown(plan: dict, provenance: _provenance.Provenance | None = None,
                model: EdgeModel | None = None) -> str:
    """The sheet plan.yml writes for every site; model: the plan's edge model when the caller has it."""
    from ..boundaries import managed_edge

    return sheet_markdown(model or plan_model(plan), provenance, managed_edge(plan))
