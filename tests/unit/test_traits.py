"""Product traits (issue 16, item 1): catalogs declare them, the loader refuses bad ones, the plan records
them and every decision that differed by product name now follows a trait.

The expectations come from the catalogs' own traits and the seed facts they record (Valerus: per-component
installers, the "Valerus Web Proxy" IIS site, the Internet Gateway registered in the Application Server;
XProtect: one System Installer run with an arguments file, Server Configurator; a generic NVR: nothing on
Windows), not from the code under test.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from vms_deploy import catalog
from vms_deploy.catalog import PRODUCTS, TRAITS, CatalogError, load_catalog, plan_traits
from vms_deploy.render import nginx
from vms_deploy.render import windows_certificates as wc
from vms_deploy.render import windows_install as wi
from vms_deploy.render.windows_firewall import WindowsFirewallError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins" / "filter"))
import vms_plan as plan_filters  # noqa: E402 - the Ansible filter plugin, imported as a module via the sys.path entry above

SOURCE = r"\\files\vms"
PACKAGES = {
    "valerus_application_server": {"file": "app.exe", "arguments": "/S", "services": ["AppSvc"]},
    "valerus_recording_server": {"file": "rec.exe", "arguments": "/S", "services": ["RecSvc"]},
    "xprotect_management_server": {"file": "xp.exe", "services": ["MgmtSvc"]},
    "xprotect_recording_server": {"file": "xp.exe", "services": ["XRecSvc"]},
}


def _plan(product, components=("app_server", "recorder"), inbound=(), platform="windows", traits=None):
    plan = {"product": product, "site": "t", "hosts": {
        "h1": {"address": "10.0.0.10", "platform": platform, "components": list(components), "inbound": list(inbound)},
        "app": {"address": "10.0.0.2", "platform": platform, "components": ["app_server"], "inbound": []},
    }}
    if traits is not None:
        plan["traits"] = traits
    return plan


def _rule(service, port, component="gateway"):
    return {"protocol": "tcp", "ports": [port, port], "sources": ["10.1.0.0/24"], "component": component,
            "service": service, "purpose": "p"}


# --- the catalogs and their loader ------------------------------------------------------------------

def test_every_catalog_declares_every_trait_with_an_allowed_value():
    for product in PRODUCTS:
        traits = load_catalog(product).traits
        assert set(traits) == set(TRAITS), product
        for name, allowed in TRAITS.items():
            assert allowed is None or traits[name] in allowed, (product, name)


def test_the_catalogs_record_how_each_product_installs_binds_and_proxies():
    # Seed facts (docs/windows.md, docs/tls.md): what sets each product apart.
    want = {"valerus": ("packages", "iis_site", "nginx", "manual"),
            "xprotect": ("arguments_file", "server_configurator", "none", "none"),
            "generic_nvr": ("none", "none", "none", "none")}
    for product, values in want.items():
        t = load_catalog(product).traits
        assert (t["windows_installer"], t["certificate_binding"], t["gateway_proxy"],
                t["gateway_registration"]) == values


def _raw(product="valerus"):
    import yaml
    return yaml.safe_load((catalog.CATALOG_DIR / f"{product}.yml").read_text(encoding="utf-8"))


def test_an_unknown_trait_value_is_refused_naming_the_trait_value_and_choices():
    raw = _raw()
    raw["traits"]["windows_installer"] = "msi"
    with pytest.raises(CatalogError, match=r"catalog valerus: trait windows_installer is 'msi'; it must be one of "
                                           r"packages, arguments_file, none"):
        catalog._traits("valerus", raw)


def test_a_missing_or_unknown_trait_is_refused():
    raw = _raw()
    del raw["traits"]["certificate_binding"]
    raw["traits"]["colour"] = "blue"
    with pytest.raises(CatalogError, match=r"missing \['certificate_binding'\] or unknown \['colour'\]"):
        catalog._traits("valerus", raw)


def test_new_site_snippets_are_checked_against_the_catalog():
    raw = _raw("generic_nvr")
    services = set(load_catalog("generic_nvr").services())
    traits = load_catalog("generic_nvr").traits
    assert catalog._new_site("generic_nvr", raw, services, traits)["forwarded_services"] == ["nvr_https"]
    raw["new_site"]["forwarded_services"] = ["nvr_htps"]
    with pytest.raises(CatalogError, match=r"names no service \['nvr_htps'\]"):
        catalog._new_site("generic_nvr", raw, services, traits)
    raw["new_site"]["forwarded_services"] = []
    with pytest.raises(CatalogError, match="exactly when the forwarding trait is listed_services"):
        catalog._new_site("generic_nvr", raw, services, traits)


def test_plan_traits_prefers_the_plan_and_falls_back_to_the_catalog():
    assert plan_traits({"product": "xprotect"}) == load_catalog("xprotect").traits
    assert plan_traits({"product": "xprotect", "traits": {"gateway_proxy": "nginx"}}) == {"gateway_proxy": "nginx"}
    assert plan_traits({"product": "nosuch"}) == {}


def test_the_compiled_plan_records_the_catalog_traits():
    from vms_deploy.inventory import load_inventory
    from vms_deploy.pipeline import compile_plan
    plan = compile_plan(load_inventory(str(ROOT / "inventories" / "examples" / "xprotect_all_in_one")))
    assert plan["traits"] == load_catalog("xprotect").traits


# --- Windows install: dispatch on windows_installer ------------------------------------------------

def test_packages_installer_runs_one_package_per_component():
    result = wi.install_plan(_plan("valerus"), "h1", PACKAGES, SOURCE)
    assert result["installer"] == "packages"
    assert [p["components"] for p in result["packages"]] == [["valerus_application_server"],
                                                             ["valerus_recording_server"]]


def test_arguments_file_installer_runs_once_for_every_component_and_lists_its_private_files():
    result = wi.install_plan(_plan("xprotect"), "h1", PACKAGES, SOURCE, license_file="/ctl/site.lic")
    assert result["installer"] == "arguments_file"
    (package,) = result["packages"]
    assert package["components"] == ["xprotect_management_server", "xprotect_recording_server"]
    assert package["private_files"] == [wi.DEFAULT_ARGS_FILE, r"C:\ProgramData\vms-deploy\site.lic"]


def test_the_installer_follows_the_trait_not_the_product_name():
    traits = dict(load_catalog("valerus").traits, windows_installer="arguments_file")
    packages = {k: {kk: vv for kk, vv in v.items() if kk != "arguments"} for k, v in PACKAGES.items()}
    result = wi.install_plan(_plan("valerus", traits=traits), "h1", packages, SOURCE, license_file="l.lic")
    assert len(result["packages"]) == 1 and result["packages"][0]["args_file"] == wi.DEFAULT_ARGS_FILE


def test_an_installer_no_renderer_knows_is_refused_naming_the_product():
    traits = dict(load_catalog("valerus").traits, windows_installer="msi")
    with pytest.raises(WindowsFirewallError, match=r"vms_product.*windows_installer 'msi'"):
        wi.install_plan(_plan("valerus", traits=traits), "h1", PACKAGES, SOURCE)


def test_packages_to_install_reruns_the_single_installer_for_any_missing_service():
    install = wi.install_plan(_plan("xprotect"), "h1", PACKAGES, SOURCE, license_file="l.lic")
    assert wi.packages_to_install(install, {"services": ["MgmtSvc", "XRecSvc"]}) == []
    (todo,) = wi.packages_to_install(install, {"services": ["MgmtSvc"]})
    assert todo["params"]["creates_service"] == "XRecSvc"
    assert wi.packages_to_install({"packages": []}, {}) == []  # nothing planned, no probe result


def test_iis_follows_the_iis_site_binding_for_the_web_player():
    web = [_rule("web_player_https", 3001)]
    assert wi.host_summary(_plan("valerus", ("gateway",), web), "h1")["features"] == ["Web-Mgmt-Console", "Web-Server"]
    assert wi.host_summary(_plan("valerus", ("gateway",)), "h1")["features"] == []
    traits = dict(load_catalog("valerus").traits, certificate_binding="none")
    assert wi.host_summary(_plan("valerus", ("gateway",), web, traits=traits), "h1")["features"] == []


def test_windows_packages_iis_and_port_advice_come_from_the_catalog():
    assert wi.component_packages({"product": "generic_nvr"}) == {}
    assert wi.component_packages({"product": "valerus"}) == {
        "app_server": "valerus_application_server", "recorder": "valerus_recording_server",
        "gateway": "valerus_internet_gateway"}
    assert wi.iis_packages({"product": "xprotect"}) == {"xprotect_management_server"}
    moved = [_rule("gateway_http", 8080), _rule("gateway_https", 8443)]
    how = {c["service"]: c["how"] for c in wi.port_changes(_plan("valerus", ("gateway",), moved), "h1")}
    assert how == {"gateway_http": load_catalog("valerus").services()["gateway_http"].port_change,
                   "gateway_https": load_catalog("valerus").port_change}
    assert "Vicon technical support" in how["gateway_http"] and "Vicon technical support" in how["gateway_https"]


# --- Windows certificates: dispatch on certificate_binding ----------------------------------------

@pytest.mark.parametrize("product,components,inbound,binding", [
    ("valerus", ("gateway",), [_rule("web_player_https", 3001)], "iis_site"),
    ("valerus", ("app_server", "recorder"), [], "none"),  # no New Web Player port: no IIS binding
    ("xprotect", ("app_server",), [], "server_configurator"),
    ("xprotect", ("sql_server",), [], "none"),  # in no Server Configurator certificate group
    ("generic_nvr", ("recorder",), [], "none"),
])
def test_certificate_binding_per_host(product, components, inbound, binding):
    plan = _plan(product, components, inbound)
    assert wc.certificate_binding(plan, "h1") == binding
    assert wc.needs_certificate(plan, "h1") is (binding != "none")


def test_site_ca_goes_to_every_windows_host_of_a_server_configurator_product():
    assert wc.needs_site_ca(_plan("xprotect", ("sql_server",)), "h1")
    assert not wc.needs_site_ca(_plan("xprotect", ("app_server",), platform="linux"), "h1")
    assert not wc.needs_site_ca(_plan("valerus"), "h1")


def test_a_binding_no_renderer_knows_is_refused():
    traits = dict(load_catalog("xprotect").traits, certificate_binding="certbot")
    with pytest.raises(WindowsFirewallError, match=r"vms_product.*certificate_binding 'certbot'"):
        wc.certificate_binding(_plan("xprotect", traits=traits), "h1")


def test_encryption_groups_only_for_a_server_configurator_product():
    assert [g["key"] for g in wc.encryption_groups(_plan("xprotect"), "h1")] == ["server", "streaming_media"]
    assert wc.encryption_groups(_plan("valerus"), "h1") == []


def test_certificate_targets_only_for_a_server_configurator_product():
    targets = wc.certificate_targets(_plan("xprotect", ("app_server", "gateway")), "h1",
                                     {"xprotect_mobile_server": 8443})
    assert targets == [{"component": "xprotect_management_server", "port": 443, "section": "Server certificate"},
                       {"component": "xprotect_mobile_server", "port": 8443,
                        "section": "Mobile streaming media certificate"}]
    assert wc.certificate_targets(_plan("valerus", ("app_server", "gateway")), "h1") == []


def test_the_firewall_filter_takes_the_controller_address_or_none():
    import vms_windows as windows_filters
    plan = _plan("valerus", ("app_server",), [_rule("app_web_https", 443, "app_server")])
    plan["zones"] = {"management": ["10.9.0.0/24"]}
    with_controller = windows_filters.vms_windows_firewall_parameters(plan, "h1", 5986, "10.9.9.9")
    without = windows_filters.vms_windows_firewall_parameters(plan, "h1", 5986, "")
    assert without == windows_filters.vms_windows_firewall_parameters(plan, "h1", 5986, [])
    assert with_controller == windows_filters.vms_windows_firewall_parameters(plan, "h1", 5986, ["10.9.9.9"])
    assert with_controller != without and "10.9.9.9" in str(with_controller) and "10.9.9.9" not in str(without)


def test_the_arguments_file_is_refused_for_a_product_installed_otherwise():
    from vms_deploy.render import xprotect_args
    with pytest.raises(WindowsFirewallError, match=r"vms_product.*windows_installer is 'packages'"):
        xprotect_args.render_arguments(_plan("valerus"), "h1", "<x/>", {})


# --- Windows prechecks and the gateway check: one filter per decision --------------------------------

FACTS = {"free_bytes": 500 * 1024 ** 3, "features": {"Web-Server": True, "Web-Mgmt-Console": True},
         "listeners": [], "services": []}
KW = {"version": "10.0.20348.0", "min_version": "10.0.17763", "drive": "D:", "min_free_gb": 100,
      "manage_features": False}


def test_prechecks_pass_on_a_good_host():
    assert wi.precheck_problems(_plan("valerus"), "h1", FACTS, **KW) == []


def test_prechecks_report_an_old_windows():
    (problem,) = wi.precheck_problems(_plan("valerus"), "h1", FACTS, **dict(KW, version="6.3.9600"))
    assert "host h1: Windows 6.3.9600 is older" in problem


def test_prechecks_check_the_recording_drive_only_on_a_recorder():
    low = dict(FACTS, free_bytes=1024 ** 3)
    (problem,) = wi.precheck_problems(_plan("valerus", ("app_server", "recorder")), "h1", low, **KW)
    assert "drive D: has 1.0 GiB free" in problem
    assert wi.precheck_problems(_plan("valerus", ("app_server",)), "h1", low, **KW) == []


def test_prechecks_report_missing_features_unless_the_role_adds_them():
    facts = dict(FACTS, features={})
    (problem,) = wi.precheck_problems(_plan("valerus"), "h1", facts, **KW)
    assert "Web-Mgmt-Console, Web-Server are required" in problem
    assert wi.precheck_problems(_plan("valerus"), "h1", facts, **dict(KW, manage_features=True)) == []


def test_prechecks_report_a_planned_port_taken_by_another_program():
    plan = _plan("valerus", ("app_server",), [_rule("app_web_https", 443, "app_server")])
    facts = dict(FACTS, listeners=[{"protocol": "tcp", "port": 443, "process": "nginx", "pid": 7}])
    (problem,) = wi.precheck_problems(plan, "h1", facts, **KW)
    assert "tcp port 443 is planned for app_server (app_web_https) but is already used by nginx" in problem


def test_closed_ports_are_the_ones_that_did_not_answer_in_port_order():
    assert wi.closed_ports({"9081": False, "9080": True, "443": False}) == ["443", "9081"]
    assert wi.closed_ports({}) == [] and wi.closed_ports(None) == []


# --- Linux gateway proxy and the plan's groups ------------------------------------------------------

def _gateway_plan(product, platform="linux"):
    plan = _plan(product, ("gateway",), [_rule("gateway_https", 9443), _rule("gateway_http", 9080)], platform)
    plan["hosts"]["app"]["inbound"] = [_rule("app_web_http", 80, "app_server")]
    plan["zone_flows"] = []
    return plan


def test_stand_ins_skip_the_ports_nginx_serves_only_on_a_linux_nginx_gateway(monkeypatch):
    monkeypatch.setattr(nginx, "owned_ports", lambda plan, host, settings=None: ["tcp/9443"])
    assert nginx.proxied_ports(_gateway_plan("valerus"), "h1") == ["tcp/9443"]
    assert nginx.proxied_ports(_gateway_plan("xprotect"), "h1") == []  # gateway_proxy none
    assert nginx.proxied_ports(_gateway_plan("valerus", "windows"), "h1") == []
    assert nginx.proxied_ports(_gateway_plan("valerus"), "app") == []  # not a gateway


def test_plan_groups_name_traits_for_the_plays():
    groups = plan_filters.vms_plan_groups(_gateway_plan("valerus"), "h1")
    assert {"vms_gateway_proxy_nginx", "vms_gateway_registration_manual", "vms_component_gateway"} <= set(groups)
    groups = plan_filters.vms_plan_groups(_gateway_plan("xprotect"), "h1")
    assert {"vms_gateway_proxy_none", "vms_gateway_registration_none"} <= set(groups)


def test_plan_groups_refuse_a_plan_without_the_traits_the_plays_need():
    from ansible.errors import AnsibleFilterError
    plan = copy.deepcopy(_gateway_plan("nosuch"))
    with pytest.raises(AnsibleFilterError, match="records no trait gateway_proxy, gateway_registration"):
        plan_filters.vms_plan_groups(plan, "h1")


def test_catalog_trait_filter_names_the_variable_and_the_fix():
    from ansible.errors import AnsibleFilterError
    assert plan_filters.vms_catalog_trait("generic_nvr", "default_platform") == "linux"
    assert plan_filters.vms_catalog_trait("xprotect", "default_platform") == "windows"
    with pytest.raises(AnsibleFilterError, match=r"vms_product = 'genetec' is not a product.*Fix: set vms_product"):
        plan_filters.vms_catalog_trait("genetec", "default_platform")
