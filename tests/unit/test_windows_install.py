"""Install, precheck and gateway decisions for Windows hosts (vms_deploy.render.windows_install)."""
from __future__ import annotations

import pytest

from vms_deploy.render import windows_install as wi
from vms_deploy.render.windows_firewall import WindowsFirewallError

SOURCE = r"\\files\vms"
PACKAGES = {
    "valerus_application_server": {"file": "app.exe", "arguments": "/S", "services": ["AppSvc"]},
    "valerus_recording_server": {"file": "rec.exe", "arguments": "/S", "services": ["RecSvc"],
                                 "product_id": "{1234}"},
    "valerus_internet_gateway": {"file": "gw.exe", "arguments": "/S", "services": ["GwSvc", "MediaSvc"]},
    "xprotect_management_server": {"file": "xp.exe", "arguments": "--quiet --arguments={args_file}",
                                   "services": ["MgmtSvc"]},
    "xprotect_recording_server": {"file": "xp.exe", "arguments": "--quiet --arguments={args_file}",
                                  "services": ["RecSvc"]},
    "xprotect_mobile_server": {"file": "xp.exe", "arguments": "--quiet --arguments={args_file}",
                               "services": ["MobileSvc"]},
}


def plan(product="valerus", components=("app_server", "recorder"), inbound=None):
    inbound = inbound if inbound is not None else [
        {"protocol": "tcp", "ports": [443, 443], "sources": ["10.1.0.0/24"], "component": "app_server",
         "service": "app_web_https", "purpose": "web"},
        {"protocol": "tcp", "ports": [5986, 5986], "sources": ["10.9.0.0/24"], "component": "management",
         "service": "management", "purpose": "WinRM"},
    ]
    return {"product": product, "hosts": {
        "w1": {"address": "10.0.0.10", "platform": "windows", "components": list(components), "inbound": inbound},
        "app": {"address": "10.0.0.2", "platform": "windows", "components": ["app_server"], "inbound": []},
    }}


def test_valerus_all_in_one_installs_each_component_with_idempotence_keys():
    result = wi.install_plan(plan(), "w1", PACKAGES, SOURCE)
    assert result["components"] == ["valerus_application_server", "valerus_recording_server"]
    assert result["features"] == ["Web-Mgmt-Console", "Web-Server"]
    app, rec = (p["params"] for p in result["packages"])
    assert app == {"path": r"\\files\vms\app.exe", "arguments": "/S", "state": "present",
                   "expected_return_code": [0, 3010, 1641], "creates_service": "AppSvc"}
    assert rec["product_id"] == "{1234}" and "creates_service" not in rec
    assert [s["name"] for s in result["services"]] == ["AppSvc", "RecSvc"]
    assert all(s["start_mode"] == "auto" and s["state"] == "started" for s in result["services"])


def test_recorder_only_host_needs_no_iis():
    assert wi.install_plan(plan(components=["recorder"]), "w1", PACKAGES, SOURCE)["features"] == []


def test_xprotect_is_one_installer_run_with_the_arguments_file():
    p = plan("xprotect", ["app_server", "gateway", "data_collector", "sql_server"])
    result = wi.install_plan(p, "w1", PACKAGES, "https://files.example.internal/xp/", args_file=r"C:\a.xml")
    assert result["components"] == ["xprotect_management_server", "xprotect_mobile_server"]
    assert result["not_installed"] == ["sql_server"]  # data_collector comes with every XProtect server
    assert len(result["packages"]) == 1
    params = result["packages"][0]["params"]
    assert params["path"] == "https://files.example.internal/xp/xp.exe"
    assert params["arguments"] == r"--quiet --arguments=C:\a.xml"
    assert result["packages"][0]["components"] == result["components"]


def test_missing_vendor_facts_are_named_not_guessed():
    with pytest.raises(WindowsFirewallError) as err:
        wi.install_plan(plan(), "w1", {"valerus_application_server": {"file": "a.exe"}}, SOURCE)
    msg = str(err.value)
    assert "w1" in msg and "vms_win_packages.valerus_application_server.arguments" in msg
    assert "vms_win_packages.valerus_recording_server.file" in msg and "docs/windows.md" in msg


@pytest.mark.parametrize("source,problem", [
    ("", "nowhere to install from"),
    ("http://files/vms", "plain http"),
    ("C:/local", "neither a UNC path"),
])
def test_installer_source_is_checked(source, problem):
    with pytest.raises(WindowsFirewallError, match=problem) as err:
        wi.install_plan(plan(), "w1", PACKAGES, source)
    assert "vms_win_installer_source" in str(err.value)


def test_host_without_installable_components_needs_no_source():
    result = wi.install_plan(plan(components=["edge"]), "w1", {}, "")
    assert result["packages"] == [] and result["services"] == []


def test_reboot_codes():
    assert wi.needs_reboot(3010) and wi.needs_reboot(1641) and not wi.needs_reboot(0)


def test_port_checks_skip_winrm():
    checks = wi.port_checks(plan(), "w1")
    assert [(c["protocol"], c["first"]) for c in checks] == [("tcp", 443)]


