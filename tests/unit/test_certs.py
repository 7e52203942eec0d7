"""vms_deploy.certs: each bad input gives one clear error naming the variable; good inputs pass."""
import datetime as dt
import sys
from pathlib import Path

import pytest

from vms_deploy import certs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "certs"))
import factory as f  # noqa: E402  (test PKI made at run time, see tests/fixtures/certs/factory.py)

NAMES = ["gw.example.test", "100.64.0.10"]


def run(pki, **kw):
    args = dict(cert_file=pki["cert"], key_file=pki["key"], chain_file=pki["chain"], trust_files=[pki["root"]],
                use_system_trust=False, names=NAMES, host="gw1")
    args.update(kw)
    return certs.check(certs.CheckInput(**args), now=f.NOW)


def only_error(result, variable, words):
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    err = result.errors[0]
    assert err.variable == variable
    text = str(err)
    assert words in text and "Fix:" in text and "host gw1" in text
    return err


def test_good_pem_passes(tmp_path):
    pki = f.site_pki(tmp_path)
    result = run(pki)
    assert result.ok, [str(e) for e in result.errors]
    assert result.warnings == []
    assert result.info["dns_names"] == ["gw.example.test"]
    assert result.info["ip_addresses"] == ["100.64.0.10"]
    assert result.info["chain"] == ["CN=gw.example.test", "CN=Test Intermediate"]


def test_root_in_chain_file_is_enough(tmp_path):
    pki = f.site_pki(tmp_path)
    objs = pki["objects"]
    both = f.write(tmp_path, "both.pem", f.pem(objs["inter"]) + f.pem(objs["root"]))
    assert run(pki, chain_file=both, trust_files=[]).ok


def test_fullchain_in_cert_file(tmp_path):
    pki = f.site_pki(tmp_path)
    objs = pki["objects"]
    full = f.write(tmp_path, "full.pem", f.pem(objs["cert"]) + f.pem(objs["inter"]))
    assert run(pki, cert_file=full, chain_file=None).ok


def test_key_mismatch(tmp_path):
    pki = f.site_pki(tmp_path)
    other = f.write(tmp_path, "other.pem", f.key_pem(f.key()))
    err = only_error(run(pki, key_file=other), "vms_tls_key_file", "does not match the certificate")
    assert err.value == other


def test_expired(tmp_path):
    pki = f.site_pki(tmp_path, start=-400, days=365)
    only_error(run(pki), "vms_tls_cert_file", "expired on")


def test_not_yet_valid(tmp_path):
    pki = f.site_pki(tmp_path, start=5, days=365)
    only_error(run(pki), "vms_tls_cert_file", "not valid before")


def test_expiry_warning_is_configurable(tmp_path):
    pki = f.site_pki(tmp_path, start=-10, days=30)  # 20 days left
    result = run(pki, warning_days=30)
    assert result.ok and len(result.warnings) == 1
    assert "expires in 20 days" in str(result.warnings[0])
    assert run(pki, warning_days=10).warnings == []


def test_wrong_names(tmp_path):
    pki = f.site_pki(tmp_path, names=("other.example.test", "10.0.0.1"))
    err = only_error(run(pki), "vms_tls_cert_file", "does not cover gw.example.test, 100.64.0.10")
    assert "DNS:other.example.test, IP:10.0.0.1" in err.problem


def test_wildcard_covers_one_label_only(tmp_path):
    pki = f.site_pki(tmp_path, names=("*.example.test", "100.64.0.10"))
    assert run(pki).ok
    only_error(run(pki, names=["a.b.example.test"]), "vms_tls_cert_file", "does not cover a.b.example.test")


def test_ip_needs_ip_san_not_dns(tmp_path):
    pki = f.site_pki(tmp_path, names=("gw.example.test", "100.64.0.10"))
    assert certs.uncovered_names(pki["objects"]["cert"], ["100.64.0.11", "GW.example.test"]) == ["100.64.0.11"]


def test_missing_chain(tmp_path):
    pki = f.site_pki(tmp_path)
    err = only_error(run(pki, chain_file=None), "vms_tls_chain_file", "chain is incomplete")
    assert "CN=Test Intermediate" in err.problem


def test_chain_without_trusted_root(tmp_path):
    pki = f.site_pki(tmp_path)
    only_error(run(pki, trust_files=[]), "vms_tls_chain_file", "no certificate for the issuer CN=Test Root")


def test_wrong_intermediate(tmp_path):
    pki = f.site_pki(tmp_path)
    # Same subject name, different key: the signature check must catch it.
    root, root_key = f.ca("Test Root")
    fake, _ = f.ca("Test Intermediate", issuer=root, issuer_key=root_key)
    bad = f.write(tmp_path, "fake.pem", f.pem(fake))
    only_error(run(pki, chain_file=bad), "vms_tls_chain_file", "did not sign")


def test_not_a_server_certificate(tmp_path):
    pki = f.site_pki(tmp_path, server_auth=False)
    only_error(run(pki), "vms_tls_cert_file", "serverAuth")


def test_missing_files(tmp_path):
    pki = f.site_pki(tmp_path)
    result = run(pki, cert_file=str(tmp_path / "nope.pem"), key_file=None)
    assert sorted(e.variable for e in result.errors) == ["vms_tls_cert_file", "vms_tls_key_file"]


