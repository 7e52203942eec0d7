"""Certificate rotation proof (molecule/cert_rotation, inventories/lab/tls_rotation).

After the side effect (playbooks/rotate_certificates.yml) the Internet client must be served the
new certificate: the one now on the controller, not the one recorded before the rotation.
"""
import re
from pathlib import Path

import pytest
import testinfra
from cryptography import x509

ROOT = Path(__file__).resolve().parents[2]
PKI = ROOT / "build" / "pki" / "rot"
PUBLIC = "172.30.20.2"
testinfra_hosts = ["app1"]


@pytest.fixture(scope="module")
def internet():
    return testinfra.get_host("docker://vmsrot-internet")


def served(internet):
    out = internet.run(f"echo | timeout 10 openssl s_client -connect {PUBLIC}:9443 -servername vms.rot.lab 2>&1").stdout
    pem = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", out, re.S)
    assert pem, out
    return x509.load_pem_x509_certificate(pem.group(0).encode())


def test_new_certificate_is_served(internet):
    before = int((PKI / "serial-before-rotation").read_text().strip())
    now = x509.load_pem_x509_certificate((PKI / "app1" / "server.crt").read_bytes())
    cert = served(internet)
    assert now.serial_number != before, "the rotation did not issue a new certificate"
    assert cert.serial_number == now.serial_number, "the gateway still serves the old certificate"
    assert "vms.rot.lab" in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName)


def test_new_key_is_installed(host):
    key = host.file("/etc/nginx/vms-tls/server.key")
    assert key.mode == 0o600
    assert key.content_string.strip() == (PKI / "app1" / "server.key").read_text().strip()