def test_port_taken_by_another_program_is_a_conflict_with_a_fix():
    listeners = [{"protocol": "tcp", "port": 443, "pid": 777, "process": "nginx"},
                 {"protocol": "tcp", "port": 5986, "pid": 4, "process": "System"}]
    problems = wi.port_conflicts(plan(), "w1", listeners, [], PACKAGES)
    assert len(problems) == 1
    assert "host w1" in problems[0] and "443" in problems[0] and "nginx" in problems[0] and "Fix:" in problems[0]


def test_port_held_by_the_installed_product_is_not_a_conflict():
    listeners = [{"protocol": "tcp", "port": 443, "pid": 900, "process": "Valerus"}]
    assert wi.port_conflicts(plan(), "w1", listeners, ["AppSvc"], PACKAGES) == []


def test_http_sys_on_an_iis_component_port_is_expected():
    listeners = [{"protocol": "tcp", "port": 443, "pid": 4, "process": "System"}]
    assert wi.port_conflicts(plan(), "w1", listeners, [], PACKAGES) == []
    # ... but not on a port of a non-IIS component
    rec = plan(components=["recorder"], inbound=[
        {"protocol": "tcp", "ports": [554, 554], "sources": ["10.1.0.0/24"], "component": "recorder",
         "service": "recorder_streaming", "purpose": "rtsp"}])
    assert wi.port_conflicts(rec, "w1", [{"protocol": "tcp", "port": 554, "pid": 4, "process": "System"}],
                             [], PACKAGES)


def test_udp_listener_does_not_conflict_with_a_tcp_port():
    assert wi.port_conflicts(plan(), "w1", [{"protocol": "udp", "port": 443, "pid": 9, "process": "x"}],
                             [], PACKAGES) == []


def test_version_disk_and_feature_problems():
    assert wi.version_problem("w1", "10.0.20348.0", "10.0.17763") is None
    assert "older than" in wi.version_problem("w1", "6.3.9600.0", "10.0.17763")
    assert "could not read" in wi.version_problem("w1", "", "10.0.17763")
    assert wi.disk_problem("w1", "D:", 500 * 1024 ** 3, 100) is None
    assert "vms_win_recording_min_free_gb" in wi.disk_problem("w1", "D:", 5 * 1024 ** 3, 100)
    assert "does not exist" in wi.disk_problem("w1", "Q:", None, 100)
    assert wi.feature_problems("w1", ["Web-Server"], {"Web-Server": False}, manage=True) == []
    assert "vms_win_manage_features" in wi.feature_problems("w1", ["Web-Server"], {}, manage=False)[0]


def test_port_changes_say_how_the_product_allows_them():
    moved = plan("valerus", ["gateway"], inbound=[
        {"protocol": "tcp", "ports": [9180, 9180], "sources": ["10.1.0.0/24"], "component": "gateway",
         "service": "gateway_http", "purpose": "web"},
        {"protocol": "tcp", "ports": [9081, 9081], "sources": ["10.1.0.0/24"], "component": "gateway",
         "service": "gateway_streaming", "purpose": "stream"}])
    changes = wi.port_changes(moved, "w1")
    assert [(c["service"], c["default"], c["planned"]) for c in changes] == [("gateway_http", "9080", "9180")]
    assert "Vicon technical support" in changes[0]["how"]
    msg = wi.port_change_messages("w1", changes)[0]
    assert "vms_win_port_changes_confirmed" in msg and "host w1" in msg


def test_xprotect_matrix_port_change_points_at_the_management_client():
    moved = plan("xprotect", ["app_server"], inbound=[
        {"protocol": "tcp", "ports": [12346, 12346], "sources": ["10.1.0.0/24"], "component": "app_server",
         "service": "mgmt_matrix", "purpose": "matrix"}])
    assert "Management Client" in wi.port_changes(moved, "w1")[0]["how"]


def test_gateway_registration_is_a_manual_step_with_exact_values():
    gw = plan("valerus", ["gateway"], inbound=[
        {"protocol": "tcp", "ports": [9080, 9080], "sources": ["10.0.0.2/32"], "component": "gateway",
         "service": "gateway_http", "purpose": "web"},
        {"protocol": "tcp", "ports": [9081, 9081], "sources": ["10.0.0.2/32"], "component": "gateway",
         "service": "gateway_streaming", "purpose": "stream"}])
    reg = wi.gateway_registration(gw, "w1")
    assert reg["app_server"] == "app" and reg["address"] == "10.0.0.10"
    assert [c["port"] for c in reg["checks"]] == [9080, 9081]
    for text in ("Configuration > System > Internet Gateway", "10.0.0.10", "port: 9080", "vms_win_gateway_registered"):
        assert text in reg["manual_step"]


def test_gateway_without_application_server_is_an_error():
    gw = plan("valerus", ["gateway"])
    del gw["hosts"]["app"]
    with pytest.raises(WindowsFirewallError, match="vms_app_servers"):
        wi.gateway_registration(gw, "w1")


def test_extra_recorder_instances_are_not_a_port_change():
    multi = plan("xprotect", ["recorder"], inbound=[
        {"protocol": "tcp", "ports": [9001, 9002], "sources": ["10.0.0.2/32"], "component": "recorder",
         "service": "rec_api", "purpose": "api"}])
    assert wi.port_changes(multi, "w1") == []