def test_garbage_files(tmp_path):
    pki = f.site_pki(tmp_path)
    junk = f.write(tmp_path, "junk.pem", b"not a certificate")
    result = run(pki, cert_file=junk, key_file=junk)
    assert sorted(e.variable for e in result.errors) == ["vms_tls_cert_file", "vms_tls_key_file"]


def test_encrypted_key_needs_passphrase(tmp_path):
    pki = f.site_pki(tmp_path)
    enc = f.write(tmp_path, "enc.pem", f.key_pem(pki["objects"]["key"], b"s3cret-pass"))
    only_error(run(pki, key_file=enc), "vms_tls_key_file", "passphrase")
    assert run(pki, key_file=enc, key_passphrase="s3cret-pass").ok


def test_pfx_good_and_wrong_password(tmp_path):
    pki = f.site_pki(tmp_path)
    o = pki["objects"]
    path = f.write(tmp_path, "site.pfx", f.pfx(o["cert"], o["key"], [o["inter"]], b"right-pass"))
    good = run(pki, cert_file=None, key_file=None, chain_file=None, pfx_file=path, pfx_password="right-pass")
    assert good.ok, [str(e) for e in good.errors]
    bad = run(pki, cert_file=None, key_file=None, chain_file=None, pfx_file=path, pfx_password="wrong")
    err = only_error(bad, "vms_tls_pfx_password", "password is wrong")
    assert "right-pass" not in str(err) and "wrong" not in err.value


def test_pfx_without_intermediate_is_incomplete(tmp_path):
    pki = f.site_pki(tmp_path)
    o = pki["objects"]
    path = f.write(tmp_path, "site.pfx", f.pfx(o["cert"], o["key"], [], b"pw"))
    only_error(run(pki, cert_file=None, key_file=None, chain_file=None, pfx_file=path, pfx_password="pw"),
               "vms_tls_pfx_file", "chain is incomplete")


def test_contents_override_reading(tmp_path):
    """Callers that decrypt vaulted files pass the bytes; the path is only for messages."""
    pki = f.site_pki(tmp_path)
    o = pki["objects"]
    contents = {"/vault/cert.pem": f.pem(o["cert"]), "/vault/key.pem": f.key_pem(o["key"])}
    assert run(pki, cert_file="/vault/cert.pem", key_file="/vault/key.pem", contents=contents).ok


def test_self_signed_warns(tmp_path):
    root, root_key = f.ca("gw.example.test")
    cert_path = f.write(tmp_path, "c.pem", f.pem(root))
    key_path = f.write(tmp_path, "k.pem", f.key_pem(root_key))
    result = certs.check(certs.CheckInput(cert_file=cert_path, key_file=key_path, use_system_trust=False,
                                          names=[]), now=f.NOW)
    assert result.ok
    assert any("self-signed" in str(w) for w in result.warnings)


def test_several_problems_reported_together(tmp_path):
    pki = f.site_pki(tmp_path, start=-400, days=365, names=("x.example.test",))
    other = f.write(tmp_path, "other.pem", f.key_pem(f.key()))
    result = run(pki, key_file=other, chain_file=None)
    assert len(result.errors) == 4


@pytest.mark.parametrize("names,expected", [
    (["b.test", "10.0.0.2", "A.test", "10.0.0.10", "a.test", ""],
     ["DNS:a.test", "DNS:b.test", "IP:10.0.0.2", "IP:10.0.0.10"]),
    ([], []),
])
def test_subject_alt_names_stable(names, expected):
    assert certs.subject_alt_names(names) == expected


def test_now_defaults_to_utc(tmp_path):
    pki = f.site_pki(tmp_path)
    # Without `now`, the fixed 2026-06-01 fixture still evaluates (no naive/aware datetime mixing).
    result = certs.check(certs.CheckInput(cert_file=pki["cert"], key_file=pki["key"], chain_file=pki["chain"],
                                          trust_files=[pki["root"]], use_system_trust=False))
    assert isinstance(result.info["days_left"], int)
    assert dt.datetime.fromisoformat(result.info["not_after"]).tzinfo is not None


def test_key_made_here_skips_only_rsa_consistency(tmp_path):
    """validate_key=False (the certificates role's own keys) still checks the pair against the certificate;
    a provided key (the default) also gets cryptography's RSA consistency check, which catches a key whose
    private numbers are corrupt though its public part is whole."""
    pki = f.site_pki(tmp_path)
    assert run(pki, validate_key=False).ok
    other = f.write(tmp_path, "other.pem", f.key_pem(f.key()))
    only_error(run(pki, key_file=other, validate_key=False), "vms_tls_key_file", "does not match the certificate")

    from cryptography.hazmat.primitives.asymmetric import rsa
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    corrupt = rsa.RSAPrivateNumbers(p=good.p, q=good.q, d=good.d, dmp1=good.dmp1 + 2, dmq1=good.dmq1, iqmp=good.iqmp,
                                    public_numbers=good.public_numbers)
    data = f.key_pem(corrupt.private_key(unsafe_skip_rsa_key_validation=True))
    assert certs.load_private_key(data, validate=False).public_key().public_numbers() == good.public_numbers
    with pytest.raises(ValueError):
        certs.load_private_key(data)
