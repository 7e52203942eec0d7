"""Issue 22 (second review of the Windows path) and issue 20 item 1 (Windows part), on the dry-run harness.

The harness (tests/unit/windows_harness) runs the real roles against stand-in modules that follow the
installed collections' sources. Each test names the item it proves and fails on the roles before the fix.
Nothing here ran on Windows: docs/windows.md lists what only a real host can settle.
"""
from __future__ import annotations

import json
import re

from windows_harness.fresh_host import BOOTSTRAP_RULES, fresh_windows_server
from windows_harness.ps_output import convert_output
from windows_harness.site import ROOT, FakeSite, _changed, _fake, _order, _source

from vms_deploy.render import windows_firewall, windows_foreign

PROXY = "Valerus Web Proxy"


# --- the stand-ins against the real modules' sources ---------------------------------------------

def test_standin_win_powershell_serialises_two_levels_deep_like_the_real_one(tmp_path):
    """Item 1: win_powershell.ps1 converts $Ansible.Result with Convert-OutputObject -Depth (default 2);
    below that depth a list becomes [string] (space-joined)."""
    src = _source("ansible/windows/plugins/modules/win_powershell.ps1")
    assert "depth = @{ type = 'int'; default = 2 }" in src and "[string]$InputObject" in src
    assert "$module.Result.result = Convert-OutputObject -InputObject $result.Result -Depth $module.Params.depth" in src
    result = {"foreign": [{"local_ports": ["5985", "5986"], "enabled": True, "name": "r"}]}
    assert convert_output(result) == {"foreign": [{"local_ports": "5985 5986", "enabled": True, "name": "r"}]}
    assert convert_output(result, 4) == result
    rule = dict(BOOTSTRAP_RULES[0], local_ports=["5985", "5986"])
    state = {"firewall": [], "foreign_rules": [rule], "profiles": []}
    plan = {"schema": 1, "product": "valerus", "zones": {"management": ["10.9.0.0/24"]},
            "hosts": {"win1": {"address": "10.0.0.10", "platform": "windows", "components": ["recorder"],
                               "inbound": []}}}
    args = {"path": "Set-VmsFirewallRuleGroup.ps1",
            "parameters": {"Rules": windows_firewall.rules_for_host(plan, "win1", 5986), "WinRmPort": 5986}}
    res, _ = _fake(tmp_path, "ansible.windows.win_powershell", args, state, check=True)
    assert res["result"]["foreign"][0]["local_ports"] == "5985 5986", res
    res, _ = _fake(tmp_path, "ansible.windows.win_powershell", dict(args, depth=4), state, check=True)
    assert res["result"]["foreign"][0]["local_ports"] == ["5985", "5986"], res


def test_standin_win_package_sets_failed_false_for_expected_codes_like_the_real_one(tmp_path):
    """Item 7: win_package.ps1 sets $module.Result.failed = $false for an expected return code."""
    src = _source("ansible/windows/plugins/modules/win_package.ps1")
    accepted = src[src.index("if ($ReturnCodes -notcontains $rc)"):src.index("if ($rc -eq 3010)")]
    assert "$module.Result.failed = $false" in accepted
    for rc in (3010, 1641):
        state = {"services": {}, "installs": {"C:\\i.exe": {"services": ["Svc"], "rc": rc}}}
        args = {"path": "C:\\i.exe", "creates_service": "Svc", "expected_return_code": [0, 3010, 1641]}
        res, _ = _fake(tmp_path, "ansible.windows.win_package", args, state)
        assert res["failed"] is False and res["rc"] == rc and res["reboot_required"] is (rc == 3010)


def test_no_comment_or_doc_says_win_package_omits_the_failed_key():
    """Item 7: the docs and the roles' comments said 3010/1641 come "without a failed key"."""
    wrong = re.compile(r"without a [\"`]?failed[\"`]? key|no [\"`]failed[\"`] key", re.IGNORECASE)
    paths = [*ROOT.glob("roles/windows_*/tasks/*.yml"), ROOT / "docs" / "windows.md"]
    assert [str(p.relative_to(ROOT)) for p in paths if wrong.search(p.read_text())] == []


# --- issue 20, item 1: a newly installed Windows Server ---------------------------------------------

def test_fresh_host_is_a_new_windows_server_from_microsofts_documentation(tmp_path):
    """No IIS role, no Valerus site, no vms-deploy folder or registry key, no http.sys binding."""
    fresh = fresh_windows_server()
    assert fresh["features"] == {} and fresh["iis_sites"] == {} and fresh["sslcert"] == {}
    assert not [d for d in fresh["dirs"] if "vms-deploy" in d] and fresh["registry"] == {}
    doc = __import__("windows_harness.fresh_host", fromlist=["x"]).__doc__
    assert doc.count("learn.microsoft.com") >= 5  # every fact names its Microsoft Learn page
    site = FakeSite("valerus_separate_app_server", tmp_path)
    for host, state in site.state().items():
        assert state["iis_sites"] == {} and state["features"] == {} and state["services"] == {}, host
        assert not [d for d in state["dirs"] if "vms-deploy" in d], host


