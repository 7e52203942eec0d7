"""playbooks/stages/certificates.yml on the controller only (local connection, no containers).

Bad certificate inputs must stop the run with one clear line per problem; auto mode must be
idempotent, and a rotation (vms_tls_rotate=true) must issue a new certificate and then settle.
"""
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "certs"))
import factory as f  # noqa: E402

NOW = dt.datetime.now(dt.timezone.utc)


def playbook(inventory: Path, *extra: str):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN="memory")
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), "playbooks/stages/certificates.yml", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def inventory(tmp_path: Path, gateways: dict, **site_vars) -> Path:
    data = {"all": {
        "vars": {"vms_site": "unit", "vms_product": "valerus", "ansible_connection": "local",
                 "ansible_python_interpreter": sys.executable, "vms_public_name": "gw.example.test",
                 "vms_tls_dir": str(tmp_path / "pki"), **site_vars},
        "children": {
            "vms_gateways": {"hosts": gateways},
            "vms_edge": {"hosts": {"edge": {"vms_address": "10.30.0.1", "vms_public_address": "100.64.0.10",
                                            "vms_platform": "linux"}}},
        }}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def recap(output: str) -> dict:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def test_bad_inputs_fail_before_any_host_changes(tmp_path):
    def pki(name, **kw):
        (tmp_path / name).mkdir()
        return f.site_pki(tmp_path / name, now=NOW, **kw)

    good, expired = pki("good"), pki("exp", start=-400, days=365)
    wrong = pki("names", names=("other.example.test",))
    other_key = f.write(tmp_path, "other.key", f.key_pem(f.key()))
    o = good["objects"]
    pfx = f.write(tmp_path, "site.pfx", f.pfx(o["cert"], o["key"], [o["inter"]], b"right-password"))
    common = {"vms_tls_mode": "provided", "vms_platform": "linux", "vms_tls_trust_file": good["root"]}
    hosts = {
        "gw-mismatch": {**common, "vms_address": "10.30.1.1", "vms_tls_cert_file": good["cert"],
                        "vms_tls_key_file": other_key, "vms_tls_chain_file": good["chain"]},
        "gw-expired": {**common, "vms_address": "10.30.1.2", "vms_tls_cert_file": expired["cert"],
                       "vms_tls_key_file": expired["key"], "vms_tls_chain_file": expired["chain"],
                       "vms_tls_trust_file": expired["root"]},
        "gw-names": {**common, "vms_address": "10.30.1.3", "vms_tls_cert_file": wrong["cert"],
                     "vms_tls_key_file": wrong["key"], "vms_tls_chain_file": wrong["chain"],
                     "vms_tls_trust_file": wrong["root"]},
        "gw-nochain": {**common, "vms_address": "10.30.1.4", "vms_tls_cert_file": good["cert"],
                       "vms_tls_key_file": good["key"]},
        "gw-pfxpass": {**common, "vms_address": "10.30.1.5", "vms_tls_pfx_file": pfx,
                       "vms_tls_pfx_password": "wrong-password"},
        "gw-good": {**common, "vms_address": "10.30.1.6", "vms_tls_cert_file": good["cert"],
                    "vms_tls_key_file": good["key"], "vms_tls_chain_file": good["chain"]},
    }
    rc, out = playbook(inventory(tmp_path, hosts))
    assert rc != 0, out
    expected = {
        "gw-mismatch": "vms_tls_key_file=" + other_key + ": the private key does not match",
        "gw-expired": "the certificate expired on",
        "gw-names": "does not cover gw.example.test, 100.64.0.10",
        "gw-nochain": "vms_tls_chain_file=(unset): the certificate chain is incomplete",
        "gw-pfxpass": "vms_tls_pfx_password=(vaulted): cannot open the PFX file",
    }
    for host, words in expected.items():
        assert f"host {host}: " in out and words in out, (host, out[-6000:])
    assert "Traceback" not in out
    assert "wrong-password" not in out  # the password is never printed
    # Nothing ran after the checks: no host reached the "Files other roles use" step or any later one.
    assert "Files other roles use" not in out
    assert all(changed == 0 for changed in recap(out).values()), recap(out)


def _serial(tmp_path):
    pem = (tmp_path / "pki" / "gw1" / "server.crt").read_bytes()
    return x509.load_pem_x509_certificate(pem).serial_number


def test_auto_is_idempotent_and_rotates(tmp_path):
    inv = inventory(tmp_path, {"gw1": {"vms_address": "10.30.1.5", "vms_platform": "linux"}},
                    vms_tls_names=["gw1.internal.test"])
    rc, out = playbook(inv)
    assert rc == 0, out[-4000:]
    cert = x509.load_pem_x509_certificate((tmp_path / "pki" / "gw1" / "server.crt").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(san.get_values_for_type(x509.DNSName)) == ["gw.example.test", "gw1", "gw1.internal.test"]
    assert sorted(str(a) for a in san.get_values_for_type(x509.IPAddress)) == ["10.30.1.5", "100.64.0.10"]
    assert oct((tmp_path / "pki" / "ca.key").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "pki" / "gw1" / "server.key").stat().st_mode & 0o777) == "0o600"
    first = _serial(tmp_path)

    rc, out = playbook(inv, "-e", "vms_tls_rotate=true")
    assert rc == 0, out[-4000:]
    assert recap(out)["gw1"] > 0
    second = _serial(tmp_path)
    assert second != first

    rc, out = playbook(inv)
    assert rc == 0 and recap(out) == {"gw1": 0}, out[-4000:]
    assert _serial(tmp_path) == second


@pytest.mark.parametrize("bad", ["sometimes"])
def test_bad_mode_is_named(tmp_path, bad):
    inv = inventory(tmp_path, {"gw1": {"vms_address": "10.30.1.5", "vms_platform": "linux", "vms_tls_mode": bad}})
    rc, out = playbook(inv)
    assert rc != 0
    assert "host gw1: vms_tls_mode=sometimes" in out and "Fix:" in out
