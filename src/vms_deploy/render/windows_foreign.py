"""Inbound allow rules OUTSIDE the vms-deploy group, and what they admit beyond the plan (issue 14, item 7).

Windows Firewall admits a packet when ANY enabled allow rule matches it. The vms-deploy group only adds
access, so the built-in WinRM/RDP/SMB rules, a bootstrap "Allow WinRM HTTPS" rule open to Any, or a
vendor's installer rule keep admitting what the plan does not, and a Group Policy that switches local
rules off (AllowLocalFirewallRules False) voids the whole group. ``Set-VmsFirewallRuleGroup.ps1`` reads
the active store (every rule in force, local and Group Policy) in bulk and returns the raw rules; the
decision is taken here, on the controller:

* ``exceeding(desired, foreign)``: every enabled inbound allow rule outside the group, with the
  (protocol, ports, addresses) it admits that no rule of the desired group admits. ``planned`` is true
  when the excess is on a port the plan opens (the plan restricts who may reach that port, and this
  rule widens it): these are drift. Rules on ports the plan never opens (RDP, SMB, ICMP) are reported
  as warnings: the plan does not manage them, but they are open.
* ``to_disable(findings)``: the local-store rules the firewall role may switch off for the VMS ports
  (``vms_win_disable_foreign_rules``). Group Policy rules cannot be changed on the host.
* ``audit_findings(...)``: the audit's findings for one host (drift / warning / ok).

The comparison is between two rule sets of one host (the rendered group and the live rules), interval
by interval, exactly: a port range is split where any group rule's range starts or ends, and the rule's
addresses must lie inside the union of the group rules' addresses on every piece.
"""
from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable

from vms_deploy.ports import port_range
from vms_deploy.render.windows_firewall import GROUP, digest_found, normalize_ports
from vms_deploy.render.windows_powershell import disable_rule_command

ALL_PORTS = (1, 65535)
PORT_PROTOCOLS = ("TCP", "UDP")
PROTOCOL_NUMBERS = {"6": "TCP", "17": "UDP"}
Net = ipaddress.IPv4Network


def _protocols(value) -> list[str]:
    text = str(value or "Any").strip().upper()
    text = PROTOCOL_NUMBERS.get(text, text)
    if text == "ANY":
        return ["TCP", "UDP", "OTHER"]
    return [text] if text in PORT_PROTOCOLS else ["OTHER:" + text]


