"""Semantic diff of two plans (schema 1), in words an administrator understands.

A textual diff of plan.json would show moved lines and reordered lists; reviewers need to know
which ports open or close on which host, and which router forwards appear or go away. So rules
are matched by identity, not by position:

* an inbound rule is keyed by (host, protocol, ports, component, service); the same key with
  different sources is a *change* (who may connect changed), not a remove plus an add;
* a forward is keyed by (protocol, external_ports), the thing an admin types into the router;
  the same key with another target or allow-list is a change;
* site, product, topology, remote access, zones, hosts, edge and VPN settings are compared too;
* the plan's warnings are compared as risk: a warning the new plan has and the old did not is shown
  first ("+ new warning: ..."), one it no longer has as resolved.

`diff_plans(old, new)` returns a list of `Change` records; `render_text`, `render_markdown` and
`render_json` turn them into output. Exit-code policy lives in the CLI.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import plan_warnings
from .describe import sources as describe_sources
from .edge import backend_of
from .ports import port_range as fmt_ports  # noqa: F401 - the one formatter, under the name callers use

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
_SIGN = {ADDED: "+", REMOVED: "-", CHANGED: "~"}


@dataclass(frozen=True)
class Change:
    """One reviewable difference. `kind` groups changes in the output (site, host, rule, ...)."""

    kind: str
    action: str
    text: str
    key: dict[str, Any] = field(default_factory=dict)
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "action": self.action, "text": self.text,
                "key": self.key, "old": self.old, "new": self.new}


# ----------------------------------------------------------------------------- formatting helpers
def fmt_cidrs(cidrs: list[str], zones: dict | None = None) -> str:
    """Sources as an admin reads them, exact (vms_deploy.describe): '/32' hosts without the suffix,
    'anywhere' for 0.0.0.0/0, 'anywhere except the camera network ...' (zones: the plan's, to name holes)."""
    return describe_sources(cidrs, zones)


def fmt_service(item: dict[str, Any]) -> str:
    """'(recorder: video streams to clients)' from a rule/forward/flow record."""
    what = (item.get("purpose") or item.get("service") or "unnamed service").rstrip(".")
    return f"({item.get('component', '?')}: {what})"


def host_label(plan: dict[str, Any], name: str) -> str:
    address = plan.get("hosts", {}).get(name, {}).get("address")
    return f"{name} ({address})" if address else name


# ----------------------------------------------------------------------------- comparison
def _rule_key(host: str, rule: dict[str, Any]) -> tuple:
    return (host, rule["protocol"], tuple(rule["ports"]), rule.get("component", ""), rule.get("service", ""))


def _rules(plan: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    out: dict[tuple, dict[str, Any]] = {}
    for host, hv in sorted(plan.get("hosts", {}).items()):
        for rule in hv.get("inbound", []):
            key = _rule_key(host, rule)
            if key in out:  # two rules with one key: merge sources so nothing is hidden
                merged = sorted(set(out[key]["sources"]) | set(rule["sources"]))
                out[key] = {**out[key], "sources": merged}
            else:
                out[key] = rule
    return out


def _forwards(plan: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    return {(f["protocol"], tuple(f["external_ports"])): f for f in plan.get("forwards", [])}


def _list_delta(old: list[str], new: list[str]) -> str:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    parts = []
    if added:
        parts.append(f"added {fmt_cidrs(added)}")
    if removed:
        parts.append(f"removed {fmt_cidrs(removed)}")
    return "; ".join(parts)


def _site_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    labels = {"site": "site name", "product": "product", "topology": "topology", "remote_access": "remote access"}
    for field_name, label in labels.items():
        a, b = old.get(field_name), new.get(field_name)
        if a != b:
            changes.append(Change("site", CHANGED, f"~ {label}: {a} -> {b}", {"field": field_name}, a, b))
    old_edge, new_edge = old.get("edge") or {}, new.get("edge") or {}
    for field_name, label in (("host", "edge host"), ("public_address", "public address")):
        a, b = old_edge.get(field_name), new_edge.get(field_name)
        if a != b:
            changes.append(Change("site", CHANGED, f"~ {label}: {a or 'none'} -> {b or 'none'}",
                                  {"field": f"edge.{field_name}"}, a, b))
    # A vendor edge's wiring (vms_edge_interfaces, vms_edge_policy_id_base): rebinding a zone moves its rules.
    for field_name, label in (("interfaces", "edge interfaces"), ("policy_id_base", "edge first policy id")):
        a, b = old_edge.get(field_name), new_edge.get(field_name)
        if a != b:
            shown = [", ".join(f"{k}={v}" for k, v in sorted(x.items())) if isinstance(x, dict) else x for x in (a, b)]
            changes.append(Change("site", CHANGED, f"~ {label}: {shown[0] or 'none'} -> {shown[1] or 'none'}",
                                  {"field": f"edge.{field_name}"}, a, b))
    # A plan written before edge.backend existed has the default backend (vms_deploy.edge.backend_of).
    a, b = backend_of(old), backend_of(new)
    if a != b:
        changes.append(Change("site", CHANGED, f"~ edge backend: {a} -> {b}", {"field": "edge.backend"}, a, b))
    return changes


def _zone_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    old_z, new_z = old.get("zones", {}), new.get("zones", {})
    for zone in sorted(set(old_z) | set(new_z)):
        a, b = sorted(old_z.get(zone, [])), sorted(new_z.get(zone, []))
        if a == b:
            continue
        if not a:
            changes.append(Change("zone", ADDED, f"+ zone {zone}: {fmt_cidrs(b)}", {"zone": zone}, a, b))
        elif not b:
            changes.append(Change("zone", REMOVED, f"- zone {zone} (was {fmt_cidrs(a)})", {"zone": zone}, a, b))
        else:
            changes.append(Change("zone", CHANGED, f"~ zone {zone}: {_list_delta(a, b)}", {"zone": zone}, a, b))
    return changes


def _host_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    old_h, new_h = old.get("hosts", {}), new.get("hosts", {})
    for name in sorted(set(old_h) | set(new_h)):
        a, b = old_h.get(name), new_h.get(name)
        if a is None:
            comps = ", ".join(b.get("components", [])) or "no components"
            changes.append(Change("host", ADDED, f"+ host {host_label(new, name)} in zone {b.get('zone')}: {comps}",
                                  {"host": name}, None, _host_summary(b)))
        elif b is None:
            changes.append(Change("host", REMOVED, f"- host {host_label(old, name)} removed (its rules go with it)",
                                  {"host": name}, _host_summary(a), None))
        else:
            for field_name in ("address", "zone", "platform"):
                if a.get(field_name) != b.get(field_name):
                    changes.append(Change("host", CHANGED,
                                          f"~ host {name}: {field_name} {a.get(field_name)} -> {b.get(field_name)}",
                                          {"host": name, "field": field_name}, a.get(field_name), b.get(field_name)))
            if sorted(a.get("components", [])) != sorted(b.get("components", [])):
                delta = _list_delta(sorted(a.get("components", [])), sorted(b.get("components", [])))
                changes.append(Change("host", CHANGED, f"~ host {name}: components {delta}",
                                      {"host": name, "field": "components"}, a.get("components"), b.get("components")))
    return changes


def _host_summary(hv: dict[str, Any]) -> dict[str, Any]:
    return {k: hv.get(k) for k in ("address", "zone", "platform", "components")}


def _rule_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    old_r, new_r = _rules(old), _rules(new)
    for key in sorted(set(old_r) | set(new_r)):
        host, proto, ports, component, service = key
        a, b = old_r.get(key), new_r.get(key)
        ident = {"host": host, "protocol": proto, "ports": list(ports), "component": component, "service": service}
        port = f"{proto}/{fmt_ports(ports)}"
        if a is None:
            now = fmt_cidrs(b["sources"], new.get("zones"))
            text = f"+ {host_label(new, host)}: open {port} {fmt_service(b)} to {now}"
            changes.append(Change("rule", ADDED, text, ident, None, b["sources"]))
        elif b is None:
            was = fmt_cidrs(a["sources"], old.get("zones"))
            text = f"- {host_label(old, host)}: close {port} {fmt_service(a)} (was open to {was})"
            changes.append(Change("rule", REMOVED, text, ident, a["sources"], None))
        elif sorted(a["sources"]) != sorted(b["sources"]):
            now = fmt_cidrs(b["sources"], new.get("zones"))
            text = (f"~ {host_label(new, host)}: {port} {fmt_service(b)} now open to {now} "
                    f"({_list_delta(a['sources'], b['sources'])})")
            changes.append(Change("rule", CHANGED, text, ident, a["sources"], b["sources"]))
    return changes


def _forward_target(plan: dict[str, Any], fwd: dict[str, Any]) -> str:
    target = f"{fwd.get('to_host')} ({fwd.get('to_address')})" if fwd.get("to_host") else fwd.get("to_address")
    return f"{target} {fwd['protocol']}/{fmt_ports(fwd['to_ports'])}"


def _forward_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    old_f, new_f = _forwards(old), _forwards(new)
    for key in sorted(set(old_f) | set(new_f)):
        proto, ext = key
        a, b = old_f.get(key), new_f.get(key)
        ident = {"protocol": proto, "external_ports": list(ext)}
        port = f"{proto}/{fmt_ports(ext)}"
        if a is None:
            text = (f"+ router: forward {port} from {fmt_cidrs(b['sources'])} to {_forward_target(new, b)} "
                    f"{fmt_service(b)}")
            changes.append(Change("forward", ADDED, text, ident, None, b))
        elif b is None:
            text = f"- router: remove forward {port} (was to {_forward_target(old, a)} {fmt_service(a)})"
            changes.append(Change("forward", REMOVED, text, ident, a, None))
        else:
            parts = []
            if _forward_target(old, a) != _forward_target(new, b):
                parts.append(f"now to {_forward_target(new, b)} (was {_forward_target(old, a)})")
            if sorted(a["sources"]) != sorted(b["sources"]):
                parts.append(f"now from {fmt_cidrs(b['sources'])} ({_list_delta(a['sources'], b['sources'])})")
            if parts:
                text = f"~ router: forward {port} {fmt_service(b)} " + "; ".join(parts)
                changes.append(Change("forward", CHANGED, text, ident, a, b))
    return changes


def _vpn_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    a, b = old.get("vpn"), new.get("vpn")
    if a == b:
        return []
    if a is None:
        return [Change("vpn", ADDED, f"+ VPN: WireGuard on udp/{b.get('listen_port')} for {b.get('network')}, "
                                     f"{len(b.get('peers', []))} peer(s)", {}, None, b)]
    if b is None:
        return [Change("vpn", REMOVED, f"- VPN removed (was udp/{a.get('listen_port')} for {a.get('network')})",
                       {}, a, None)]
    changes = []
    for field_name in ("listen_port", "network", "edge_address"):
        if a.get(field_name) != b.get(field_name):
            changes.append(Change("vpn", CHANGED, f"~ VPN {field_name}: {a.get(field_name)} -> {b.get(field_name)}",
                                  {"field": field_name}, a.get(field_name), b.get(field_name)))
    old_p = {p["name"]: p.get("address") for p in a.get("peers", [])}
    new_p = {p["name"]: p.get("address") for p in b.get("peers", [])}
    for name in sorted(set(old_p) | set(new_p)):
        if name not in old_p:
            changes.append(Change("vpn", ADDED, f"+ VPN peer {name} ({new_p[name]})", {"peer": name}, None,
                                  new_p[name]))
        elif name not in new_p:
            changes.append(Change("vpn", REMOVED, f"- VPN peer {name} ({old_p[name]})", {"peer": name}, old_p[name],
                                  None))
        elif old_p[name] != new_p[name]:
            changes.append(Change("vpn", CHANGED, f"~ VPN peer {name}: {old_p[name]} -> {new_p[name]}",
                                  {"peer": name}, old_p[name], new_p[name]))
    return changes


def warning_text(warning: Any) -> str:
    """A plan warning as one line: a record as "GROUP: TEXT. Fix: FIX." (vms_deploy.plan_warnings.line),
    an older plan's plain string as written."""
    if isinstance(warning, dict):
        return plan_warnings.line(warning)
    return str(warning)


def _warning_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """New warnings are the risk a change request brings; resolved ones are worth saying too."""
    a = {warning_text(w) for w in old.get("warnings") or []}
    b = {warning_text(w) for w in new.get("warnings") or []}
    return ([Change("warning", ADDED, f"+ new warning: {w}", {"warning": w}, None, w) for w in sorted(b - a)]
            + [Change("warning", REMOVED, f"- warning resolved: {w}", {"warning": w}, w, None) for w in sorted(a - b)])


def _pair_moves(changes: list[Change], old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Show "the same service on another port" as one move instead of a close plus an open.

    The keys stay as designed (a port is part of a rule's identity); only when exactly one removed and
    one added item share everything but the port is the pair rendered as a move, which is what an admin
    did when they set vms_port_overrides.
    """
    def ident(c: Change) -> tuple | None:
        if c.kind == "rule":
            return ("rule", c.key["host"], c.key["protocol"], c.key["component"], c.key["service"])
        if c.kind == "forward":
            item = c.new if c.action == ADDED else c.old
            return ("forward", c.key["protocol"], item.get("service"), item.get("to_host"), tuple(item["to_ports"]))
        return None

    removed: dict[tuple, list[Change]] = {}
    added: dict[tuple, list[Change]] = {}
    for c in changes:
        key = ident(c)
        if key and c.action in (REMOVED, ADDED):
            (removed if c.action == REMOVED else added).setdefault(key, []).append(c)
    out, skip = [], set()
    for c in changes:
        key = ident(c)
        if id(c) in skip:
            continue
        if key and c.action == REMOVED and len(removed.get(key, [])) == 1 and len(added.get(key, [])) == 1:
            a = added[key][0]
            skip.add(id(a))
            out.append(_move(c, a, old, new))
        else:
            out.append(c)
    return out


def _move(gone: Change, came: Change, old: dict[str, Any], new: dict[str, Any]) -> Change:
    if gone.kind == "rule":
        proto, host = gone.key["protocol"], gone.key["host"]
        rule = _rules(new)[(host, proto, tuple(came.key["ports"]), came.key["component"], came.key["service"])]
        text = (f"~ {host_label(new, host)}: port moves {proto}/{fmt_ports(gone.key['ports'])} -> "
                f"{proto}/{fmt_ports(came.key['ports'])} {fmt_service(rule)}")
        if sorted(gone.old) != sorted(came.new):
            text += f", now open to {fmt_cidrs(came.new, new.get('zones'))} ({_list_delta(gone.old, came.new)})"
        else:
            text += f" (open to {fmt_cidrs(came.new, new.get('zones'))})"
    else:
        proto = gone.key["protocol"]
        text = (f"~ router: forward to {_forward_target(new, came.new)} {fmt_service(came.new)} moves from external "
                f"{proto}/{fmt_ports(gone.key['external_ports'])} to {proto}/{fmt_ports(came.key['external_ports'])}")
        if sorted(gone.old["sources"]) != sorted(came.new["sources"]):
            text += f", now from {fmt_cidrs(came.new['sources'])}"
    return Change(gone.kind, CHANGED, text, {**came.key, "moved_from": gone.key}, gone.old, came.new)


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference between two plans, in a stable order (warnings, site, zones, hosts, rules, forwards, VPN)."""
    changes = (_warning_changes(old, new) + _site_changes(old, new) + _zone_changes(old, new) + _host_changes(old, new)
               + _rule_changes(old, new) + _forward_changes(old, new) + _vpn_changes(old, new))
    return _pair_moves(changes, old, new)


# ----------------------------------------------------------------------------- rendering
_SECTIONS = (("warning", "Plan warnings (risk)"), ("site", "Site"), ("zone", "Networks (zones)"),
             ("host", "Hosts"), ("rule", "Host firewall rules"), ("forward", "Router port forwards"), ("vpn", "VPN"))


def summary(changes: list[Change]) -> str:
    counts = {a: sum(1 for c in changes if c.action == a) for a in (ADDED, CHANGED, REMOVED)}
    if not changes:
        return "no changes"
    risk = sum(1 for c in changes if c.kind == "warning" and c.action == ADDED)
    return (f"{counts[ADDED]} added, {counts[CHANGED]} changed, {counts[REMOVED]} removed"
            + (f"; {risk} new warning{'s' if risk > 1 else ''}" if risk else ""))


def render_text(changes: list[Change], title: str = "plan diff") -> str:
    lines = [f"{title}: {summary(changes)}"]
    for kind, heading in _SECTIONS:
        group = [c for c in changes if c.kind == kind]
        if group:
            lines.append("")
            lines.append(f"{heading}:")
            lines.extend(f"  {c.text}" for c in group)
    return "\n".join(lines) + "\n"


def render_markdown(changes: list[Change], title: str = "plan diff") -> str:
    """Markdown for a pull/merge request comment: a diff block keeps +/- colouring on GitHub and GitLab."""
    lines = [f"### {title}", "", f"**{summary(changes)}**"]
    for kind, heading in _SECTIONS:
        group = [c for c in changes if c.kind == kind]
        if group:
            lines += ["", f"#### {heading}", "", "```diff"]
            lines += [c.text for c in group]
            lines.append("```")
    return "\n".join(lines) + "\n"


def render_json(changes: list[Change], title: str = "plan diff") -> str:
    doc = {"title": title, "summary": summary(changes), "changed": bool(changes),
           "warnings_added": [c.new for c in changes if c.kind == "warning" and c.action == ADDED],
           "changes": [c.as_dict() for c in changes]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
