"""The vms-deploy command line: plan output, user-facing errors (exit 2, never a traceback), entry point."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vms_deploy import cli

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "tests" / "fixtures" / "plans"
EXAMPLES = ROOT / "inventories" / "examples"
needs_compiler = pytest.mark.skipif(not (ROOT / "src" / "vms_deploy" / "inventory.py").exists(),
                                    reason="needs the inventory loader and compiler")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@needs_compiler
def test_plan_writes_the_same_files_as_plan_yml(tmp_path, capsys):
    example = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())[0]
    code, out, _ = run(capsys, "plan", str(example), "--out", str(tmp_path))
    assert code == 0
    assert {p.name for p in tmp_path.iterdir()} == {"plan.json", "ports.md", "router.csv", "router.md",
                                                     "firewall-rules.csv", "firewall-rules.md"}
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["schema"] == 1
    code, out, _ = run(capsys, "plan", str(example), "--out", str(tmp_path))
    assert out.count("(unchanged)") == 6  # deterministic: a second run changes nothing
    code, out, _ = run(capsys, "plan", str(example))
    assert json.loads(out) == plan


@needs_compiler
def test_invalid_inventory_lists_every_error(tmp_path, capsys):
    assert cli.main(["new-site", "broken", "--product", "valerus", "--topology", "all_in_one",
                     "--dir", str(tmp_path)]) == 0
    main = tmp_path / "broken" / "group_vars" / "all" / "main.yml"
    main.write_text(main.read_text().replace("vms_product: valerus", "vms_product: valerius")
                    .replace("  - 10.20.2.0/24", "  - 10.20.2.0/33"))
    capsys.readouterr()
    code, out, err = run(capsys, "plan", str(tmp_path / "broken"))
    assert code == 2 and out == ""
    assert "vms_product" in err and "valerius" in err
    assert err.startswith("vms-deploy plan: the site inventory has")


@needs_compiler
def test_explain_and_report_take_an_inventory(tmp_path, capsys):
    example = EXAMPLES / "xprotect_distributed_dmz"
    if not example.exists():
        pytest.skip("example inventory xprotect_distributed_dmz is not present")
    code, out, _ = run(capsys, "explain", str(example), "--host", "xmgmt", "--port", "9000", "--protocol", "tcp")
    assert code == 0 and "only recording servers may connect" in out and "hosts.yml:" in out
    if shutil.which("dot"):
        code, out, _ = run(capsys, "report", str(example), "--out", str(tmp_path / "r"))
        assert code == 0 and (tmp_path / "r" / "index.html").exists()


@pytest.mark.parametrize("argv,message", [
    (["plan", "/nonexistent/site"], "inventory '/nonexistent/site' does not exist"),
    (["report", "/nonexistent/plan.json"], "cannot read plan '/nonexistent/plan.json'"),
    (["check", "{bad}", "--from", "a", "--to", "b", "--port", "1"], "does not exist"),
])
def test_missing_inputs(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_bad_plan_files(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = run(capsys, "explain", str(broken), "--host", "a", "--port", "1")
    assert code == 2 and "is not valid JSON (line 1" in err
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"schema": 0}))
    code, _, err = run(capsys, "check", str(old), "--from", "10.0.0.1", "--to", "10.0.0.2", "--port", "1")
    assert code == 2 and "not a vms-deploy plan of schema 1 (schema = 0)" in err


def test_bad_port_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", str(PLANS / "valerus_base.json"), "--from", "a", "--to", "b", "--port", "http"])
    assert exc.value.code == 2
    assert "'http' is not a port number; use 1-65535" in capsys.readouterr().err


def test_console_script_and_version():
    exe = shutil.which("vms-deploy")
    argv = [exe] if exe else [sys.executable, "-m", "vms_deploy.cli"]
    proc = subprocess.run(argv + ["--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("vms-deploy ")
    proc = subprocess.run(argv + ["check", str(PLANS / "valerus_base.json"), "--from", "10.40.2.15", "--to", "rec1",
                                  "--port", "7563"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("ALLOWED")


@needs_compiler
def _public_address(site):
    """The one edit a new site needs before it plans: its public address instead of the placeholder."""
    main = site / "group_vars" / "all" / "main.yml"
    main.write_text(main.read_text().replace("vms_public_address: 100.64.0.10", "vms_public_address: 47.21.27.216"))


def test_encrypted_vault_needs_the_password(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    assert cli.main(["new-site", "sec", "--product", "valerus", "--topology", "all_in_one",
                     "--dir", str(tmp_path)]) == 0
    _public_address(tmp_path / "sec")
    vault = tmp_path / "sec" / "group_vars" / "all" / "vault.yml"
    vault.write_text("vault_windows_admin_password: s3cret\n")
    password = tmp_path / "vault-pass"
    password.write_text("correct horse\n")
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(password), str(vault)],
                   check=True, capture_output=True, timeout=60)
    assert vault.read_text().startswith("$ANSIBLE_VAULT;")
    capsys.readouterr()
    code, _, err = run(capsys, "plan", str(tmp_path / "sec"))
    assert code == 2 and "--vault-password-file" in err
    code, out, _ = run(capsys, "plan", str(tmp_path / "sec"), "--vault-password-file", str(password))
    assert code == 0 and json.loads(out)["site"] == "sec"
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password))
    code, out, _ = run(capsys, "explain", str(tmp_path / "sec"), "--host", "vms1", "--port", "443")
    assert code == 0 and "OPEN: port 443 on vms1" in out
    code, _, err = run(capsys, "plan", str(tmp_path / "sec"), "--vault-password-file", str(tmp_path / "nope"))
    assert code == 2 and "vault password file" in err


@needs_compiler
def test_explain_names_the_port_override_and_its_line(tmp_path, capsys):
    assert cli.main(["new-site", "ovr", "--product", "valerus", "--topology", "all_in_one",
                     "--dir", str(tmp_path)]) == 0
    main = tmp_path / "ovr" / "group_vars" / "all" / "main.yml"
    _public_address(tmp_path / "ovr")
    main.write_text(main.read_text() + "vms_port_overrides:\n  recorder_streaming:\n    port: 1554\n")
    lines = main.read_text().splitlines()
    capsys.readouterr()
    code, out, _ = run(capsys, "explain", str(tmp_path / "ovr"), "--host", "vms1", "--port", "1554")
    assert code == 0
    # the override's own line (issue 24 item 8: vms_deploy.inventory.variable_origins)
    assert (f"port changed from the catalog's 554 by vms_port_overrides.recorder_streaming.port = 1554 (set at "
            f"{main}:{lines.index('    port: 1554') + 1})") in out
    assert f"10.20.2.0/24 (zone clients, from vms_client_networks (vms1); set at {main}:" in out
