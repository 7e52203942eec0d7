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
        "m": {"components": ["app_server", "data_collector"], "inbound": [], "platform": "windows"},
        "mob": {"components": ["gateway"], "inbound": [], "platform": "windows"},
        "r": {"components": ["recorder", "data_collector"], "inbound": [], "platform": "windows"},
        "log": {"components": ["log_server", "data_collector"], "inbound": [], "platform": "windows"},
        "fail": {"components": ["failover_recorder"], "inbound": [], "platform": "windows"}}}
    # issue 14 item 9: every server in a Server Configurator certificate group (recorders: "server")
    assert [h for h in ("m", "mob", "r", "log", "fail") if wc.needs_certificate(xprotect, h)] == ["m", "mob", "r"]
    # ... and every XProtect Windows host trusts the site CA
    assert all(wc.needs_site_ca(xprotect, h) for h in xprotect["hosts"])
    assert not wc.needs_site_ca(valerus, "gw")


def test_xprotect_targets_and_manual_step():
    targets = wc.xprotect_cert_targets(["xprotect_mobile_server", "xprotect_management_server",
                                        "xprotect_recording_server"], {"xprotect_mobile_server": 8443})
    assert [(t["component"], t["port"]) for t in targets] == [("xprotect_management_server", 443),
                                                              ("xprotect_mobile_server", 8443)]
    step = wc.xprotect_manual_step("x1", THUMB, [dict(targets[1], served=None)])
    for text in ("Server Configurator", "Encryption", "Mobile streaming media certificate", THUMB, "port 8443",
                 "--tags certificates --limit x1"):
        assert text in step


# --- issue 14, item 9: XProtect encryption ------------------------------------------------------------

XPROTECT = {"product": "xprotect", "hosts": {
    "aio": {"components": ["app_server", "recorder", "gateway", "event_server", "log_server"], "platform": "windows"},
    "rec": {"components": ["recorder", "data_collector"], "platform": "windows"},
    "log": {"components": ["log_server"], "platform": "windows"}}}


def test_certificate_groups_follow_the_components():
    # issue 14: groups server, streaming media, mobile server, event server
    assert [g["key"] for g in wc.encryption_groups(XPROTECT, "aio")] == [
        "event_server", "mobile_server", "server", "streaming_media"]
    assert [g["name"] for g in wc.encryption_groups(XPROTECT, "rec")] == [
        "Server certificate", "Streaming media certificate"]
    assert wc.encryption_groups(XPROTECT, "log") == []
    named = wc.encryption_groups(XPROTECT, "rec", {"server": "Serverzertifikat"})
    assert named[0]["name"] == "Serverzertifikat"
    with pytest.raises(wc.WindowsInputError, match="vms_win_xprotect_certificate_groups.server"):
        wc.encryption_groups(XPROTECT, "rec", {"server": ""})


def test_encryption_parameters_and_the_account_that_runs_it():
    params = wc.encryption_parameters(XPROTECT, "rec", THUMB.lower(), r"C:\SC.exe", r"NT AUTHORITY\NETWORK SERVICE")
    assert params == {"Configurator": r"C:\SC.exe", "Thumbprint": THUMB,
                      "ServiceAccount": r"NT AUTHORITY\NETWORK SERVICE",
                      "Groups": ["Server certificate", "Streaming media certificate"]}
    with pytest.raises(wc.WindowsInputError, match="vms_win_xprotect_service_account"):
        wc.encryption_parameters(XPROTECT, "rec", THUMB, r"C:\SC.exe", "")
    assert "not set" in wc.encryption_user_problem("rec", "")
    assert "SYSTEM" in wc.encryption_user_problem("rec", "NT AUTHORITY\\SYSTEM")
    assert "double hop" in wc.encryption_user_problem("rec", "milestone-admin", via_double_hop=True)
    assert wc.encryption_user_problem("rec", "SITE\\milestone-admin") is None


def test_listed_certificate_groups_are_parsed_and_matched():
    lines = ["Certificate groups:", "  Server certificate (11111111-1111-4111-8111-111111111111)",
             "Streaming media certificate: 22222222-2222-4222-8222-222222222222",
             "{33333333-3333-4333-8333-333333333333} Mobile streaming media certificate", ""]
    listed = wc.parse_certificate_groups(lines)
    assert listed == {"Server certificate": "11111111-1111-4111-8111-111111111111",
                      "Streaming media certificate": "22222222-2222-4222-8222-222222222222",
                      "Mobile streaming media certificate": "33333333-3333-4333-8333-333333333333"}
    # "Streaming media certificate" is also inside "Mobile streaming media certificate": exact wins
    assert wc.match_certificate_group(listed, "streaming media certificate") == "Streaming media certificate"
    assert wc.match_certificate_group(listed, "Mobile") == "Mobile streaming media certificate"
    assert wc.match_certificate_group(listed, "certificate") is None  # ambiguous
    assert wc.match_certificate_group(listed, "Event") is None


def test_served_certificate_mismatches():
    targets = wc.xprotect_cert_targets(["xprotect_management_server", "xprotect_mobile_server"])
    got = wc.cert_mismatches(targets, {"443": THUMB.lower(), "8082": None}, THUMB)
    assert [(t["port"], t["served"]) for t in got] == [(8082, None)]


def test_site_ca_thumbprint_is_windows_sha1_of_the_der():
    import datetime as dt
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)).sign(key,
                                                                                                     hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    assert wc.pem_thumbprint("h",
                             pem) == hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    with pytest.raises(wc.WindowsInputError, match="vms_tls_trust_file"):
        wc.pem_thumbprint("h", "not a certificate")


# --- issue 14, item 2: binding and http.sys certificate swapped together ---------------------------------

SELF_SIGNED = "1" * 40


def test_swap_deletes_the_stale_http_sys_entry_before_adding_the_binding():
    bindings = [{"ip": "*", "port": 3001, "hostname": "", "protocol": "https", "certificate_hash": SELF_SIGNED},
                {"ip": "*", "port": 3000, "hostname": "", "protocol": "http"}]
    swap = wc.binding_swap_plan(bindings, {"0.0.0.0:3001": SELF_SIGNED}, THUMB, 3001)
    assert swap["action"] == "replace"
    assert swap["remove_bindings"] == [["*", 3001, ""]] and swap["delete_sslcert"] == ["0.0.0.0:3001"]
    assert swap["add_binding"]["certificate_hash"] == THUMB


def test_swap_after_a_half_done_run_still_clears_http_sys():
    # the old two-call way removed the binding, then failed: http.sys still holds 0.0.0.0:3001
    bindings = [{"ip": "*", "port": 3000, "hostname": "", "protocol": "http"}]
    swap = wc.binding_swap_plan(bindings, {"0.0.0.0:3001": SELF_SIGNED}, THUMB, 3001)
    assert swap["action"] == "replace" and swap["remove_bindings"] == [] and swap["delete_sslcert"] == ["0.0.0.0:3001"]


def test_swap_is_idempotent_and_rebinds_a_lost_http_sys_entry():
    good = [{"ip": "*", "port": 3001, "hostname": "", "protocol": "https", "certificate_hash": THUMB}]
    assert wc.binding_swap_plan(good, {"0.0.0.0:3001": THUMB}, THUMB, 3001)["action"] == "none"
    lost = wc.binding_swap_plan(good, {}, THUMB, 3001)
    assert lost["action"] != "none" and lost["delete_sslcert"] == []
    assert wc.http_sys_key("*", 3001) == "0.0.0.0:3001" and wc.http_sys_key("10.0.0.5", 443) == "10.0.0.5:443"
