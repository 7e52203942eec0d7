"""TLS lab proof (molecule/tls and molecule/cert_rotation, inventories/lab/tls_dmz).

Everything is observed from the Internet vantage container, through the edge's port forwards,
exactly as a remote client sees it. The served certificate is checked with vms_deploy.certs
against the site CA kept on the controller.
"""
import datetime as dt
import os
import re
from pathlib import Path

import pytest
import testinfra
from cryptography import x509

from vms_deploy import certs

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = os.environ.get("VMS_LAB_PUBLIC", "172.30.10.2")
PUBLIC_NAME = "vms.tls.lab"
VANTAGE = os.environ.get("VMS_LAB_INTERNET", "vmstls-internet")
PKI = Path(os.environ.get("VMS_LAB_PKI", ROOT / "build" / "pki" / "tls"))
# Only the gateway is looked at on the host side.
testinfra_hosts = ["gw1"]


@pytest.fixture(scope="module")
def internet():
    return testinfra.get_host(f"docker://{VANTAGE}")


def s_client(internet, port, *opts):
    cmd = (f"echo | timeout 10 openssl s_client -connect {PUBLIC}:{port} -servername {PUBLIC_NAME} "
           f"{' '.join(opts)} 2>&1")
    return internet.run(cmd).stdout


def served_chain(internet, port=9443):
    out = s_client(internet, port, "-showcerts")
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", out, re.S)
    assert pems, out
    return [x509.load_pem_x509_certificate(p.encode()) for p in pems]


@pytest.mark.parametrize("port", [9443, 3001])
def test_site_certificate_with_expected_names(internet, port):
    chain = served_chain(internet, port)
    leaf = chain[0]
    dns, ips = certs.certificate_names(leaf)
    assert {PUBLIC_NAME, "gateway.tls.lab", "gw1"} <= set(dns)
    assert {PUBLIC, "172.30.11.10"} <= set(ips)
    # Same certificate as the one the certificates role made, signed by the site CA.
    ca = x509.load_pem_x509_certificate((PKI / "ca.crt").read_bytes())
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)
    on_disk = x509.load_pem_x509_certificate((PKI / "gw1" / "server.crt").read_bytes())
    assert leaf.serial_number == on_disk.serial_number
    assert leaf.not_valid_after_utc > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)


def test_chain_verifies_for_a_client_trusting_the_site_ca(internet):
    ca = (PKI / "ca.crt").read_text()
    internet.run(f"cat > /tmp/vms-site-ca.crt <<'EOF'\n{ca}\nEOF")
    out = s_client(internet, 9443, "-CAfile /tmp/vms-site-ca.crt -verify_hostname", PUBLIC_NAME)
    assert "Verify return code: 0 (ok)" in out, out


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_old_tls_refused(internet, flag):
    # SECLEVEL=0 lets this client offer the old protocol, so a refusal can only come from the server.
    out = s_client(internet, 9443, flag, "-cipher DEFAULT@SECLEVEL=0")
    assert "alert protocol version" in out, out
    assert "Cipher is (NONE)" in out, out


@pytest.mark.parametrize("flag,proto", [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
def test_modern_tls_accepted(internet, flag, proto):
    out = s_client(internet, 9443, flag)
    assert re.search(rf"New, {re.escape(proto)}, Cipher is [A-Z0-9_-]+", out), out


@pytest.mark.parametrize("external,https_port", [(80, 9443), (3000, 3001)])
def test_plain_http_redirects_to_https(internet, external, https_port):
    out = internet.run(f"curl -sS -m 10 -o /dev/null -D - http://{PUBLIC}:{external}/live?cam=1").stdout
    assert out.startswith("HTTP/1.1 301"), out
    assert f"Location: https://{PUBLIC_NAME}:{https_port}/live?cam=1" in out, out


def test_security_headers(internet):
    out = internet.run(f"curl -sS -m 10 -k -D - -o /dev/null https://{PUBLIC}:9443/vms-gateway/health").stdout
    assert out.startswith("HTTP/1.1 200"), out
    for header in ("Strict-Transport-Security: max-age=31536000", "X-Content-Type-Options: nosniff",
                   "X-Frame-Options: SAMEORIGIN", "Referrer-Policy:", "Content-Security-Policy:"):
        assert header in out, (header, out)
    assert "Server: nginx\r\n" in out  # no version (server_tokens off)


def test_streaming_passes_through_to_the_recorder(internet):
    out = internet.run(f"timeout 10 nc -w 5 {PUBLIC} 9081 </dev/null").stdout
    assert "stand-in for recorder/recorder_streaming on tcp/554" in out, out


def test_web_requests_reach_the_application_server(internet, host):
    internet.run(f"curl -sk -m 10 -o /dev/null https://{PUBLIC}:9443/vms-lab-probe")
    log = host.run("grep 'vms-lab-probe' /var/log/nginx/error.log | tail -1").stdout
    # The stand-in answers with a banner, not HTTP: nginx logging it proves the connection got there.
    assert 'upstream: "http://172.30.12.10:80/vms-lab-probe"' in log, log


def test_key_is_private_on_the_gateway(host):
    key = host.file("/etc/nginx/vms-tls/server.key")
    assert key.exists and key.user == "root" and key.mode == 0o600
    assert host.file("/etc/nginx/vms-tls").mode == 0o750
