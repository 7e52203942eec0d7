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


def _controller_file():
    import importlib.util
    path = Path(__file__).resolve().parents[2] / "roles" / "audit" / "action_plugins" / "vms_audit_controller_file.py"
    spec = importlib.util.spec_from_file_location("vms_audit_controller_file", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_controller_file_reads_what_stat_and_x509_certificate_info_gave(tmp_path):
    import datetime as dt
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cf = _controller_file()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "gw")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=100))
            .sign(key, hashes.SHA256()))
    pem = tmp_path / "fullchain.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert cf.file_stat(str(pem)) == {"exists": True, "path": str(pem),
                                      "checksum": hashlib.sha256(pem.read_bytes()).hexdigest()}
    assert cf.file_stat(str(tmp_path / "none")) == {"exists": False, "path": str(tmp_path / "none")}
    info = cf.certificate_info(str(pem), 30, now=start + dt.timedelta(days=50))
    assert info == {"not_after": "20260411000000Z", "expired": False, "valid_at": {"soon": True}}
    assert cf.certificate_info(str(pem), 30, now=start + dt.timedelta(days=80))["valid_at"]["soon"] is False
    assert cf.certificate_info(str(pem), 30, now=start + dt.timedelta(days=101))["expired"] is True


def test_controller_file_writes_only_a_changed_report(tmp_path):
    cf = _controller_file()
    path = tmp_path / "audit" / "SITE" / "audit.json"
    assert cf.write_if_changed(str(path), "{}\n") is True
    assert cf.write_if_changed(str(path), "{}\n") is False
    assert oct(path.stat().st_mode & 0o777) == "0o644" and path.read_text() == "{}\n"
    assert cf.write_if_changed(str(path), '{"a": 1}\n') is True
