"""Filters of the audit role: turn module results into findings, and findings into the site report.

A finding is {host, check, status, detail}; status is ok, warning or drift. Only drift (and hosts that
could not be audited) make the audit fail. No finding ever carries file content or a secret: the
certificate check compares checksums only.
"""
from __future__ import annotations

import base64
import json

from ansible.errors import AnsibleFilterError

STATUSES = ("ok", "warning", "drift")
MAX_CHANGED_LINES = 12


def _recorded_listing(state):
    """The live listing vms_nft_table recorded at its last apply, from a slurp of its state file."""
    if not isinstance(state, dict) or not state.get("content"):
        return None
    try:
        return json.loads(base64.b64decode(state["content"])).get("live")
    except (ValueError, TypeError, AttributeError):
        return None


def changed_lines(recorded, live):
    """'+ rule' / '- rule' lines: what differs between the applied listing and the live one."""
    old = [line.strip() for line in (recorded or "").splitlines() if line.strip()]
    new = [line.strip() for line in (live or "").splitlines() if line.strip()]
    added = [f"+ {line}" for line in new if line not in old]
    removed = [f"- {line}" for line in old if line not in new]
    lines = removed + added
    if len(lines) > MAX_CHANGED_LINES:
        lines = lines[:MAX_CHANGED_LINES] + [f"... {len(lines) - MAX_CHANGED_LINES} more"]
    return lines


def nft_finding(result, host, check, state=None):
    """Finding from a vms_nft_table result in mode=audit. The rules changed by hand are told from the
    result's recorded_listing, or from state (a slurp of the module's state file) when given."""
    if not isinstance(result, dict) or "in_sync" not in result:
        raise AnsibleFilterError(f"host {host}: {check}: expected a vms_nft_table result in mode=audit, got "
                                 f"{type(result).__name__}")
    table = result.get("table", "inet vms_deploy")
    # Which plan the host runs: the digest its table records (vms_nft_table's plan_digest), against the
    # digest of its part of the plan audited now (planned_digest).
    runs, planned = result.get("plan_digest"), result.get("planned_digest")
    if result["in_sync"]:
        status, detail = "ok", f"table {table} matches the plan" + (f" (runs plan {runs})" if runs else "")
    elif not result.get("listing"):
        status, detail = "drift", (f"table {table} is missing: no vms-deploy firewall is in force; "
                                   "re-run site.yml --tags firewall (or --tags edge)")
    elif result.get("drift"):
        recorded = result["recorded_listing"] if "recorded_listing" in result else _recorded_listing(state)
        lines = changed_lines(recorded, result.get("listing"))
        how = (" (" + "; ".join(lines) + ")") if lines else ""
        status, detail = "drift", (f"table {table} was changed outside vms-deploy since the last apply{how}; "
                                   "re-run site.yml to restore the plan")
    else:
        running = (f"it runs plan {runs}, this plan is {planned}" if runs and planned and runs != planned
                   else "the plan changed since the last apply (or its state record is gone)")
        status, detail = "drift", f"table {table} is not the plan's: {running}; re-run site.yml to apply it"
    finding = {"host": host, "check": check, "status": status, "detail": detail}
    if runs or planned:
        finding["plan"] = {"runs": runs, "planned": planned}
    return finding


def in_sync_with(result, planned_digest):
    """True when result is a vms_nft_table comparison, made earlier in this run, that found the live table
    in sync with the plan part whose digest is planned_digest: site.yml's audit takes it as its finding
    instead of comparing the same table again. Anything else (no result, a skipped or changed one, a
    result without a digest or of another plan) is False: the audit reads the table itself."""
    if not isinstance(result, dict) or not planned_digest:
        return False
    return (result.get("in_sync") is True and not result.get("changed") and not result.get("drift")
            and result.get("planned_digest") == planned_digest)