def _items(value, default: str) -> list:
    """A list as the script sent it, or the string win_powershell makes of a list below its
    serialisation depth (option depth, default 2: "[string]" of an array joins it with spaces,
    "5985 5986"), or a comma-separated string. No item of a port or address list holds a space."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return re.split(r"[\s,]+", str(value or default).strip())


def _ranges(ports) -> tuple[list[tuple[int, int]], list[str]]:
    """Windows LocalPort values -> numeric ranges and keywords (RPC, IPHTTPSIn, ...). Any = every port."""
    items = _items(ports, "Any")
    ranges, keywords = [], []
    for raw in items:
        part = str(raw).strip()
        if not part:
            continue
        if part.lower() == "any":
            ranges.append(ALL_PORTS)
            continue
        first, _, last = part.partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            ranges.append((int(first), int(last or first)))
        else:
            keywords.append(part)
    return ranges or ([] if keywords else [ALL_PORTS]), keywords


def _nets(addresses) -> tuple[list[Net], list[str]]:
    """Remote addresses as IPv4 networks, plus what cannot be (keywords, IPv6): never inside the plan."""
    items = _items(addresses, "Any")
    nets, other = [], []
    for raw in items or ["Any"]:
        text = str(raw).strip()
        if text.lower() == "any":
            nets.append(ipaddress.ip_network("0.0.0.0/0"))
            continue
        try:
            first, sep, last = text.partition("-")
            if sep:  # Windows accepts ranges: 10.0.0.1-10.0.0.9
                nets.extend(ipaddress.summarize_address_range(ipaddress.IPv4Address(first),
                                                              ipaddress.IPv4Address(last)))
            else:
                net = ipaddress.ip_network(text, strict=False)  # also "10.0.0.0/255.255.255.0"
                if net.version != 4:
                    raise ValueError(text)
                nets.append(net)
        except ValueError:
            other.append(text)
    return list(ipaddress.collapse_addresses(nets)), other


def _subtract(nets: list[Net], cover: list[Net]) -> list[Net]:
    """Addresses of ``nets`` not inside ``cover``."""
    left = list(nets)
    for c in cover:
        nxt = []
        for n in left:
            if n.subnet_of(c):
                continue
            if c.subnet_of(n):
                nxt.extend(n.address_exclude(c))
            else:
                nxt.append(n)
        left = nxt
    return list(ipaddress.collapse_addresses(left))


def _group_index(desired: Iterable[dict]) -> dict[str, list[tuple[int, int, list[Net]]]]:
    index: dict[str, list] = {p: [] for p in PORT_PROTOCOLS}
    for rule in desired:
        if str(rule.get("action", "allow")).lower() != "allow" or not rule.get("enabled", True):
            continue
        proto = str(rule.get("protocol", "")).upper()
        if proto not in index:
            continue
        nets, _ = _nets(rule.get("remote_addresses") or ["Any"])
        for first, last in _ranges(normalize_ports(rule.get("local_ports", "")))[0]:
            index[proto].append((first, last, nets))
    return index


def _excess(proto: str, ranges, nets: list[Net], index) -> list[dict]:
    """Pieces of (ranges x nets) the group does not admit, as [{protocol, ports, addresses, planned}]."""
    out = []
    entries = index.get(proto, [])
    for first, last in ranges:
        cuts = {first, last + 1}
        for a, b, _ in entries:
            for x in (a, b + 1):
                if first < x <= last:
                    cuts.add(x)
        bounds = sorted(cuts)
        for lo, nxt in itertools.pairwise(bounds):
            hi = nxt - 1
            cover = [n for a, b, group_nets in entries if a <= lo and hi <= b for n in group_nets]
            left = _subtract(nets, list(ipaddress.collapse_addresses(cover)) if cover else [])
            if left:
                out.append({"protocol": proto, "ports": port_range((lo, hi)),
                            "addresses": [str(n) for n in left], "planned": bool(cover)})
    return out


def exceeding(desired: Iterable[dict], foreign: Iterable[dict]) -> list[dict]:
    """Enabled inbound allow rules outside the group that admit more than the desired group.

    ``foreign``: rules as the script reads them from the active store: {name, display_name, group,
    store ('Local' / 'GroupPolicy' / ...), protocol, local_ports, remote_addresses, direction, action,
    enabled, program}. Returns one entry per rule that admits something the group does not, sorted by
    name, with ``excess`` (the pieces) and ``planned`` (some piece is on a port the plan opens).
    """
    desired = list(desired)
    index = _group_index(desired)
    out = []
    for rule in foreign or []:
        if str(rule.get("group") or "") == GROUP:
            continue
        if str(rule.get("direction", "inbound")).lower() != "inbound" or \
                str(rule.get("action", "allow")).lower() != "allow" or not rule.get("enabled", True):
            continue
        nets, odd_addresses = _nets(rule.get("remote_addresses") or ["Any"])
        ranges, keywords = _ranges(rule.get("local_ports") or ["Any"])
        pieces = []
        for proto in _protocols(rule.get("protocol")):
            if proto in PORT_PROTOCOLS:
                pieces += _excess(proto, ranges, nets, index)
                if keywords or odd_addresses:
                    pieces.append({"protocol": proto, "ports": ",".join(keywords) or "any",
                                   "addresses": odd_addresses or [str(n) for n in nets], "planned": False})
            else:  # ICMP, GRE, any other protocol: the plan never opens one
                pieces.append({"protocol": proto.replace("OTHER:", "") if proto != "OTHER" else "other protocols",
                               "ports": "-", "addresses": [str(n) for n in nets] + odd_addresses, "planned": False})
        if pieces:
            out.append({"name": str(rule.get("name", "")), "display_name": str(rule.get("display_name", "")),
                        "group": str(rule.get("group") or ""), "store": str(rule.get("store") or "Local"),
                        "program": str(rule.get("program") or ""), "excess": pieces,
                        "planned": any(p["planned"] for p in pieces)})
    return sorted(out, key=lambda r: r["name"])


def to_disable(findings: Iterable[dict]) -> list[str]:
    """Local-store rules that widen a planned port: the ones the firewall role may switch off.

    Group Policy rules are left alone (the host cannot change them; the audit reports them)."""
    return sorted(f["name"] for f in findings
                  if f["planned"] and f["store"].lower() in ("local", "persistentstore", ""))


def _describe(rule: dict) -> str:
    pieces = "; ".join(f"{p['protocol']} {p['ports']} from {','.join(p['addresses'])}" for p in rule["excess"][:4])
    more = f" (+{len(rule['excess']) - 4} more)" if len(rule["excess"]) > 4 else ""
    who = f"'{rule['display_name'] or rule['name']}' ({rule['name']}, store {rule['store']}"
    who += f", program {rule['program']})" if rule["program"] and rule["program"].lower() != "any" else ")"
    return f"{who} admits {pieces}{more}"


def profile_problems(profiles: Iterable[dict]) -> list[str]:
    """A disabled profile or a Group Policy that ignores local rules voids the group."""
    out = []
    for p in profiles or []:
        name = p.get("name", "?")
        if str(p.get("enabled", True)).lower() in ("false", "0"):
            out.append(f"the {name} firewall profile is off: no rule, ours included, filters anything")
        if str(p.get("allow_local_rules", "NotConfigured")).lower() in ("false", "0"):
            out.append(f"Group Policy sets AllowLocalFirewallRules=False on the {name} profile: the local rule group "
                       f"'{GROUP}' is ignored; put the rules into the GPO or allow local rules")
    return out


def audit_findings(host: str, result: dict, desired: list[dict], expected_digest: str = "") -> list[dict]:
    """The audit's findings for one Windows host from the firewall script's check-mode result."""
    check = "Windows firewall: rules outside the vms-deploy group"
    result = result or {}
    findings = []
    rules = exceeding(desired, result.get("foreign") or [])
    for text in profile_problems(result.get("profiles") or []):
        findings.append({"host": host, "check": "Windows firewall profiles", "status": "drift", "detail": text})
    planned = [r for r in rules if r["planned"]]
    other = [r for r in rules if not r["planned"]]
    for r in planned:
        fix = (f"disable it (vms_win_disable_foreign_rules: true and re-run --tags firewall, or on the host: "
               f"{disable_rule_command(r['name'])})"
               if r["name"] in to_disable(planned) else "change the Group Policy that sets it")
        findings.append({"host": host, "check": check, "status": "drift",
                         "detail": f"{_describe(r)}, more than the plan admits on a planned port; fix: {fix}"})
    for r in other:
        findings.append({"host": host, "check": check, "status": "warning",
                         "detail": f"{_describe(r)}; the plan does not open these ports; disable it if not needed"})
    if not rules:
        findings.append({"host": host, "check": check, "status": "ok",
                         "detail": "no enabled inbound allow rule outside the group admits more than the plan"})
    found = result.get("digest") or []
    if expected_digest:
        same = found == [expected_digest]
        findings.append({"host": host, "check": "Windows firewall plan digest", "status": "ok" if same else "drift",
                         "detail": (f"the group records plan {expected_digest}" if same else
                                    f"the group records plan {', '.join(found) or 'none'}, the current plan is "
                                    f"{expected_digest}; re-run site.yml --tags firewall")})
    return findings


__all__ = ["audit_findings", "digest_found", "exceeding", "profile_problems", "to_disable"]
