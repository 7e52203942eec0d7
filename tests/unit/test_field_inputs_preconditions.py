"""Issue 20 item 3: every precondition is checked before any host changes, by `vms-deploy plan` and by the
playbooks' own plan (playbooks/plan.yml, the same vms_plan action the prechecks run). Each case is an
inventory an integrator writes from `new-site` or an example."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vms_deploy import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "inventories" / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "hosts.yml").exists())
PUBLIC = "47.21.27.216"  # the public address the examples already use


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _playbook(site: Path, tmp_path: Path):
    cmd = ["ansible-playbook", "-i", str(site), str(ROOT / "playbooks" / "plan.yml"),
           "-e", f"vms_plan_dir={tmp_path / 'plan'}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    return proc.returncode, proc.stdout + proc.stderr


def _example(tmp_path: Path, name: str) -> Path:
    site = tmp_path / name
    shutil.copytree(EXAMPLES / name, site)
    return site


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _new_site(tmp_path, capsys, *args) -> Path:
    code, _, err = _run(capsys, "new-site", "s1", "--dir", tmp_path, *args)
    assert code == 0, err
    return tmp_path / "s1"


def _error_line(err: str, host: str, variable: str) -> str:
    line = next((ln for ln in err.splitlines() if f"host {host}: {variable} = " in ln), None)
    assert line is not None, err
    return line


# --- WinRM stays reachable ------------------------------------------------------------------------------
def test_a_windows_site_without_a_winrm_source_is_refused_before_any_host(tmp_path, capsys):
    site = _example(tmp_path, "valerus_all_in_one")
    _edit(site / "group_vars" / "all.yml", "vms_win_controller_address", "# vms_win_controller_address")
    code, _, err = _run(capsys, "plan", site)
    assert code == 2
    line = _error_line(err, "valerus1", "vms_management_networks")
    assert "WinRM" in line and "vms_win_controller_address" in line.split("Fix:", 1)[1]
    rc, out = _playbook(site, tmp_path)
    assert rc != 0 and "vms_management_networks" in out and "WinRM" in out


# --- Windows connection settings ------------------------------------------------------------------------
def test_a_windows_host_without_a_winrm_connection_is_refused_naming_it(tmp_path, capsys):
    site = _example(tmp_path, "valerus_all_in_one")
    _edit(site / "group_vars" / "windows.yml", "ansible_connection: winrm", "ansible_user: Administrator")
    code, _, err = _run(capsys, "plan", site)
    assert code == 2
    line = _error_line(err, "valerus1", "ansible_connection")
    assert "winrm" in line and "group_vars/windows.yml" in line
    rc, out = _playbook(site, tmp_path)
    assert rc != 0 and "ansible_connection" in out


def test_windows_connection_settings_in_group_vars_all_that_reach_the_linux_edge_are_refused(tmp_path, capsys):
    """What the old template said to do: the WinRM settings in group_vars/all also reach the Linux edge."""
    site = _example(tmp_path, "valerus_separate_recorders")
    (site / "group_vars" / "windows.yml").rename(site / "group_vars" / "all_connection.yml")
    with open(site / "group_vars" / "all.yml", "a", encoding="utf-8") as fh:
        fh.write((site / "group_vars" / "all_connection.yml").read_text().replace("---\n", ""))
    (site / "group_vars" / "all_connection.yml").unlink()
    code, _, err = _run(capsys, "plan", site)
    assert code == 2
    line = _error_line(err, "vedge", "ansible_connection")
    assert "Linux" in line and "group_vars/windows.yml" in line.split("Fix:", 1)[1]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_keeps_the_windows_connection_in_a_windows_group(name):
    hosts = yaml.safe_load((EXAMPLES / name / "hosts.yml").read_text())
    text = "".join(p.read_text() for p in sorted((EXAMPLES / name).rglob("*.yml")))
    windows = (hosts["all"]["children"].get("windows") or {}).get("hosts") or {}
    all_vars = (EXAMPLES / name / "group_vars" / "all.yml").read_text()
    assert "ansible_connection" not in all_vars
    if name.startswith("generic_nvr"):
        return  # NVR appliances: no Windows host
    assert windows, f"{name}: no windows group"
    assert "ansible_connection: winrm" in (EXAMPLES / name / "group_vars" / "windows.yml").read_text(), text


def test_new_site_puts_the_connection_in_a_windows_group(tmp_path, capsys):
    site = _new_site(tmp_path, capsys, "--product", "valerus", "--topology", "separate_app_server",
                     "--remote-access", "vpn")
    hosts = yaml.safe_load((site / "hosts.yml").read_text())
    windows = hosts["all"]["children"]["windows"]["hosts"]
    assert sorted(windows) == ["app1", "rec1"]  # not the Linux edge
    assert "ansible_connection" not in (site / "group_vars" / "all" / "main.yml").read_text()
    connection = yaml.safe_load((site / "group_vars" / "windows.yml").read_text())
    assert connection["ansible_connection"] == "winrm" and connection["ansible_port"] == 5986
    _edit(site / "hosts.yml", "vms_public_address: 100.64.0.10", f"vms_public_address: {PUBLIC}")
    code, _, err = _run(capsys, "plan", site)
    assert code == 0, err


# --- The public address ---------------------------------------------------------------------------------
def test_port_forwarding_with_a_gateway_and_no_public_address_is_an_error(tmp_path, capsys):
    site = _new_site(tmp_path, capsys, "--product", "valerus", "--topology", "all_in_one")
    main = site / "group_vars" / "all" / "main.yml"
    _edit(main, "vms_public_address: 100.64.0.10", "# vms_public_address: (not given)")
    code, _, err = _run(capsys, "plan", site)
    assert code == 2
    line = next(ln for ln in err.splitlines() if " vms_public_address = " in ln)
    assert "port_forward" in line and "router" in line


def test_the_unedited_template_public_address_is_an_error(tmp_path, capsys):
    site = _new_site(tmp_path, capsys, "--product", "valerus", "--topology", "all_in_one")
    code, _, err = _run(capsys, "plan", site)
    assert code == 2
    line = next(ln for ln in err.splitlines() if " vms_public_address = " in ln)
    assert "placeholder" in line and "new-site" in line


@pytest.mark.parametrize("address,kind", [("100.64.7.9", "CGNAT"), ("10.77.0.2", "private"),
                                          ("172.31.200.1", "private")])
def test_a_public_address_behind_another_nat_is_a_warning(tmp_path, capsys, address, kind):
    site = _new_site(tmp_path, capsys, "--product", "valerus", "--topology", "all_in_one")
    _edit(site / "group_vars" / "all" / "main.yml", "vms_public_address: 100.64.0.10", f"vms_public_address: {address}")
    code, out, err = _run(capsys, "plan", site)
    assert code == 0, err
    found = [w for w in json.loads(out)["warnings"] if "double NAT" in w["text"]]
    assert len(found) == 1 and kind in found[0]["text"] and address in found[0]["text"], found
    assert found[0]["group"] == "router"


def test_a_real_public_address_gives_no_double_nat_warning(tmp_path, capsys):
    site = _new_site(tmp_path, capsys, "--product", "valerus", "--topology", "all_in_one")
    _edit(site / "group_vars" / "all" / "main.yml", "vms_public_address: 100.64.0.10", f"vms_public_address: {PUBLIC}")
    code, out, err = _run(capsys, "plan", site)
    assert code == 0, err
    assert not [w for w in json.loads(out)["warnings"] if "double NAT" in w["text"]]


# --- Windows installer inputs: one rule for relative controller paths ------------------------------------
@pytest.mark.parametrize("variable", ["vms_win_xprotect_args_base", "vms_win_xprotect_license_file"])
def test_a_missing_installer_file_is_refused_by_the_plan_naming_the_path_it_looked_for(tmp_path, capsys, variable):
    site = _example(tmp_path, "xprotect_all_in_one")
    with open(site / "group_vars" / "all.yml", "a", encoding="utf-8") as fh:
        fh.write(f"{variable}: files/missing.xml\n")
    code, _, err = _run(capsys, "plan", site)
    assert code == 2
    line = _error_line(err, "xp1", variable)
    assert str(site / "files" / "missing.xml") in line and "inventory directory" in line


def test_a_relative_installer_file_is_found_next_to_the_inventory_from_any_directory(tmp_path, capsys, monkeypatch):
    site = _example(tmp_path, "xprotect_all_in_one")
    (site / "files").mkdir()
    (site / "files" / "Arguments.xml").write_text("<ArgumentsXmlV2/>\n")
    with open(site / "group_vars" / "all.yml", "a", encoding="utf-8") as fh:
        fh.write("vms_win_xprotect_args_base: files/Arguments.xml\n")
    monkeypatch.chdir(tmp_path)  # not the inventory directory
    code, _, err = _run(capsys, "plan", site)
    assert code == 0, err


def test_the_install_role_resolves_a_relative_file_by_the_same_rule():
    """roles/windows_install's defaults (read by its assert, lookup and win_copy) resolve against inventory_dir."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    defaults = DataLoader().load_from_file(str(ROOT / "roles" / "windows_install" / "defaults" / "main.yml"),
                                           trusted_as_template=True)
    for role_var, variable in (("windows_install_xprotect_args_base", "vms_win_xprotect_args_base"),
                               ("windows_install_xprotect_license_file", "vms_win_xprotect_license_file")):
        for given, expected in (("files/a.xml", "/srv/sites/hq/files/a.xml"), ("/abs/a.xml", "/abs/a.xml"), ("", "")):
            templar = Templar(loader=DataLoader(), variables={variable: given, "inventory_dir": "/srv/sites/hq"})
            assert templar.template(defaults[role_var]).strip() == expected