def served_cert(result, path):
    """The stat-like {exists, checksum, path} of the certificate nginx serves, from a vms_nginx_site result of
    this run that changed nothing (it read the file then); {} otherwise, and the audit reads the file."""
    if not isinstance(result, dict) or result.get("changed") is not False or result.get("failed"):
        return {}
    if result.get("missing_packages") or not result.get("cert_sha256"):
        return {}
    return {"exists": True, "checksum": result["cert_sha256"], "path": path}


def cert_finding(live, planned, info, warning_days):
    """{status, detail} from stat results (live on the gateway, planned on the controller) and
    community.crypto.x509_certificate_info of the planned file (with valid_at.soon)."""
    live = live or {}
    planned = planned or {}
    if not planned.get("exists"):
        return {"status": "drift", "detail": (f"the controller has no site certificate at {planned.get('path', '?')} "
                                              "to compare with; run site.yml --tags certificates,gateway")}
    if not live.get("exists"):
        return {"status": "drift", "detail": (f"no certificate installed at {live.get('path', '?')}; "
                                              "re-run site.yml --tags gateway")}
    if live.get("checksum") != planned.get("checksum"):
        return {"status": "drift", "detail": ("the installed certificate is not the site certificate (replaced by "
                                              "hand, or renewed and not deployed); re-run site.yml --tags gateway")}
    info = info or {}
    not_after = info.get("not_after", "?")
    if info.get("expired"):
        return {"status": "drift", "detail": f"the site certificate expired ({not_after}); renew it "
                                             "(vms_tls_rotate: true) and re-run site.yml --tags certificates,gateway"}
    if info.get("valid_at", {}).get("soon") is False:
        return {"status": "warning", "detail": f"the site certificate expires within {warning_days} days "
                                               f"({not_after}); renew it before then"}
    return {"status": "ok", "detail": f"the installed certificate is the site certificate (valid until {not_after})"}


def audit_report(plan, findings_by_host):
    """The site report: every plan host must have findings; lines for people, lists for tools."""
    if not isinstance(plan, dict) or "hosts" not in plan:
        raise AnsibleFilterError("vms_audit_report: expected the plan dict from vms_plan")
    findings, missing = [], []
    for host in sorted(plan["hosts"]):
        got = (findings_by_host or {}).get(host)
        if not got:
            missing.append(host)
            continue
        for item in got:
            if item.get("status") not in STATUSES:
                raise AnsibleFilterError(f"host {host}: finding {item!r} has no valid status")
            findings.append(item)
    findings.sort(key=lambda f: (f["host"], f["check"]))
    lines = [f"{f['status'].upper():7} {f['host']}: {f['check']}: {f['detail']}" for f in findings]
    lines += [f"DRIFT   {h}: not audited (unreachable or an audit task failed; see above)" for h in missing]
    drift = [f"{f['host']} {f['check']}: {f['detail']}" for f in findings if f["status"] == "drift"]
    drift += [f"{h}: not audited" for h in missing]
    # host -> {runs, planned}: which plan each host's firewall came from (digests, plan_io.host_digest).
    plans = {f["host"]: f["plan"] for f in findings if f.get("plan")}
    lines += [f"PLAN    {h}: runs plan {p['runs'] or '(none recorded)'}"
              + ("" if p["runs"] == p["planned"] else f", the audited plan is {p['planned']}")
              for h, p in sorted(plans.items())]
    return {"schema": 1, "site": plan.get("site"), "in_sync": not drift, "findings": findings,
            "not_audited": missing, "drift": drift, "plans": plans,
            "warnings": [f"{f['host']} {f['check']}: {f['detail']}" for f in findings if f["status"] == "warning"],
            "lines": lines}


class FilterModule:
    def filters(self):
        return {"vms_audit_nft_finding": nft_finding, "vms_audit_cert_finding": cert_finding,
                "vms_audit_report": audit_report, "vms_audit_in_sync_with": in_sync_with,
                "vms_audit_served_cert": served_cert}
