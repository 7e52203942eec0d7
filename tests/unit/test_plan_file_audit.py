"""audit.yml reports which plan each Linux host runs: the digest its nftables table records
(vms_nft_table's plan_digest) against the digest of its part of the audited plan."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "roles" / "audit" / "filter_plugins"))
import vms_audit

PLAN = {"site": "s", "hosts": {"app1": {}, "edge1": {}}}


def _result(in_sync, runs, planned, drift=False):
    return {"in_sync": in_sync, "drift": drift, "listing": "table inet vms_deploy {}", "table": "inet vms_deploy",
            "plan_digest": runs, "planned_digest": planned}


def test_in_sync_host_names_the_plan_it_runs():
    finding = vms_audit.nft_finding(_result(True, "aaaa", "aaaa"), "app1", "host firewall")
    assert finding["status"] == "ok" and "(runs plan aaaa)" in finding["detail"]
    assert finding["plan"] == {"runs": "aaaa", "planned": "aaaa"}


def test_host_on_another_plan_is_drift_naming_both_digests():
    finding = vms_audit.nft_finding(_result(False, "aaaa", "bbbb"), "app1", "host firewall")
    assert finding["status"] == "drift" and "it runs plan aaaa, this plan is bbbb" in finding["detail"]


def test_host_applied_before_digests_existed():
    finding = vms_audit.nft_finding(_result(False, None, "bbbb"), "app1", "host firewall")
    assert finding["status"] == "drift" and "the plan changed since the last apply" in finding["detail"]
    report = vms_audit.audit_report(PLAN, {"app1": [finding], "edge1": [
        vms_audit.nft_finding(_result(True, "cccc", "cccc"), "edge1", "edge firewall and forwards")]})
    assert report["plans"] == {"app1": {"runs": None, "planned": "bbbb"}, "edge1": {"runs": "cccc", "planned": "cccc"}}
    assert "PLAN    app1: runs plan (none recorded), the audited plan is bbbb" in report["lines"]
    assert "PLAN    edge1: runs plan cccc" in report["lines"]


def test_results_without_digests_keep_the_old_finding_shape():
    finding = vms_audit.nft_finding({"in_sync": True, "drift": False, "listing": "x"}, "app1", "host firewall")
    assert "plan" not in finding and finding["detail"] == "table inet vms_deploy matches the plan"
