"""nftables rules on a managed Linux host or edge that vms-deploy does not own and that open traffic
(issue 21, item 7).

A packet crosses a netfilter hook only when every base chain on it lets it pass, so another table's
plain accept cannot undo the vms-deploy table's drop. What can open the site is a rule that changes
where a packet goes or what it looks like: a DNAT/redirect to a destination our table admits (the
demo: the public address's 8888 translated to the gateway's 9080), an SNAT/masquerade that hides a
source, a netdev `fwd`/`dup`, a flowtable offload, a queue to user space. The audit reports all of
those and every accept as well (an accept is harmless only while our table stands; it is still a
rule nobody planned): one drift finding per foreign table, naming its chains and rules.

Input is `nft -j list ruleset` (libnftables' JSON schema, nft 0.9.1+); the decision is taken here on
the controller. `vms_remove_foreign_tables: true` makes the firewall roles delete the tables found
(`to_remove`), `vms_foreign_tables_accepted` lists tables a site keeps on purpose ("FAMILY NAME").
"""
from __future__ import annotations

import json
from collections.abc import Iterable

OWNED_DEFAULT = ("inet vms_deploy",)
# Statement (JSON key) -> what it does to traffic. Searched anywhere in a rule (vmaps nest verdicts).
OPENING = {
    "accept": "accepts",
    "dnat": "translates the destination (DNAT)",
    "redirect": "redirects to the host (DNAT)",
    "snat": "translates the source (SNAT)",
    "masquerade": "translates the source (masquerade)",
    "tproxy": "diverts to a local proxy",
    "fwd": "forwards to another interface",
    "dup": "copies to another destination",
    "flow": "offloads the flow (past the forward chain)",
    "queue": "hands to user space",
}
MAX_RULES_NAMED = 6


class ForeignError(ValueError):
    """The listing is not nft's JSON: the message says what was expected."""


def _actions(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in OPENING and key not in found:
                found.append(key)
            found += [k for k in _actions(value) if k not in found]
    elif isinstance(node, list):
        for item in node:
            found += [k for k in _actions(item) if k not in found]
    return found


def _value(node) -> str:
    if isinstance(node, dict):
        if "prefix" in node:
            return f"{node['prefix'].get('addr')}/{node['prefix'].get('len')}"
        if "set" in node:
            return "{ " + ", ".join(_value(v) for v in node["set"]) + " }"
        if "range" in node:
            return "-".join(_value(v) for v in node["range"])
        if "payload" in node:
            return f"{node['payload'].get('protocol', '')} {node['payload'].get('field', '')}".strip()
        if "meta" in node:
            return str(node["meta"].get("key"))
        if "ct" in node:
            return " ".join(str(v) for v in ("ct", node["ct"].get("dir"), node["ct"].get("key")) if v)
        key = next(iter(node), "?")
        return key
    if isinstance(node, list):
        return " ".join(_value(v) for v in node)
    return str(node)


def rule_text(expr: list) -> str:
    """A short nft-like reading of a rule's JSON expressions (enough to name it)."""
    parts = []
    for item in expr or []:
        if not isinstance(item, dict) or not item:
            continue
        key, body = next(iter(item.items()))
        if key == "match" and isinstance(body, dict):
            op = "" if body.get("op") in ("==", "in", None) else f"{body['op']} "
            parts.append(f"{_value(body.get('left'))} {op}{_value(body.get('right'))}")
        elif key in ("dnat", "snat") and isinstance(body, dict):
            to = _value(body.get("addr", ""))
            parts.append(f"{key} to {to}" + (f":{_value(body['port'])}" if "port" in body else ""))
        elif key in ("jump", "goto") and isinstance(body, dict):
            parts.append(f"{key} {body.get('target')}")
        elif key == "counter":
            continue
        else:
            parts.append(key)
    return " ".join(parts)


def _objects(listing) -> list[dict]:
    if isinstance(listing, str):
        try:
            listing = json.loads(listing or "{}")
        except ValueError as exc:
            raise ForeignError(f"expected the output of `nft -j list ruleset` (JSON): {exc}") from None
    if not isinstance(listing, dict) or not isinstance(listing.get("nftables", []), list):
        raise ForeignError("expected the output of `nft -j list ruleset`: an object with the list `nftables`")
    return [o for o in listing.get("nftables", []) if isinstance(o, dict)]


def foreign(listing, owned: Iterable[str] = OWNED_DEFAULT, accepted: Iterable[str] = ()) -> list[dict]:
    """Every rule outside the owned and accepted tables that opens traffic:
    [{table: "FAMILY NAME", chain, hook, handle, rule, does: [..]}], in listing order."""
    skip = {" ".join(str(t).split()) for t in [*owned, *accepted]}
    chains = {}
    out = []
    for obj in _objects(listing):
        if "chain" in obj:
            c = obj["chain"]
            chains[(c.get("family"), c.get("table"), c.get("name"))] = c
        elif "rule" in obj:
            r = obj["rule"]
            table = f"{r.get('family')} {r.get('table')}"
            if table in skip:
                continue
            actions = _actions(r.get("expr"))
            if not actions:
                continue
            chain = chains.get((r.get("family"), r.get("table"), r.get("chain"))) or {}
            out.append({"table": table, "chain": r.get("chain"), "hook": chain.get("hook"),
                        "handle": r.get("handle"), "rule": rule_text(r.get("expr")),
                        "does": [OPENING[a] for a in actions]})
    return out


def findings(listing, host: str, owned: Iterable[str] = OWNED_DEFAULT, accepted: Iterable[str] = (),
             removed: Iterable[str] = ()) -> list[dict]:
    """The audit's findings for one host: one drift per foreign table that opens traffic, else one ok."""
    found = foreign(listing, owned, accepted)
    removed = set(removed)
    if not found:
        return [{"host": host, "check": "foreign nftables rules", "status": "ok",
                 "detail": "no table but vms-deploy's accepts, forwards or translates traffic"}]
    out = []
    for table in dict.fromkeys(f["table"] for f in found):
        rules = [f for f in found if f["table"] == table]
        named = [f"chain {f['chain']}" + (f" ({f['hook']})" if f["hook"] else "") + f": {f['rule']} "
                 f"[{', '.join(f['does'])}; handle {f['handle']}]" for f in rules[:MAX_RULES_NAMED]]
        if len(rules) > MAX_RULES_NAMED:
            named.append(f"... {len(rules) - MAX_RULES_NAMED} more")
        fix = ("removed (vms_remove_foreign_tables)" if table in removed else
               f"remove it (nft delete table {table}, or vms_remove_foreign_tables: true and re-run site.yml "
               "--tags firewall,edge), or keep it on purpose with vms_foreign_tables_accepted")
        out.append({"host": host, "check": f"foreign nftables table {table}",
                    "status": "drift" if table not in removed else "warning",
                    "detail": f"table {table}, not vms-deploy's, {len(rules)} rule(s) that open traffic: "
                              + "; ".join(named) + f"; {fix}"})
    return out


def to_remove(listing, owned: Iterable[str] = OWNED_DEFAULT, accepted: Iterable[str] = ()) -> list[dict]:
    """[{family, name}] of the foreign tables that open traffic (what vms_remove_foreign_tables deletes)."""
    tables = dict.fromkeys(f["table"] for f in foreign(listing, owned, accepted))
    return [{"family": t.split()[0], "name": t.split()[1]} for t in tables]
