"""Every warning once, where it belongs (issue 24 item 3): groups, fixes, the plan file, old plans.

The expectations: the issue's cityhall case (an XProtect site whose Mobile Server is in a DMZ that no
managed edge separates, with WinRM certificate validation off and the deprecated SMTP events on:
tests/fixtures/inventories/cityhall), the schema in docs/architecture.md, pywinrm's and the psrp
plugin's own lists of validation modes, and the reviewed-plan rule of DEVELOPERS.md (a reviewed
plan file applies as is).
"""
from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, ROOT, example, nvr_home, plan_of

from vms_deploy import cli, plan_io, plan_warnings
from vms_deploy.connection_checks import WEAK
from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.render import firewall_request, port_matrix, router_sheet
from vms_deploy.report.html import render_html

CITYHALL = ROOT / "tests" / "fixtures" / "inventories" / "cityhall"
OLD_PLANS = ROOT / "tests" / "fixtures" / "plans"


@pytest.fixture(scope="module")
def cityhall() -> dict:
    return plan_of(load_inventory(CITYHALL))


def _texts(plan: dict, group: str) -> list[str]:
    return [w["text"] for w in plan["warnings"] if w["group"] == group]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_warning_has_a_group_a_text_and_a_fix(name):
    plan = plan_of(example(name))
    for entry in plan["warnings"]:
        assert set(entry) == {"group", "text", "fix"}, entry
        assert entry["group"] in plan_warnings.GROUPS and entry["text"] and entry["fix"], entry
    assert plan["warnings"] == plan_warnings.merged(plan["warnings"])  # once each, in the plan's order


def test_the_cityhall_warnings_are_all_there_each_in_its_group(cityhall):
    host = _texts(cityhall, "host")
    assert any("ansible_winrm_server_cert_validation is ignore" in t and "ms1" in t for t in host), host
    firewall = _texts(cityhall, "firewall")
    assert any(t.startswith("zone boundary dmz -> servers is not enforced") for t in firewall), firewall
    site = _texts(cityhall, "site")
    assert any("SMTP on tcp 25" in t and "unencrypted" in t and "rec1, rec2" in t for t in site), site
    router = _texts(cityhall, "router")
    assert any("vms_remote_allowlist is 0.0.0.0/0" in t for t in router), router


def test_an_open_feature_port_never_reads_disabled_by_default(cityhall):
    """The rows of a switched-on feature said "disabled by default" (issue 24 item 3)."""
    smtp = [r for r in cityhall["hosts"]["rec1"]["inbound"] if r["service"] == "rec_smtp"]
    assert smtp and "disabled by default" not in smtp[0]["purpose"] and "smtp_events" in smtp[0]["purpose"]
    catalog = yaml.safe_load((ROOT / "src/vms_deploy/catalogs/xprotect.yml").read_text())
    purposes = [svc["purpose"] for comp in catalog["components"].values() for svc in comp["services"].values()
                if svc.get("feature")]
    assert purposes and not [p for p in purposes if "disabled by default" in p]


def test_the_weak_values_are_the_ones_the_connection_plugins_do_not_verify():
    """pywinrm's Transport takes validate or ignore (and verifies only with validate); Ansible's psrp
    plugin documents the same two choices: ignore is the weak one in both."""
    from winrm.transport import Transport

    annotation = inspect.signature(Transport.__init__).parameters["server_cert_validation"].annotation
    if isinstance(annotation, str):
        annotation = typing.get_type_hints(Transport.__init__)["server_cert_validation"]
    modes = {a for arg in typing.get_args(annotation) for a in (typing.get_args(arg) or (arg,)) if isinstance(a, str)}
    assert modes == {"validate", "ignore"}
    assert WEAK["ansible_winrm_server_cert_validation"][0] == (modes - {"validate"}).pop()
    from ansible.plugins.connection import psrp

    doc = yaml.safe_load(psrp.DOCUMENTATION)
    assert set(doc["options"]["cert_validation"]["choices"]) == {"validate", "ignore"}
    assert WEAK["ansible_psrp_cert_validation"][0] == "ignore"


def test_validated_connections_and_strong_sites_do_not_warn_about_them(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "hosts.yml").write_text((CITYHALL / "hosts.yml").read_text())
    (site / "group_vars").mkdir()
    text = (CITYHALL / "group_vars" / "all.yml").read_text().replace("validation: ignore", "validation: validate")
    (site / "group_vars" / "all.yml").write_text(text)
    plan = compile_plan(load_inventory(site))
    assert not [t for t in _texts(plan, "host") if "cert_validation" in t]


