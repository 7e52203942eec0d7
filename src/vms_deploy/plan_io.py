"""Write a compiled plan and its derived documents to a directory, touching only changed files."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .render import port_matrix, router_sheet


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


def outputs(plan: dict) -> dict[str, str]:
    """file name -> text of every output of plan.yml."""
    return {"plan.json": plan_json(plan), "ports.md": port_matrix.render(plan),
            "router.csv": router_sheet.to_csv(plan), "router.md": router_sheet.to_markdown(plan)}


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


def write_plan_outputs(plan: dict, directory: str | Path, texts: dict[str, str] | None = None) -> dict[str, bool]:
    """Write plan.json, ports.md, router.csv, router.md into `directory`; return {file: changed}.
    texts: outputs(plan) when the caller has it already."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {name: _write_if_changed(directory / name, text) for name, text in (texts or outputs(plan)).items()}


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
