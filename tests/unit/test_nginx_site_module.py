"""plugins/modules/vms_nginx_site.py in check mode on the controller: what it reports of the files it would
write, and the checksum of the certificate in place (cert_sha256, which the audit uses)."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "vms_nginx_site.py"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def run(tmp_path, **args):
    params = {"conf": "events {}\n", "conf_path": str(tmp_path / "nginx.conf"), "tls_dir": str(tmp_path / "tls"),
              "cert": CERT, "key": "not a real key", "packages": [], "_ansible_check_mode": True, **args}
    done = subprocess.run([sys.executable, str(MODULE)], input=json.dumps({"ANSIBLE_MODULE_ARGS": params}),
                          capture_output=True, text=True, timeout=60, check=False)
    return json.loads(done.stdout)


def test_check_mode_reports_the_files_and_no_certificate(tmp_path):
    result = run(tmp_path)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["cert_sha256"] is None
    assert str(tmp_path / "tls" / "fullchain.pem") in result["files_changed"]
    assert not (tmp_path / "tls").exists()  # check mode wrote nothing


def test_cert_sha256_is_the_file_in_place_not_the_wanted_one(tmp_path):
    (tmp_path / "tls").mkdir()
    served = "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n"
    (tmp_path / "tls" / "fullchain.pem").write_text(served)
    result = run(tmp_path)
    assert result["cert_sha256"] == hashlib.sha256(served.encode()).hexdigest()
    assert str(tmp_path / "tls" / "fullchain.pem") in result["files_changed"]
    (tmp_path / "tls" / "fullchain.pem").write_text(CERT)
    assert run(tmp_path)["cert_sha256"] == hashlib.sha256(CERT.encode()).hexdigest()