def test_each_document_carries_the_warnings_of_its_readers(cityhall):
    """Router sheet: the router's only. Firewall request: the firewall's. Port matrix: hosts and
    site. Report: every one."""
    sheet = router_sheet.to_markdown(cityhall)
    assert "vms_remote_allowlist is 0.0.0.0/0" in sheet
    for other in ("ansible_winrm", "SMTP", "zone boundary"):
        assert other not in sheet
    request = firewall_request.to_markdown(cityhall)
    assert "ansible_winrm" not in request and "vms_remote_allowlist is 0.0.0.0/0" not in request
    matrix = port_matrix.render(cityhall)
    assert "ansible_winrm_server_cert_validation" in matrix and "SMTP on tcp 25" in matrix
    assert "zone boundary" not in matrix and "vms_remote_allowlist is 0.0.0.0/0" not in matrix
    page = render_html(cityhall, None)
    for entry in cityhall["warnings"]:
        assert page.count(_html(entry["text"])) == 1, entry["text"]
        assert _html(entry["fix"]) in page


def _html(text: str) -> str:
    from html import escape

    return escape(text)


def test_a_weak_password_warning_stays_off_the_router_sheet(tmp_path):
    """Issue 21 section 3: router.md carried Windows password warnings that have nothing to do with the router."""
    site = tmp_path / "site"
    site.mkdir()
    for path in (ROOT / "inventories/examples/generic_nvr_home").rglob("*"):
        target = site / path.relative_to(ROOT / "inventories/examples/generic_nvr_home")
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.write_text(path.read_text())
    with open(site / "group_vars" / "all.yml", "a", encoding="utf-8") as handle:
        handle.write("ansible_password: admin123\n")
    plan = compile_plan(load_inventory(site))
    assert any("ansible_password" in t for t in _texts(plan, "host"))
    assert "password" not in router_sheet.to_markdown(plan)
    assert "UPnP" in router_sheet.to_markdown(plan)


def test_a_reviewed_plan_file_applies_as_is(cityhall, tmp_path):
    plan_io.write_plan_outputs(cityhall, tmp_path)
    reviewed = plan_io.load_plan_file(tmp_path / "plan.json")
    assert reviewed["warnings"] == cityhall["warnings"]
    assert plan_io.plan_differences(reviewed, compile_plan(load_inventory(CITYHALL))) == []


def test_a_changed_warning_is_named_when_the_reviewed_plan_is_checked(cityhall):
    older = json.loads(plan_io.plan_json(cityhall))
    older["warnings"] = [w for w in older["warnings"] if "SMTP" not in w["text"]] + ["an old plan's plain warning"]
    lines = plan_io.plan_differences(older, cityhall)
    assert "- warning resolved: an old plan's plain warning" in lines
    assert [x for x in lines if x.startswith("+ new warning: site: rec1, rec2: SMTP on tcp 25")
            and "Fix: remove smtp_events" in x], lines
    assert "~ warnings differs" not in lines


def test_warnings_never_change_a_host_digest(cityhall):
    """Warnings are advice: a new warning must not rewrite a host (plan_io.host_part leaves them out)."""
    quiet = {**cityhall, "warnings": []}
    assert plan_io.host_digests(quiet) == plan_io.host_digests(cityhall)


@pytest.mark.parametrize("name", ["valerus_base.json", "valerus_changed.json"])  # the fixtures with warnings
def test_an_old_plan_with_plain_warnings_still_loads_and_renders(name, tmp_path):
    plan = plan_io.load_plan_file(OLD_PLANS / name)
    assert plan["warnings"] and all(isinstance(w, str) for w in plan["warnings"])
    assert [w["group"] for w in plan_warnings.of(plan)] == ["site"] * len(set(plan["warnings"]))
    page = render_html(plan, None)
    assert _html(plan["warnings"][0]) in page
    assert plan["warnings"][0] in port_matrix.render(plan)
    router_sheet.to_markdown(plan)
    firewall_request.to_markdown(plan)
    assert cli.main(["report", str(OLD_PLANS / name), "--out", str(tmp_path), "--no-picture"]) == 0


def test_the_cli_prints_each_warning_with_its_group_and_fix(capsys, tmp_path):
    assert cli.main(["plan", str(CITYHALL), "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert ("warning: router: vms_remote_allowlist is 0.0.0.0/0: the forwarded ports are open to the whole "
            "Internet. Fix: restrict vms_remote_allowlist") in err
    assert "{'group'" not in err


def test_plan_json_writes_one_warning_per_line(cityhall):
    text = plan_io.plan_json(cityhall)
    lines = [ln for ln in text.splitlines() if '"group": ' in ln]
    assert len(lines) == len(cityhall["warnings"]) and all(ln.strip().startswith('{"fix": ') for ln in lines)


def test_port_forwarding_without_a_public_address_is_the_routers_warning():
    plan = plan_of(nvr_home(vms_public_address=None))
    assert any("no router forwards were computed" in t for t in _texts(plan, "router")), plan["warnings"]


def test_the_documents_schema_names_the_groups():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert '"warnings": [{"group": "site | host | router | firewall", "text":' in doc
    assert Path(plan_warnings.__file__).name in doc
