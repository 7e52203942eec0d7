"""Plan warnings: what a reviewer must know, each in the group of whoever acts on it, with its fix.

plan.json (schema 1) keeps them under `warnings`, one object per warning:

    {"group": "router", "text": "forward valerus-gateway-http carries plain HTTP ...",
     "fix": "forward the HTTPS port instead, or use vms_remote_access: vpn"}

- `group`: who acts on it, one of GROUPS: `site` (site-wide settings), `host` (one host's own
  settings: its passwords, its connection), `router` (the Internet router and its port forwards),
  `firewall` (the customer's firewall between the site's zones);
- `text`: what is wrong and why it matters, naming its subject (host, variable, forward, zone
  boundary); no fix, no final full stop;
- `fix`: what to do, an imperative with the variable or setting to change.

Each document carries the warnings of the people who read it (`for_document`): the router sheet
the router's, the firewall request the firewall's, the port matrix the hosts' and the site's, the
HTML report every one. A plan written before warnings had groups holds plain strings; `normalize`
reads each as a site warning whose fix is inside its text, so every old plan.json still loads,
renders and diffs. Warnings are advice, not rules: a host's digest (plan_io.host_digest) never
includes them, so a new warning never rewrites a host; the reviewed-plan check
(plan_io.plan_differences) names every warning that differs.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SITE, HOST, ROUTER, FIREWALL = "site", "host", "router", "firewall"
GROUPS = (SITE, HOST, ROUTER, FIREWALL)
TITLES = {SITE: "Site", HOST: "Hosts", ROUTER: "Internet router and port forwards",
          FIREWALL: "Firewall between zones"}
# Which groups each document shows (the report shows them all).
DOCUMENTS = {"report": GROUPS, "router_sheet": (ROUTER,), "firewall_request": (FIREWALL,),
             "port_matrix": (SITE, HOST)}
KEYS = ("group", "text", "fix")


def warning(group: str, text: str, fix: str) -> dict[str, str]:
    """One warning of the plan; ValueError for a group not in GROUPS (a programming error)."""
    if group not in GROUPS:
        raise ValueError(f"warning group {group!r} is not one of {', '.join(GROUPS)}")
    return {"group": group, "text": str(text).strip().rstrip("."), "fix": str(fix).strip().rstrip(".")}


def normalize(item: Any) -> dict[str, str]:
    """A warning as read from any plan: an object of this schema, or an older plan's plain string
    (a site warning, its fix inside the text). Unknown groups and missing keys read as site/empty."""
    if isinstance(item, dict):
        group = item.get("group") if item.get("group") in GROUPS else SITE
        return {"group": group, "text": str(item.get("text") or ""), "fix": str(item.get("fix") or "")}
    return {"group": SITE, "text": str(item), "fix": ""}


def _key(entry: dict[str, str]) -> tuple:
    return GROUPS.index(entry["group"]), entry["text"], entry["fix"]


def merged(*lists: Iterable[Any]) -> list[dict[str, str]]:
    """The warnings of several lists, each once, in the plan's order (group, then text): byte-stable."""
    seen: dict[tuple, dict[str, str]] = {}
    for items in lists:
        for item in items or ():
            entry = normalize(item)
            seen.setdefault(_key(entry), entry)
    return [seen[k] for k in sorted(seen)]


def of(plan: dict, groups: Iterable[str] | None = None) -> list[dict[str, str]]:
    """The plan's warnings (normalized), only those of `groups` when given."""
    wanted = set(GROUPS if groups is None else groups)
    return [w for w in merged(plan.get("warnings") or ()) if w["group"] in wanted]


def for_document(warnings: Iterable[Any], document: str) -> list[dict[str, str]]:
    """The warnings (a plan's `warnings`, or an edge model's) that one document carries (DOCUMENTS)."""
    return [w for w in merged(warnings) if w["group"] in DOCUMENTS[document]]


def grouped(warnings: Iterable[Any]) -> list[tuple[str, list[dict[str, str]]]]:
    """[(group, its warnings)] in GROUPS order, groups without a warning left out."""
    entries = merged(warnings)
    return [(g, [w for w in entries if w["group"] == g]) for g in GROUPS if any(w["group"] == g for w in entries)]


def line(entry: Any, with_group: bool = True) -> str:
    """One line of text: "router: TEXT. Fix: FIX." (an old plan's warning: its text as written)."""
    entry = normalize(entry)
    text = entry["text"] + (f". Fix: {entry['fix']}." if entry["fix"] else "")
    return f"{entry['group']}: {text}" if with_group else text


def split_fix(text: str, group: str, marker: str = "; fix: ") -> dict[str, str]:
    """A warning from a sentence that carries its fix after `marker` (vms_deploy.secrets' form)."""
    head, _, fix = str(text).partition(marker)
    return warning(group, head, fix)
