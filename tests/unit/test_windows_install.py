"""Install, precheck and gateway decisions for Windows hosts (vms_deploy.render.windows_install)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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
                   "expected_return_code": [0, 3010, 1641], "creates_service": "AppSvc",
                   "wait_for_children": True}  # issue 14 item 4: bootstrappers exit before their child setup
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


# --- issue 14 -----------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
XP = {k: {kk: vv for kk, vv in v.items() if kk != "arguments"} for k, v in PACKAGES.items() if k.startswith("xprotect")}


def test_xprotect_default_command_line_ships_the_licence_next_to_the_arguments_file():
    p = plan("xprotect", ["recorder", "data_collector"])
    result = wi.install_plan(p, "w1", XP, SOURCE, license_file="/srv/site/milestone.lic")
    package = result["packages"][0]
    assert package["params"]["arguments"] == (r"--quiet --license=C:\ProgramData\vms-deploy\milestone.lic "
                                              r"--arguments=C:\ProgramData\vms-deploy\xprotect-arguments.xml")
    assert package["license_src"] == "/srv/site/milestone.lic"
    assert package["private_dir"] == r"C:\ProgramData\vms-deploy"
    with pytest.raises(WindowsFirewallError, match="vms_win_xprotect_license_file"):
        wi.install_plan(p, "w1", XP, SOURCE)


@pytest.mark.parametrize("result,action", [
    ({"rc": 0}, "none"), ({"rc": 3010, "reboot_required": True}, "reboot"), ({"rc": 0, "reboot_required": True},
                                                                             "reboot"),
    ({"rc": 1641, "reboot_required": False}, "wait"),  # win_package.ps1 sets reboot_required only for 3010
    ({"skipped": True}, "none"), (None, "none"),
])
def test_reboot_action(result, action):
    assert wi.reboot_action(result) == action


def test_restart_check_needs_a_new_boot_time():
    assert wi.restart_check("w1", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z") is None
    assert "exited 1641" in wi.restart_check("w1", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")


def test_only_missing_packages_are_installed_so_nothing_is_downloaded_for_the_rest():
    p = plan(components=["app_server", "recorder", "gateway"])
    install = wi.install_plan(p, "w1", PACKAGES, "https://files/vms/")
    todo = wi.packages_to_install(install, {"services": ["appsvc"], "products": []})
    assert [t["components"] for t in todo] == [["valerus_internet_gateway"], ["valerus_recording_server"]]
    assert wi.packages_to_install(install, {"services": ["AppSvc", "GwSvc"], "products": ["{1234}"]}) == []
    assert wi.installed_probe(install) == {"Services": ["AppSvc", "GwSvc", "MediaSvc", "RecSvc"],
                                           "ProductIds": ["{1234}"]}
    xp = wi.install_plan(plan("xprotect", ["app_server", "gateway"]), "w1", XP, SOURCE, license_file="x.lic")
    [left] = wi.packages_to_install(xp, {"services": ["MgmtSvc"]})
    assert left["params"]["creates_service"] == "MobileSvc"


def test_services_keep_a_vendors_delayed_start():
    infos = [{"item": {"component": "c", "name": "A"}, "exists": True, "services": [{"start_mode": "delayed"}]},
             {"item": {"component": "c", "name": "B"}, "exists": True, "services": [{"start_mode": "manual"}]},
             {"item": {"component": "c", "name": "C"}, "exists": False, "services": []}]
    assert [(s["name"], s["start_mode"]) for s in wi.service_params(infos)] == [
        ("A", "delayed"), ("B", "auto"), ("C", "auto")]  # C: win_service then says it was not installed
    assert [s["name"] for s in wi.service_params(infos, check_mode=True)] == ["A", "B"]


def _tasks(path: Path) -> list[dict]:
    out = []
    for task in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        out.append(task)
        for key in ("block", "rescue", "always"):
            out += task.get(key, [])
    return out


def test_installers_run_through_become_runas_and_never_download_in_check_mode():
    """Issue 14 item 4: a plain WinRM logon has no delegation, DPAPI or Windows Update API."""
    tasks = [t for f in sorted((ROOT / "roles" / "windows_install" / "tasks").glob("*.yml")) for t in _tasks(f)]
    installers = [t for t in tasks if "ansible.windows.win_package" in t]
    assert len(installers) == 2
    for task in installers:
        assert task.get("become") is True and task.get("become_method") == "ansible.builtin.runas", task["name"]
        assert task.get("become_user") == "{{ windows_install_become_user }}", task["name"]
    defaults = yaml.safe_load((ROOT / "roles" / "windows_install" / "defaults" / "main.yml").read_text())
    assert "default('SYSTEM')" in defaults["windows_install_become_user"]
    includes = {t["name"]: t for t in _tasks(ROOT / "roles" / "windows_install" / "tasks" / "main.yml")
                if t.get("ansible.builtin.include_tasks") in ("xprotect.yml", "valerus.yml")}
    assert len(includes) == 2
    for task in includes.values():
        assert "not ansible_check_mode" in task["when"], task["name"]


def test_exit_code_1641_waits_instead_of_rebooting_again():
    tasks = {t["name"]: t for t in _tasks(ROOT / "roles" / "windows_install" / "tasks" / "reboot.yml")}
    assert tasks["Controlled reboot"]["when"] == "windows_install_reboot_action == 'reboot'"
    wait = tasks["Wait for the restart the installer started, then check it happened"]
    assert wait["when"] == "windows_install_reboot_action == 'wait'"
    assert [next(k for k in t if "." in k) for t in wait["block"]] == [
        "ansible.builtin.wait_for_connection", "ansible.windows.win_powershell", "ansible.builtin.assert"]


def test_requirements_ask_for_ansible_windows_3_1():
    """win_powershell's path: option (used for every script) needs ansible.windows 3.1."""
    from ansible.module_utils.compat.version import LooseVersion
    reqs = {c["name"]: c["version"] for c in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
    spec = reqs["ansible.windows"]
    assert spec.startswith(">=") and LooseVersion(spec[2:]) >= LooseVersion("3.1.0"), spec
