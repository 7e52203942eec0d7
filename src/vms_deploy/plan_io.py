"""Write a compiled plan and its derived documents to a directory, touching only changed files."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .render import firewall_request, port_matrix, router_sheet


def plan_json(plan: dict) -> str:
    """The canonical, byte-stable text of plan.json: sorted keys, 2-space indent, trailing newline,
    and every rule, forward or flow on one line (see _encode)."""
    return _encode(plan, 0) + "\n"


_ONE_LINE = json.JSONEncoder(sort_keys=True).encode  # one encoder: json.dumps(sort_keys=...) builds one per call


def _scalar(value) -> bool:
    return not isinstance(value, (dict, list))


def _leaf(value) -> bool:
    """A mapping or list holding only scalars and lists of scalars: one line of JSON. A plan's lists
    are homogeneous, so a list's first item stands for all (a 1000-recorder plan has 200,000 sources)."""
    items = value.values() if isinstance(value, dict) else value
    return all(_scalar(v) or (isinstance(v, list) and (not v or _scalar(v[0]))) for v in items)


def _encode(value, depth: int) -> str:
    # One line per rule keeps a reviewed diff to one line per changed rule, and lets the C encoder
    # write the bulk: json.dumps(indent=...) runs in pure Python, 2x slower on a 1000-recorder plan.
    if _scalar(value) or _leaf(value):
        return _ONE_LINE(value)
    pad = "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        body = ",".join(f"{pad}{_ONE_LINE(str(k))}: {_encode(value[k], depth + 1)}" for k in sorted(value))
        return "{" + body + "\n" + "  " * depth + "}"
    if isinstance(value[0], dict) and _leaf(value[0]):
        # A list of rules (or forwards, flows): one line each, judged by the first as above.
        return "[" + ",".join(pad + _ONE_LINE(v) for v in value) + "\n" + "  " * depth + "]"
    return "[" + ",".join(pad + _encode(v, depth + 1) for v in value) + "\n" + "  " * depth + "]"


def outputs(plan: dict, provenance=None, settings: dict | None = None) -> dict[str, str]:
    """file name -> text of every output of plan.yml (the router sheet's and the firewall request's files
    from one edge model). provenance: vms_deploy.provenance.facts.collect(plan, ...) for the block ports.md
    and router.md end with; settings: claims.settings_from_inventory(data)."""
    model = router_sheet.plan_model(plan)
    return {"plan.json": plan_json(plan), "ports.md": port_matrix.render(plan, provenance, settings),
            "router.csv": router_sheet.sheet_csv(model),
            "router.md": router_sheet.to_markdown(plan, provenance, model),
            **firewall_request.render(plan, model)}


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    # Write to a temporary file then rename, so a reader never sees half a plan.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def write_plan_outputs(plan: dict, directory: str | Path, texts: dict[str, str] | None = None,
                       provenance=None, settings: dict | None = None) -> dict[str, bool]:
    """Write plan.json, ports.md, router.csv, router.md, firewall-rules.csv and firewall-rules.md into
    `directory`; return {file: changed}. texts: outputs(plan, provenance, settings) when the caller has it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    texts = texts or outputs(plan, provenance, settings)
    return {name: _write_if_changed(directory / name, text) for name, text in texts.items()}


# --- Which plan a host runs -------------------------------------------------------------------

DIGEST_LENGTH = 16  # hex characters (64 bits): short enough for a table comment, long enough never to collide by chance


def _single_host_sources(plan: dict, rules) -> dict[str, str]:
    """Address -> name of each plan host whose /32 is a rule's only source: the renderers name such a
    set after the host (host_NAME), so renaming that host changes this host's rules too."""
    by_address = {f"{h.get('address')}/32": name for name, h in (plan.get("hosts") or {}).items() if h.get("address")}
    named = {}
    for rule in rules:
        sources = rule.get("sources") or []
        if len(sources) == 1 and sources[0] in by_address:
            named[sources[0]] = by_address[sources[0]]
    return named


def host_part(plan: dict, host: str) -> dict:
    """The part of the plan that decides `host`'s own firewall: its entry, the zones (set names and
    the management sources) and the names of hosts its rules admit alone. For the plan's edge host also
    everything the edge renders: the forwards, zone flows, VPN and every host's address and zone.

    Raises KeyError (naming the host and the site) when the host is not in the plan."""
    hosts = plan.get("hosts") or {}
    if host not in hosts:
        raise KeyError(f"host {host!r} is not in the plan of site {plan.get('site')!r}")
    entry = hosts[host]
    part = {"schema": plan.get("schema"), "site": plan.get("site"), "product": plan.get("product"),
            "host": host, "entry": entry, "zones": plan.get("zones") or {}}
    rules = list(entry.get("inbound") or [])
    edge = plan.get("edge") or {}
    if edge.get("host") == host:
        part.update({"edge": edge, "remote_access": plan.get("remote_access"), "forwards": plan.get("forwards") or [],
                     "zone_flows": plan.get("zone_flows") or [], "vpn": plan.get("vpn"),
                     "hosts": {name: [h.get("address"), h.get("zone")] for name, h in hosts.items()}})
        rules += part["forwards"] + part["zone_flows"]
    part["named_sources"] = _single_host_sources(plan, rules)
    return part


