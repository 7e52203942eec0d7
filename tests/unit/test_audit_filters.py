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
