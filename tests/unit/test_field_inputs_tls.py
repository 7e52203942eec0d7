"""Issue 20 item 4: certificates, one switch. `vms_tls_mode` is the one name the code reads; the template's
`vms_tls_certificates` (read by nothing) is refused with a did-you-mean; in provided mode the CA is given
once (vms_tls_trust_file); a provided certificate that does not name an XProtect server, which
server-to-server encryption needs, is a warning. Driven through `vms-deploy plan` and `vms-deploy new-site`.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from vms_deploy import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "inventories" / "examples"
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "certs"))
import factory as f  # noqa: E402 - needs the sys.path entry above


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _example(tmp_path: Path, name: str, **extra) -> Path:
    site = tmp_path / name
    shutil.copytree(EXAMPLES / name, site)
    with open(site / "group_vars" / "all.yml", "a", encoding="utf-8") as fh:
        fh.write(yaml.safe_dump(extra, default_flow_style=False))
    return site


def _error_line(err: str, variable: str) -> str:
    line = next((ln for ln in err.splitlines() if f" {variable} = " in ln), None)
    assert line is not None, err
    return line


@pytest.mark.parametrize("value", ["provided", "auto"])
def test_the_template_name_vms_tls_certificates_is_refused_with_the_real_one(tmp_path, capsys, value):
    code, _, err = _run(capsys, "plan", _example(tmp_path, "valerus_all_in_one", vms_tls_certificates=value))
    assert code == 2
    line = _error_line(err, "vms_tls_certificates")
    assert "did you mean vms_tls_mode" in line and f"vms_tls_mode: {value}" in line.split("Fix:", 1)[1]
    assert err.count("vms_tls_certificates = ") == 1, err  # one mistake, one message


def test_new_site_writes_the_switch_the_code_reads(tmp_path, capsys):
    code, _, err = _run(capsys, "new-site", "s1", "--product", "xprotect", "--topology", "separate_recorders",
                        "--dir", tmp_path)
    assert code == 0, err
    main = yaml.safe_load((tmp_path / "s1" / "group_vars" / "all" / "main.yml").read_text())
    assert main.get("vms_tls_mode") == "auto" and "vms_tls_certificates" not in main


@pytest.mark.parametrize("mode,fix_names", [("provided", "vms_tls_trust_file"), ("auto", "certificates stage")])
def test_the_ca_is_given_once(tmp_path, capsys, mode, fix_names):
    """vms_tls_ca_path (the Windows role's old input) is refused: the CA is vms_tls_trust_file in provided mode
    and made by the certificates stage in auto mode; the fix says which for the site's mode."""
    pki = f.site_pki(tmp_path)
    tls = {"vms_tls_mode": mode, "vms_tls_ca_path": pki["root"]}
    if mode == "provided":
        tls.update(vms_tls_cert_file=pki["cert"], vms_tls_key_file=pki["key"], vms_tls_chain_file=pki["chain"],
                   vms_tls_trust_file=pki["root"])
    code, _, err = _run(capsys, "plan", _example(tmp_path, "xprotect_all_in_one", **tls))
    assert code == 2
    fix = _error_line(err, "vms_tls_ca_path").split("Fix:", 1)[1]
    assert fix_names in fix


def test_the_windows_role_takes_the_ca_from_the_certificates_stage_only():
    """No role reads vms_tls_ca_path any more; the XProtect hosts' root CA is the certificates stage's fact,
    which in provided mode is vms_tls_trust_file (the root that signed the site's certificate)."""
    readers = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "roles").rglob("*.yml"))
               if "vms_tls_ca_path" in p.read_text(encoding="utf-8")]
    assert readers == []
    defaults = yaml.safe_load((ROOT / "roles" / "windows_certificates" / "defaults" / "main.yml").read_text())
    assert "certificates_site_ca_path" in defaults["windows_certificates_ca_path"]
    provided = (ROOT / "roles" / "certificates" / "tasks" / "provided.yml").read_text()
    assert "certificates_site_ca_path: \"{{ certificates_trust_file" in provided


def _xprotect_provided(tmp_path, names):
    pki = f.site_pki(tmp_path, names=names)
    return _example(tmp_path, "xprotect_distributed_dmz", vms_tls_mode="provided", vms_tls_cert_file=pki["cert"],
                    vms_tls_key_file=pki["key"], vms_tls_chain_file=pki["chain"], vms_tls_trust_file=pki["root"])


def _name_warnings(plan: dict) -> list[dict]:
    return [w for w in plan["warnings"] if "server-to-server" in w["text"]]


def test_a_provided_certificate_that_does_not_name_an_xprotect_server_warns(tmp_path, capsys):
    site = _xprotect_provided(tmp_path, ("mobile.example.test", "xmgmt"))
    code, out, err = _run(capsys, "plan", site)
    assert code == 0, err
    found = _name_warnings(json.loads(out))
    named = {host for w in found for host in ("xmgmt", "xevent", "xrec1", "xrec2", "xfail") if f" {host}" in w["text"]}
    # the servers that take part in a certificate group of their own name (render.windows_certificates):
    # Management and Recording Servers ("server"), the Event Server; the Mobile Server answers to the public name
    assert named == {"xevent", "xrec1", "xrec2"}, found
    assert all(w["group"] == "host" and "vms_tls_cert_file" in w["fix"] for w in found)


def test_a_provided_certificate_naming_every_server_does_not_warn(tmp_path, capsys):
    site = _xprotect_provided(tmp_path, ("*.example.test", "xmgmt", "xevent", "xrec1", "xrec2", "xfail", "xmobile"))
    code, out, err = _run(capsys, "plan", site)
    assert code == 0, err
    assert _name_warnings(json.loads(out)) == []
