"""The audit role's finding filter names hand-made changes from the module's own result."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "roles" / "audit" / "filter_plugins"))
import vms_audit  # noqa: E402

RECORDED = "table inet vms_deploy {\n\tchain input {\n\t\ttcp dport 9080 accept\n\t}\n}\n"
LIVE = "table inet vms_deploy {\n\tchain input {\n\t\ttcp dport 22 accept\n\t}\n}\n"


def test_drift_names_the_changed_rules_from_recorded_listing():
    result = {"in_sync": False, "drift": True, "listing": LIVE, "recorded_listing": RECORDED,
              "table": "inet vms_deploy"}
    finding = vms_audit.nft_finding(result, "rec1", "host firewall")
    assert finding["status"] == "drift"
    assert "- tcp dport 9080 accept" in finding["detail"] and "+ tcp dport 22 accept" in finding["detail"]


def test_a_slurped_state_file_still_works():
    state = {"content": base64.b64encode(json.dumps({"live": RECORDED}).encode()).decode()}
    result = {"in_sync": False, "drift": True, "listing": LIVE, "table": "inet vms_deploy"}
    assert "- tcp dport 9080 accept" in vms_audit.nft_finding(result, "rec1", "host firewall", state)["detail"]


def test_in_sync_and_missing_table():
    assert vms_audit.nft_finding({"in_sync": True, "listing": LIVE}, "h", "c")["status"] == "ok"
    missing = vms_audit.nft_finding({"in_sync": False, "listing": ""}, "h", "c")
    assert missing["status"] == "drift" and "missing" in missing["detail"]


def test_only_an_in_sync_comparison_of_the_same_plan_stands_for_the_audit():
    """site.yml's audit takes the apply's result as its finding only when that run compared the table
    with this very plan part and found it in sync; every other case makes the audit read the table."""
    same = {"changed": False, "in_sync": True, "drift": False, "planned_digest": "abc123", "listing": LIVE}
    assert vms_audit.in_sync_with(same, "abc123") is True
    for result in ({**same, "planned_digest": "other"},  # another plan's comparison
                   {**same, "in_sync": False},  # the apply found a difference (and rewrote the table)
                   {**same, "changed": True},
                   {**same, "drift": True},
                   {k: v for k, v in same.items() if k != "planned_digest"},  # a run without plan_digest
                   {"skipped": True, "changed": False},  # the apply task was skipped
                   {}, None, "in_sync"):
        assert vms_audit.in_sync_with(result, "abc123") is False, result
    assert vms_audit.in_sync_with(same, "") is False


def test_the_served_certificate_is_taken_only_from_a_run_that_changed_nothing():
    same = {"changed": False, "missing_packages": [], "files_changed": [], "cert_sha256": "ab" * 32}
    path = "/etc/nginx/vms-tls/fullchain.pem"
    assert vms_audit.served_cert(same, path) == {"exists": True, "checksum": "ab" * 32, "path": path}
    for result in ({**same, "changed": True},  # the run wrote something: the audit reads the file again
                   {**same, "failed": True},
                   {**same, "missing_packages": ["nginx"]},
                   {**same, "cert_sha256": None},  # no certificate in place
                   {k: v for k, v in same.items() if k != "changed"},
                   {"skipped": True}, {}, None):
        assert vms_audit.served_cert(result, path) == {}, result
    # What the finding then compares: the served checksum against the controller's file.
    planned = {"exists": True, "checksum": "cd" * 32, "path": "/pki/gw1/fullchain.pem"}
    finding = vms_audit.cert_finding(vms_audit.served_cert(same, path), planned, {}, 30)
    assert finding["status"] == "drift" and "not the site certificate" in finding["detail"]
