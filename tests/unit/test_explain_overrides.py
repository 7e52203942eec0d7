"""Issue 24 item 8: `explain` names the override that changed a service's sources (and port), with its file
and line, instead of the catalog's connects_from.

The site is an example inventory copied and edited the way a user would: an override in host_vars and
one in group_vars. File and line come from the text the test itself wrote.
"""
from __future__ import annotations

import shutil

import pytest
import yaml
from conftest import EXAMPLES_DIR

from vms_deploy import cli
from vms_deploy.inventory import variable_origins

SERVICE = "mobile_http"  # xmobile's Mobile Server HTTP port; the catalog lets clients connect


@pytest.fixture()
def site(tmp_path):
    inv = tmp_path / "hq"
    shutil.copytree(EXAMPLES_DIR / "xprotect_distributed_dmz", inv)
    (inv / "host_vars").mkdir(exist_ok=True)
    (inv / "host_vars" / "xmobile.yml").write_text(
        "---\n# the operators' subnet only\nvms_port_overrides:\n  mobile_http:\n    connects_from:\n"
        "      - 10.50.2.128/25\n")
    return inv


def test_origin_lookup_finds_file_and_line(site):
    found = variable_origins(site, "xmobile", f"vms_port_overrides.{SERVICE}.connects_from")
    assert found == [f"{site}/host_vars/xmobile.yml:5"]
    assert variable_origins(site, "xmobile", "vms_port_overrides") == [f"{site}/host_vars/xmobile.yml:3"]
    assert variable_origins(site, "xrec1", "vms_port_overrides") == []
    # a site-wide variable: group_vars/all.yml, at the key's own line
    lines = (site / "group_vars" / "all.yml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("vms_client_networks:"))
    assert variable_origins(site, "xmgmt", "vms_client_networks") == [f"{site}/group_vars/all.yml:{line}"]


def test_host_vars_win_over_group_vars(site):
    (site / "group_vars" / "vms_gateways.yml").write_text(
        "---\nvms_port_overrides:\n  mobile_http:\n    connects_from: [clients]\n")
    found = variable_origins(site, "xmobile", f"vms_port_overrides.{SERVICE}.connects_from")
    assert found == [f"{site}/host_vars/xmobile.yml:5", f"{site}/group_vars/vms_gateways.yml:4"]


def test_explain_names_the_override(site, capsys):
    assert cli.main(["explain", str(site), "--host", "xmobile", "--port", "8081"]) == 0
    out = capsys.readouterr().out
    assert (f"sources set by vms_port_overrides.{SERVICE}.connects_from = ['10.50.2.128/25'] "
            f"(set at {site}/host_vars/xmobile.yml:5), not the catalog's connects_from") in out, out
    assert "10.50.2.128/25" in out and "10.50.2.0/24 (zone clients" not in out
    # the catalog's roles are named as replaced, not as the reason
    assert "catalog connects_from:" not in out


def test_explain_names_a_moved_port(site, capsys):
    (site / "host_vars" / "xmobile.yml").write_text(
        "---\nvms_port_overrides:\n  mobile_http:\n    port: 8181\n")
    assert cli.main(["explain", str(site), "--host", "xmobile", "--port", "8181"]) == 0
    out = capsys.readouterr().out
    assert f"port changed from the catalog's 8081 by vms_port_overrides.{SERVICE}.port = 8181 " \
           f"(set at {site}/host_vars/xmobile.yml:4)" in out, out


def test_plan_file_alone_says_it_cannot_tell(site, tmp_path, capsys):
    out_dir = tmp_path / "plan"
    assert cli.main(["plan", str(site), "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert cli.main(["explain", str(out_dir / "plan.json"), "--host", "xmobile", "--port", "8081"]) == 0
    out = capsys.readouterr().out
    assert "an override (vms_port_overrides) may have changed them: explain the inventory to see" in out, out
    assert yaml.safe_load((site / "host_vars" / "xmobile.yml").read_text())  # the test's own file is valid YAML