def host_digest(plan: dict, host: str) -> str:
    """A short hex digest of `host`'s part of the plan (host_part): equal digests mean the host's
    rules came from the same plan content, whatever changed elsewhere in the site. Recorded on the
    host (nftables table comment, Windows rule-group description) so audit.yml can say which plan
    each host runs and an unchanged host is not rewritten."""
    text = json.dumps(host_part(plan, host), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def host_digests(plan: dict) -> dict[str, str]:
    """host -> host_digest for every host of the plan."""
    return {host: host_digest(plan, host) for host in sorted(plan.get("hosts") or {})}


# --- A saved, reviewed plan (vms_plan_file) --------------------------------------------------

class PlanFileError(ValueError):
    """The reviewed plan file cannot be used; the message names the file and the fix."""


def load_plan_file(path: str | Path) -> dict:
    """The plan saved by playbooks/plan.yml (or `vms-deploy plan`), checked to be a schema-1 plan."""
    path = Path(path)
    fix = "Fix: give the plan.json written by playbooks/plan.yml (build/plan/SITE/plan.json) and reviewed"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(f"vms_plan_file = {str(path)!r}: cannot be read ({exc.strerror}). {fix}.") from None
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"vms_plan_file = {str(path)!r}: is not JSON ({exc}). {fix}.") from None
    if not isinstance(plan, dict) or plan.get("schema") != 1 or not isinstance(plan.get("hosts"), dict):
        raise PlanFileError(f"vms_plan_file = {str(path)!r}: is not a vms-deploy plan (schema 1 with hosts). {fix}.")
    return plan


def plan_differences(reviewed: dict, compiled: dict) -> list[str]:
    """[] when the inventory compiles to exactly the reviewed plan; else review lines naming each
    difference (vms_deploy.diff's words), then any other part of the plan that differs."""
    if plan_json(reviewed) == plan_json(compiled):
        return []
    from .diff import diff_plans  # only needed on a mismatch

    # diff_plans names each warning that came or went (either plan's form: {group, text, fix}, or an older
    # plan's string).
    lines = [c.text for c in diff_plans(reviewed, compiled)]
    # diff_plans reviews what administrators change; anything else (zone flows, ...) is named by key.
    described = {"hosts", "forwards", "vpn", "zones", "site", "product", "topology", "remote_access", "edge",
                 "warnings"}
    for key in sorted(set(reviewed) | set(compiled)):
        if reviewed.get(key) != compiled.get(key) and (key not in described or not lines):
            lines.append(f"~ {key} differs")
    return lines


def mismatch_message(path: str, reviewed: dict, lines: list[str]) -> str:
    shown = lines[:40] + ([f"... and {len(lines) - 40} more"] if len(lines) > 40 else [])
    return "\n".join([
        (f"site {reviewed.get('site')}: the inventory no longer compiles to the reviewed plan {path} "
        f"({len(lines)} difference(s)); nothing was changed on any host."),
        "Reviewed plan -> what the inventory compiles to now:",
        *(f"  {line}" for line in shown),
        ("Fix: review the change and save the new plan (ansible-playbook playbooks/plan.yml, or "
        "vms-deploy diff), then run again with that file; or revert the inventory change."),
    ])


def slice_differences(reviewed: dict, visible: dict[str, dict]) -> list[str]:
    """A partial inventory (an AWX job slice) cannot compile the whole plan, so its hosts are checked
    one by one against the reviewed plan: each must be in it with the same groups and address.
    visible: host -> {"groups": [vms_* groups], "address": str or None}."""
    lines = []
    for host in sorted(visible):
        seen = visible[host]
        planned = reviewed["hosts"].get(host)
        if planned is None:
            lines.append(f"+ host {host} ({', '.join(seen['groups'])}) is not in the reviewed plan")
            continue
        if sorted(planned.get("groups") or []) != sorted(seen["groups"]):
            lines.append(f"~ host {host}: groups {', '.join(sorted(planned.get('groups') or []))} in the plan, "
                         f"{', '.join(sorted(seen['groups']))} in the inventory")
        if seen.get("address") and seen["address"] != planned.get("address"):
            lines.append(f"~ host {host}: address {planned.get('address')} in the plan, {seen['address']} in the "
                         "inventory")
    return lines