def test_valerus_check_mode_on_a_never_deployed_host_then_the_run_that_creates_iis_and_the_site(tmp_path):
    """Issue 20, item 1: check mode passes on a host without IIS and without the Valerus Web Proxy
    site, changes nothing and predicts the binding; the real run adds IIS, the installer creates the
    site, the binding replaces the self-signed one."""
    site = FakeSite("valerus_separate_app_server", tmp_path)
    fresh = site.state()
    rc, out = site.run("--check", "--diff", "--limit", "vgw")
    assert rc == 0, out
    assert site.state() == fresh
    assert "IIS site" not in out.split("PLAY RECAP")[-1]
    binding = [c for c in site.calls() if c["args"].get("path") == "Set-VmsIisHttpsBinding.ps1"]
    assert binding and all(c["check"] for c in binding), "the binding was not predicted in check mode"

    rc, out = site.run("--limit", "vgw")
    assert rc == 0, out
    gw = site.state()["vgw"]
    assert gw["features"] == {"Web-Mgmt-Console": True, "Web-Server": True}
    https = [b for b in gw["iis_sites"][PROXY]["bindings"] if b["protocol"] == "https"]
    assert [b["certificate_hash"] for b in https] == [site.thumbprints["vgw"]]


# --- issue 22 ------------------------------------------------------------------------------------

def test_multi_port_foreign_rule_is_drift_and_disabled_and_1641_connection_loss_is_waited_for(tmp_path):
    """Item 1: a foreign rule on 5985 and 5986 open to Any comes back space-joined at depth 2; it must be
    drift and be disabled. Item 8: an installer exiting 1641 drops the WinRM connection before its
    result arrives; the host is not lost, the restart is waited for and checked."""
    site = FakeSite("valerus_separate_app_server", tmp_path, settings={"vms_win_disable_foreign_rules": True})
    state = site.state()
    for host in site.windows:
        state[host]["foreign_rules"].append(dict(BOOTSTRAP_RULES[0], name="Bootstrap-WinRM-Both",
                                                 local_ports=["5985", "5986"]))
    rec = next(iter(state["vrec1"]["installs"]))
    state["vrec1"]["installs"][rec].update(rc=1641, connection_lost=True)
    site.write_state(state)

    rc, out = site.run()
    assert rc == 0, out
    assert "unreachable=0" in out.split("PLAY RECAP")[-1].split("vrec1")[1].splitlines()[0], out
    state = site.state()
    assert state["vrec1"]["boot_time"] == "boot-1", "the restart the installer started was not waited for"
    assert state["vrec1"]["services"] and all(s["state"] == "started" for s in state["vrec1"]["services"].values())
    for host in site.windows:
        rules = {r["name"]: r["enabled"] for r in state[host]["foreign_rules"]}
        assert rules["Bootstrap-WinRM-Both"] is False, (host, rules)
    [joined] = windows_foreign.exceeding([], [dict(BOOTSTRAP_RULES[0], local_ports="5985 5986")])
    assert {p["ports"] for p in joined["excess"]} == {"5985", "5986"}  # the parser reads the joined form too


def test_xprotect_trusts_before_encrypting_management_server_first_and_waits_for_the_served_certificate(tmp_path):
    """Item 6: the site CA is in LocalMachine\\Root on every XProtect host before any host switches
    encryption on, and the management server switches first. Item 9: the served certificate is asked
    for again, bounded, while the services restart."""
    site = FakeSite("xprotect_distributed_dmz", tmp_path)
    state = site.state()
    state["xmobile"]["served_after_probes"] = 2
    site.write_state(state)
    rc, out = site.run("--tags", "install,firewall,certificates")
    assert rc == 0, out
    calls = site.calls()
    roots = _order(calls, lambda c: c["module"] == "ansible.windows.win_certificate_store"
                   and c["args"].get("store_name") == "Root")
    enc = _order(calls, lambda c: c["args"].get("path") == "Set-VmsXProtectEncryption.ps1")
    assert roots and enc and max(roots) < min(enc), "a host switched encryption on before every host trusted the CA"
    assert calls[min(enc)]["host"] == "xmgmt"
    assert {calls[i]["host"] for i in enc[1:]} == {"xrec1", "xrec2", "xmobile", "xevent"}
    state = site.state()
    assert state["xmobile"]["probes_unanswered"] == 2
    assert state["xmobile"]["served"]["8082"] == site.thumbprints["xmobile"]
    assert json.dumps(_changed(site, out))  # recap parsed


def test_probe_gives_up_after_its_timeout_with_the_manual_step(tmp_path):
    """Item 9, bounded: a port that never serves the certificate stops after vms_win_cert_probe_timeout."""
    site = FakeSite("xprotect_distributed_dmz", tmp_path)
    state = site.state()
    state["xmobile"]["serves_by_group"] = {}
    site.write_state(state)
    rc, out = site.run("--limit", "xmobile")
    assert rc != 0 and "Server Configurator" in out
    probes = [c for c in site.calls() if c["args"].get("path") == "Get-VmsServedCertificate.ps1"]
    assert len(probes) == 1 + 3  # first try + ceil(3 s / 1 s) retries (the harness's bounded settings)


