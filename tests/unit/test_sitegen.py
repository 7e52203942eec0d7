"""new-site: every product/topology/remote-access combination writes a lint-clean inventory that compiles."""
from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vms_deploy import cli
from vms_deploy.sitegen import (
    PRODUCTS,
    REMOTE_ACCESS,
    TOPOLOGIES,
    SiteGenError,
    new_site,
    render_site,
)

ROOT = Path(__file__).resolve().parents[2]
COMBINATIONS = [c for c in itertools.product(PRODUCTS, TOPOLOGIES, REMOTE_ACCESS)
                if not (c[0] == "generic_nvr" and c[1] == "separate_app_server")]


@pytest.mark.parametrize("product,topology,remote", COMBINATIONS)
def test_generated_site_compiles_to_the_asked_topology(tmp_path, product, topology, remote):
    pytest.importorskip("vms_deploy.inventory", reason="needs the inventory loader")
    from vms_deploy.inventory import load_inventory
    from vms_deploy.pipeline import compile_plan

    written = new_site("s1", product, topology, str(tmp_path), remote_access=remote)
    # The one edit a site needs before it plans: the placeholder public address (issue 20 item 3).
    for path in written:
        text = Path(path).read_text()
        Path(path).write_text(text.replace("vms_public_address: 100.64.0.10", "vms_public_address: 47.21.27.216"))
    plan = compile_plan(load_inventory(str(tmp_path / "s1")))
    assert (plan["site"], plan["product"], plan["topology"], plan["remote_access"]) == ("s1", product, topology, remote)
    if remote == "port_forward":
        assert plan["forwards"], "a port_forward site must produce a router sheet"
    if remote == "vpn":
        assert plan["vpn"] and plan["vpn"]["peers"]


@pytest.mark.parametrize("product,topology,remote", COMBINATIONS)
def test_generated_files_are_valid_yaml(product, topology, remote):
    files = render_site("s1", product, topology, remote)
    windows = {"group_vars/windows.yml"} if product != "generic_nvr" else set()  # the Windows hosts' connection
    assert set(files) == {"hosts.yml", "group_vars/all/main.yml", "group_vars/all/vault.yml", "README.md"} | windows
    hosts = yaml.safe_load(files["hosts.yml"])
    main = yaml.safe_load(files["group_vars/all/main.yml"])
    assert main["vms_product"] == product and main["vms_site"] == "s1" and main["vms_remote_access"] == remote
    groups = hosts["all"]["children"]
    assert "vms_recorders" in groups
    assert ("vms_app_servers" in groups) is (product != "generic_nvr")
    assert yaml.safe_load(files["group_vars/all/vault.yml"]) is None  # comments only: every line uncomments
    assert "ansible-vault encrypt" in files["group_vars/all/vault.yml"]


def test_generated_files_pass_yamllint(tmp_path):
    for product, topology, remote in [("valerus", "all_in_one", "port_forward"), ("xprotect", "separate_recorders",
                                                                                  "vpn"),
                                      ("generic_nvr", "separate_recorders", "port_forward")]:
        new_site(f"{product}-{remote}", product, topology, str(tmp_path), remote_access=remote)
    proc = subprocess.run([sys.executable, "-m", "yamllint", "-c", str(ROOT / ".yamllint"), "-s", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_refuses_to_overwrite(tmp_path, capsys):
    args = ["new-site", "hq", "--product", "valerus", "--topology", "all_in_one", "--dir", str(tmp_path)]
    assert cli.main(args) == 0
    assert "next: edit" in capsys.readouterr().out
    assert cli.main(args) == 2
    assert "already has hosts.yml" in capsys.readouterr().err
    assert cli.main(args + ["--force"]) == 0


@pytest.mark.parametrize("name,product,topology,message", [
    ("bad name", "valerus", "all_in_one", "site name 'bad name' is not usable"),
    ("-x", "valerus", "all_in_one", "is not usable"),
    ("ok", "generic_nvr", "separate_app_server", "does not apply to generic_nvr"),
    ("ok", "avigilon", "all_in_one", "--product 'avigilon' is not supported"),
])
def test_bad_arguments(tmp_path, name, product, topology, message):
    with pytest.raises(SiteGenError, match=message):
        new_site(name, product, topology, str(tmp_path))
    assert not any(tmp_path.iterdir())


def test_cli_rejects_unknown_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["new-site", "x", "--product", "avigilon", "--topology", "all_in_one"])
    assert exc.value.code == 2
    assert "invalid choice: 'avigilon'" in capsys.readouterr().err
