"""Windows certificate decisions: PFX thumbprint, Valerus IIS binding, XProtect checks and manual step."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from vms_deploy.render import windows_certificates as wc
from vms_deploy.render.windows_firewall import WindowsFirewallError

THUMB = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"


def make_pfx(password=b"s3cret"):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vms.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    data = pkcs12.serialize_key_and_certificates(b"vms", key, cert, None,
                                                 serialization.BestAvailableEncryption(password))
    return data, hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def test_pfx_thumbprint_is_the_leaf_sha1_windows_shows():
    data, expected = make_pfx()
    assert wc.pfx_thumbprint("w1", data, "s3cret") == expected


def test_wrong_pfx_password_is_an_actionable_error_without_the_password():
    data, _ = make_pfx()
    with pytest.raises(WindowsFirewallError) as err:
        wc.pfx_thumbprint("w1", data, "wrong")
    assert "vms_tls_pfx_password" in str(err.value) and "wrong" not in str(err.value)
    assert "host w1" in str(err.value)


def binding(port=3001, proto="https", cert=None, ip="*", hostname=""):
    return {"ip": ip, "port": port, "hostname": hostname, "protocol": proto, "certificate_hash": cert}


def test_default_self_signed_binding_is_replaced():
    plan = wc.valerus_binding_plan([binding(cert="1" * 40), binding(3000, "http")], THUMB)
    assert plan["action"] == "replace"
    assert plan["remove_params"] == {"name": "Valerus Web Proxy",
                                     "bindings": {"remove": [{"ip": "*", "port": 3001, "hostname": None}]}}
    assert plan["add_params"] == {"name": "Valerus Web Proxy", "bindings": {"add": [{
        "ip": "*", "port": 3001, "hostname": None, "protocol": "https", "certificate_hash": THUMB,
        "certificate_store_name": "my"}]}}


def test_right_binding_is_left_alone_idempotent():
    plan = wc.valerus_binding_plan([binding(cert=THUMB.lower()), binding(3000, "http")], THUMB)
    assert plan == {"action": "none", "remove_params": None, "add_params": None}


def test_missing_binding_is_added_and_other_ports_are_never_touched():
    plan = wc.valerus_binding_plan([binding(3000, "http"), binding(443, cert="2" * 40)], THUMB)
    assert plan["action"] == "add" and plan["remove_params"] is None
    assert plan["add_params"]["bindings"]["add"][0]["port"] == 3001


def test_http_binding_on_the_https_port_is_removed_first():
    plan = wc.valerus_binding_plan([binding(3001, "http")], THUMB)
    assert plan["action"] == "replace"
    assert plan["remove_params"]["bindings"]["remove"] == [{"ip": "*", "port": 3001, "hostname": None}]


def test_extra_https_binding_on_a_specific_ip_is_removed_too():
    plan = wc.valerus_binding_plan([binding(cert=THUMB), binding(cert="3" * 40, ip="10.0.0.5")], THUMB)
    assert plan["action"] == "replace" and plan["add_params"] is None
    assert plan["remove_params"]["bindings"]["remove"] == [{"ip": "10.0.0.5", "port": 3001, "hostname": None}]


def test_web_proxy_port_follows_the_plan():
    plan = {"hosts": {"g": {"inbound": [{"service": "web_player_https", "ports": [3101, 3101]}]},
                      "r": {"inbound": []}}}
    assert wc.valerus_web_proxy_port(plan, "g") == 3101
    assert wc.valerus_web_proxy_port(plan, "r") is None


def test_only_hosts_terminating_tls_need_the_certificate():
    valerus = {"product": "valerus", "hosts": {
        "gw": {"components": ["gateway"], "inbound": [{"service": "web_player_https", "ports": [3001, 3001]}]},
        "rec": {"components": ["recorder"], "inbound": [{"service": "recorder_streaming", "ports": [554, 554]}]}}}
    assert wc.needs_certificate(valerus, "gw") and not wc.needs_certificate(valerus, "rec")
    xprotect = {"product": "xprotect", "hosts": {
        "m": {"components": ["app_server", "data_collector"], "inbound": []},
        "mob": {"components": ["gateway"], "inbound": []},
        "r": {"components": ["recorder", "data_collector"], "inbound": []}}}
    assert [h for h in ("m", "mob", "r") if wc.needs_certificate(xprotect, h)] == ["m", "mob"]


def test_xprotect_targets_and_manual_step():
    targets = wc.xprotect_cert_targets(["xprotect_mobile_server", "xprotect_management_server",
                                        "xprotect_recording_server"], {"xprotect_mobile_server": 8443})
    assert [(t["component"], t["port"]) for t in targets] == [("xprotect_management_server", 443),
                                                              ("xprotect_mobile_server", 8443)]
    step = wc.xprotect_manual_step("x1", THUMB, [dict(targets[1], served=None)])
    for text in ("Server Configurator", "Encryption", "Streaming media certificate", THUMB, "port 8443",
                 "--tags certificates --limit x1"):
        assert text in step