def test_unc_installers_are_copied_over_the_winrm_session_before_become_runs_them(tmp_path):
    """Item 3: win_package runs as SYSTEM (become); on the network that is the computer account, which the
    workgroup share does not admit ("cannot be reached", win_package.ps1). The installer is read in the
    WinRM session, copied to a private folder, installed from there and removed."""
    site = FakeSite("valerus_separate_app_server", tmp_path)
    assert site.settings["vms_win_installer_source"].startswith("\\\\")
    rc, out = site.run("--limit", "vapp,vrec1")
    assert rc == 0, out
    calls = site.calls()
    for host in ("vapp", "vrec1"):
        packages = [c for c in calls if c["host"] == host and c["module"] == "ansible.windows.win_package"]
        assert packages and all(c["args"]["path"].startswith("C:\\ProgramData\\vms-deploy\\installers\\")
                                for c in packages), packages
        copies = _order(calls, lambda c, h=host: c["host"] == h and c["args"].get("path") == "Copy-VmsInstaller.ps1"
                        and not c["args"]["parameters"].get("TestOnly"))
        installs = _order(calls, lambda c, h=host: c["host"] == h and c["module"] == "ansible.windows.win_package")
        assert copies and max(copies) < min(installs)
        state = site.state()[host]
        assert state["services"] and not [f for f in state["files"] if "installers" in f], "installer copy left"
        assert "c:\\programdata\\vms-deploy\\installers" in state["private_dirs"]


def test_a_share_that_does_not_admit_the_session_stops_with_the_fix_in_check_mode_too(tmp_path):
    site = FakeSite("valerus_separate_app_server", tmp_path)
    state = site.state()
    state["vrec1"]["share"]["admits_session"] = False
    site.write_state(state)
    rc, out = site.run("--check", "--limit", "vrec1")
    assert rc != 0 and "cannot be read as the WinRM session's user" in out, out
    assert not [c for c in site.calls() if c["module"] == "ansible.windows.win_package"]


def test_a_lost_connection_under_the_install_task_is_the_restart_to_wait_for():
    """Item 8, the decision: an unreachable install result (ignore_unreachable) means wait, then check."""
    from vms_deploy.render import windows_install
    assert windows_install.reboot_action({"unreachable": True, "msg": "connection reset"}) == "wait"
    assert windows_install.reboot_action({"rc": 0, "failed": False}) == "none"
    for name in ("valerus.yml", "xprotect.yml"):
        text = (ROOT / "roles" / "windows_install" / "tasks" / name).read_text()
        assert "ignore_unreachable: true" in text and "failed_when" not in text, name


def _ports():
    from hypothesis import strategies as st
    single = st.integers(1, 65535).map(str)
    span = st.tuples(st.integers(1, 65535), st.integers(1, 65535)).map(lambda t: f"{min(t)}-{max(t)}")
    return st.lists(st.one_of(single, span, st.just("Any"), st.just("RPC")), min_size=1, max_size=5)


def _addresses():
    from hypothesis import strategies as st
    net = st.tuples(st.integers(0, 255), st.integers(0, 255), st.sampled_from([8, 16, 24, 32])).map(
        lambda t: f"10.{t[0]}.{t[1]}.0/{t[2]}" if t[2] <= 24 else f"10.{t[0]}.{t[1]}.7")
    return st.lists(st.one_of(net, st.just("Any"), st.just("LocalSubnet")), min_size=1, max_size=4)


def test_foreign_rules_read_the_same_as_lists_or_as_win_powershell_strings():
    """Item 1, as a property: a foreign rule's ports and addresses mean the same whether they arrive as
    lists (depth 4) or as the strings win_powershell makes of them below its depth (depth 2)."""
    from hypothesis import given, settings
    from windows_harness.ps_output import ps_string
    plan = {"schema": 1, "product": "valerus", "zones": {"management": ["10.9.0.0/24"]},
            "hosts": {"win1": {"address": "10.0.0.10", "platform": "windows", "components": ["recorder"], "inbound": [
                {"protocol": "tcp", "ports": [554, 554], "sources": ["10.1.0.0/24"], "component": "recorder",
                 "service": "rtsp", "purpose": "video"}]}}}
    group = windows_firewall.rules_for_host(plan, "win1", 5986)

    @settings(max_examples=60, deadline=None)
    @given(_ports(), _addresses())
    def same(ports, addresses):
        as_list = dict(BOOTSTRAP_RULES[0], local_ports=ports, remote_addresses=addresses)
        as_text = dict(as_list, local_ports=ps_string(ports), remote_addresses=ps_string(addresses))
        assert windows_foreign.exceeding(group, [as_list]) == windows_foreign.exceeding(group, [as_text])

    same()
