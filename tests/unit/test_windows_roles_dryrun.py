"""The real Windows roles and playbooks/stages/windows_hosts.yml, run here against a stand-in Windows host.

There is no Windows, WinRM or PowerShell on this machine. This test writes throw-away collections
``ansible.windows`` and ``microsoft.iis`` whose modules are small Python programs: each records the exact
arguments the role passed (one JSON line per call) and answers from a JSON state file that plays the host
(services, features, firewall rules, certificates, IIS bindings). The playbook runs with
ansible_connection=local. The firewall script is answered with the Python mirror of its decision
(vms_deploy.render.windows_firewall.reconcile), the other scripts with theirs.

Fidelity (issue 14): the fake modules reproduce the real modules' preconditions and failure modes, taken
from their sources in the installed collections (each behaviour names the source it comes from):
win_copy fails when a file's parent folder is missing, win_package downloads a URL without product_id
before its idempotence check (also in check mode) and sets reboot_required only for 3010, win_reboot
fails on a shutdown already in progress (1115), win_powershell skips a script without
SupportsShouldProcess in check mode, microsoft.iis.website leaves http.sys' certificate entry behind and
then fails with 0x800700B7, and calls AddSslCertificate in check mode.

What it proves: every Jinja expression and filter in the Windows roles evaluates on real plans; the
module parameters the roles send (golden files tests/golden/windows/dryrun/*.json); the control flow
(check mode changes nothing, a second run changes nothing, drift is repaired, prechecks stop the run,
manual steps stop with their message). What it cannot prove: how the real Windows modules, the
PowerShell scripts and the vendors' installers behave (docs/windows.md).

Regenerate the call goldens with VMS_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import json
import subprocess
import textwrap

from windows_harness.site import GOLDEN, ROOT, FakeSite, _changed, _fake, _golden_calls, _order, _source  # noqa: F401

from vms_deploy.plan_io import host_digest

# --- tests --------------------------------------------------------------------------------------

def test_valerus_check_mode_first_run_rerun_and_drift(tmp_path):
    site = FakeSite("valerus_separate_app_server", tmp_path)
    fresh = site.state()

    rc, out = site.run("--check", "--diff")
    assert rc == 0, out
    assert site.state() == fresh, "check mode changed the stand-in hosts"
    assert all(n > 0 for n in _changed(site, out).values()), out  # and it predicted changes everywhere

    rc, out = site.run()
    assert rc == 0, out
    _golden_calls(site, "valerus_separate_app_server")
    state = site.state()
    for host in site.windows:
        assert state[host]["services"] and all(s == {"start_mode": "auto", "state": "started"}
                                               for s in state[host]["services"].values()), host
        has_cert = site.thumbprints[host] in state[host]["certificates"]
        assert has_cert == (host == "vgw"), host  # only the host serving the New Web Player https port
        names = [r["name"] for r in state[host]["firewall"]]
        assert any("management" in n for n in names), names  # the WinRM rule is always there
    gw = state["vgw"]["iis_sites"]["Valerus Web Proxy"]["bindings"]
    https = [b for b in gw if b["protocol"] == "https"]
    assert https == [{"ip": "*", "port": 3001, "hostname": "", "protocol": "https",
                      "certificate_hash": site.thumbprints["vgw"]}], gw  # self-signed binding replaced
    assert "1" * 40 not in json.dumps(gw)

    rc, out = site.run()
    assert rc == 0, out
    assert set(_changed(site, out).values()) == {0}, out  # second run: nothing to do

    # Drift on the gateway: a rule edited by hand, a stale rule of the group; other groups are not ours.
    state = site.state()
    rules = state["vgw"]["firewall"]
    rules[0] = dict(rules[0], remote_addresses=["0.0.0.0/0"])
    rules.append(dict(rules[1], name="vms-deploy-gateway-tcp-9999-old", local_ports="9999"))
    site.write_state(state)
    rc, out = site.run("--tags", "firewall", "--diff")
    assert rc == 0, out
    assert _changed(site, out)["vgw"] == 1 and {v for h, v in _changed(site, out).items() if h != "vgw"} == {0}
    assert "vms-deploy-gateway-tcp-9999-old" not in json.dumps(site.state()["vgw"]["firewall"])
    assert "-vms-deploy-gateway-tcp-9999-old" in out.replace("- vms", "-vms") or "9999" in out  # shown in the diff


def test_precheck_failure_stops_every_host_before_any_change(tmp_path):
    site = FakeSite("valerus_separate_app_server", tmp_path)
    state = site.state()
    state["vgw"]["listeners"] = [{"protocol": "tcp", "port": 9080, "pid": 4242, "process": "nginx"}]
    state["vrec1"]["free_bytes"] = {"C:": 3 * 1024 ** 3}
    site.write_state(state)
    fresh = site.state()
    rc, out = site.run()
    assert rc != 0
    assert ("host vgw: tcp port 9080 is planned for gateway (gateway_http) but is already used by nginx (pid 4242)"
            in out)
    assert "host vrec1: drive C: has 3.0 GiB free" in out
    assert site.state() == fresh  # any_errors_fatal: no host was changed
    assert not [c for c in site.calls() if c["module"] not in (
        "ansible.windows.win_ping", "ansible.windows.setup", "ansible.windows.win_powershell")], \
        "only read-only modules may run"


def test_valerus_gateway_stops_with_the_manual_step_until_confirmed(tmp_path):
    site = FakeSite("valerus_separate_app_server", tmp_path)
    (tmp_path / "vars.yml").write_text((tmp_path / "vars.yml").read_text().replace(
        "vms_win_gateway_registered: true", "vms_win_gateway_registered: false"))
    rc, out = site.run("--tags", "gateway")
    assert rc != 0
    assert "Configuration > System > Internet Gateway > Add Internet Gateway" in out
    assert "IP address: 10.20.9.55; port: 9080" in out
    state = site.state()
    state["vapp"]["closed_ports"] = [9081]  # as seen from the application server, where the check runs
    site.write_state(state)
    rc, out = site.run("--tags", "gateway")
    assert rc != 0 and "ports 9081 of the gateway (10.20.9.55) do not answer" in out, out


def test_xprotect_waves_private_folder_encryption_site_ca_and_rerun(tmp_path):
    site = FakeSite("xprotect_distributed_dmz", tmp_path)
    fresh = site.state()
    rc, out = site.run("--check", "--diff")
    assert rc == 0, out
    assert site.state() == fresh, "check mode changed the stand-in hosts"

    rc, out = site.run()
    assert rc == 0, out
    _golden_calls(site, "xprotect_distributed_dmz")
    calls, state = site.calls(), site.state()
    installer = [c for c in calls if c["module"] == "ansible.windows.win_package"]
    assert {c["host"] for c in installer} == {"xmgmt", "xevent", "xrec1", "xrec2", "xmobile"}  # not xfail (manual)

    # item 3: the management server installs and gets its ports before any other server installs
    mgmt_done = max(_order(calls, lambda c: c["host"] == "xmgmt" and (
        c["module"] == "ansible.windows.win_package" or c["args"].get("path") == "Set-VmsFirewallRuleGroup.ps1")))
    others = _order(calls, lambda c: c["host"] != "xmgmt" and c["module"] == "ansible.windows.win_package")
    assert others and mgmt_done < min(others), "another server installed before the management server's ports were open"

    # item 1: the private folder exists (made by the script, before anything is written into it)
    for host in {c["host"] for c in installer}:
        folder = _order(calls, lambda c, h=host: c["host"] == h and c["args"].get("path") == "Set-VmsPrivateFolder.ps1")
        copies = _order(calls, lambda c, h=host: c["host"] == h and c["module"] == "ansible.windows.win_copy"
                        and c["args"]["dest"].lower().startswith("c:\\programdata\\vms-deploy"))
        assert folder and copies and folder[0] < min(copies), host
        assert "c:\\programdata\\vms-deploy" in state[host]["private_dirs"], host
        assert not [f for f in state[host].get("files", {}) if "vms-deploy" in f], "arguments/licence file left behind"

    # item 6: the installer's own command line, the licence shipped, the file's yes/no vocabulary
    assert all(c["args"]["arguments"] == "--quiet --license=C:\\ProgramData\\vms-deploy\\EXAMPLE-license.lic "
               "--arguments=C:\\ProgramData\\vms-deploy\\xprotect-arguments.xml" for c in installer)
    assert all(c["args"]["wait_for_children"] is True for c in installer)  # item 4: bootstrapper children
    written = {c["host"]: c["args"] for c in calls if c["module"] == "ansible.windows.win_copy"
               and c["args"]["dest"].endswith("xprotect-arguments.xml")}
    mobile = written["xmobile"]["content"]
    assert "<Name>EXAMPLE-InstallMobileServer</Name>\n      <Value>yes</Value>" in mobile
    assert "<Name>EXAMPLE-InstallManagementServer</Name>\n      <Value>no</Value>" in mobile
    licences = {c["host"] for c in calls if c["module"] == "ansible.windows.win_copy"
                and c["args"]["dest"].endswith("EXAMPLE-license.lic")}
    assert licences == {c["host"] for c in installer}

    # item 9: encryption per certificate group from the host's components, verified by the served certificate
    enc = {c["host"]: c["args"]["parameters"]["Groups"] for c in calls
           if c["args"].get("path") == "Set-VmsXProtectEncryption.ps1"}
    assert enc == {"xmgmt": ["Server certificate"], "xrec1": ["Server certificate", "Streaming media certificate"],
                   "xrec2": ["Server certificate", "Streaming media certificate"],
                   "xmobile": ["Mobile streaming media certificate"], "xevent": ["Event server certificate"]}
    assert state["xmgmt"]["served"]["443"] == site.thumbprints["xmgmt"]
    assert state["xmobile"]["served"]["8082"] == site.thumbprints["xmobile"]
    assert all(state[h]["key_readers"] == ["S-1-5-20"] for h in enc)  # NETWORK SERVICE, any language
    # the site CA in LocalMachine\Root on every XProtect host, xfail (failover, installed by hand) too
    assert {h for h in site.windows if site.ca_thumbprint in state[h].get("stores", {}).get("Root",
                                                                                            [])} == set(site.windows)

    rc, out = site.run()
    assert rc == 0, out
    assert set(_changed(site, out).values()) == {0}, out
    assert not [c for c in site.calls() if c["module"] == "ansible.windows.win_package"], "installer run again"


def test_xprotect_encryption_stops_with_the_manual_step_when_the_certificate_is_not_served(tmp_path):
    site = FakeSite("xprotect_distributed_dmz", tmp_path)
    state = site.state()
    state["xmobile"]["serves_by_group"] = {}  # Server Configurator ran, but the port still serves another certificate
    site.write_state(state)
    rc, out = site.run("--limit", "xmobile")
    assert rc != 0
    assert "host xmobile: XProtect does not serve certificate" in out and "Server Configurator" in out, out




def test_valerus_installer_restart_downloads_delayed_start_vault_pfx_and_foreign_rules(tmp_path):
    """Items 5, 10 (no download when installed or in check mode, delayed start, vault PFX) and 7."""
    site = FakeSite("valerus_separate_app_server", tmp_path, settings={
        "vms_win_installer_source": "https://files.example.internal/vms/", "vms_win_disable_foreign_rules": True})
    state = site.state()
    rec = next(iter(state["vrec1"]["installs"]))
    state["vrec1"]["installs"][rec]["rc"] = 1641  # the installer restarts the host itself
    gw = next(iter(state["vgw"]["installs"]))
    state["vgw"]["installs"][gw]["start_mode"] = "delayed"  # the vendor's choice
    site.write_state(state)
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("dry-run-vault\n")
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(vault_pass), str(tmp_path / "vgw.pfx")],
                   check=True, capture_output=True)
    assert (tmp_path / "vgw.pfx").read_bytes().startswith(b"$ANSIBLE_VAULT")
    vault = ("--vault-password-file", str(vault_pass))

    fresh = site.state()
    rc, out = site.run("--check", *vault)
    assert rc == 0, out
    assert site.state() == fresh and not any(s.get("downloads") for s in fresh.values()), "check mode downloaded"

    rc, out = site.run(*vault)
    assert rc == 0, out
    state, calls = site.state(), site.calls()
    assert not [c for c in calls if c["module"] == "ansible.windows.win_reboot"], "win_reboot after exit code 1641"
    assert state["vrec1"]["boot_time"] == "boot-1", "the restart the installer started was not waited for"
    assert state["vgw"]["services"] and all(s == {"start_mode": "delayed", "state": "started"}
                                            for s in state["vgw"]["services"].values())  # the vendor's delayed start
    assert all(s["start_mode"] == "auto" for h in ("vapp", "vrec1", "vrec2") for s in state[h]["services"].values())
    assert site.thumbprints["vgw"] in state["vgw"]["certificates"]  # the vaulted PFX opened and imported
    assert all(len(state[h]["downloads"]) == 1 for h in site.windows), \
        {h: state[h].get("downloads") for h in site.windows}
    for host in site.windows:  # item 7: the bootstrap rule open to Any on WinRM is off, RDP (not planned) stays
        foreign = {r["name"]: r["enabled"] for r in state[host]["foreign_rules"]}
        assert foreign == {"Bootstrap-WinRM-HTTPS": False, "RemoteDesktop-UserMode-In-TCP": True,
                           "WINRM-HTTP-In-TCP": True, "WINRM-HTTP-In-TCP-PUBLIC": True}, host  # 5985: not planned

    rc, out = site.run(*vault)
    assert rc == 0, out
    assert set(_changed(site, out).values()) == {0}, out
    assert all(len(site.state()[h]["downloads"]) == 1 for h in site.windows), \
        "an installed product was downloaded again"


def test_firewall_refuses_rules_that_would_cut_an_open_winrm_session(tmp_path):
    """Item 8: a WinRM session from an address the new rules do not admit stops the change."""
    site = FakeSite("valerus_separate_app_server", tmp_path)
    state = site.state()
    state["vapp"]["winrm_peers"] = ["10.99.0.1"]
    site.write_state(state)
    rc, out = site.run("--tags", "firewall", "--limit", "vapp")
    assert rc != 0
    assert "established WinRM connections from 10.99.0.1 (tcp 5986) would not be admitted" in out, out
    assert site.state()["vapp"]["firewall"] == []


# --- the stand-in modules against the real modules' sources ---------------------------------------------

def test_standin_win_copy_needs_the_parent_folder_like_the_real_one(tmp_path):
    src = _source("ansible/windows/plugins/modules/win_copy.ps1")
    assert "\"Destination directory '$parent_dir' does not exist\"" in src  # the real message, copy mode "single"
    state = {"dirs": ["c:", "c:\\programdata"]}
    res, _ = _fake(tmp_path, "ansible.windows.win_copy", {"content": "x", "dest": "C:\\ProgramData\\vms-deploy\\a.xml"},
                   state)
    assert res.get("failed") and res["msg"] == "Destination directory 'c:\\programdata\\vms-deploy' does not exist"
    res, after = _fake(tmp_path, "ansible.windows.win_copy", {"content": "x", "dest": "C:\\ProgramData\\a.xml"}, state)
    assert not res.get("failed") and "c:\\programdata\\a.xml" in after["files"]


def test_standin_win_package_downloads_before_its_idempotence_check_like_the_real_one(tmp_path):
    src = _source("ansible/windows/plugins/modules/win_package.ps1")
    assert "If the path is a URL and no productId is set" in src and "if ($rc -eq 3010) {" in src
    state = {"services": {"Svc": {"start_mode": "auto", "state": "running"}}}
    args = {"path": "https://x/setup.exe", "creates_service": "Svc", "expected_return_code": [0, 3010, 1641]}
    res, after = _fake(tmp_path, "ansible.windows.win_package", args, state, check=True)
    assert res["changed"] is False and after["downloads"] == ["https://x/setup.exe"]  # installed, still downloaded
    state = {"services": {}, "installs": {"https://x/setup.exe": {"services": ["Svc"], "rc": 1641}}}
    res, after = _fake(tmp_path, "ansible.windows.win_package", args, state)
    assert res["rc"] == 1641 and res["reboot_required"] is False and after["restart_in_progress"]


def test_standin_win_reboot_meets_a_shutdown_in_progress_like_the_real_one(tmp_path):
    src = _source("ansible/windows/plugins/plugin_utils/_reboot.py")
    assert "(1190)" in src and "1115" not in src  # only "already scheduled" is handled, not "in progress"
    res, _ = _fake(tmp_path, "ansible.windows.win_reboot", {}, {"restart_in_progress": True})
    assert res.get("failed") and res["rc"] == 1115


def test_standin_win_powershell_skips_scripts_without_shouldprocess_in_check_mode(tmp_path):
    src = _source("ansible/windows/plugins/modules/win_powershell.ps1")
    assert '"skipped, running in check mode"' in src
    res, _ = _fake(tmp_path, "ansible.windows.win_powershell", {"script": "param()\n$Ansible.Changed = $true"}, {},
                   check=True)
    assert res == {"changed": True, "msg": "skipped, running in check mode"}


def test_standin_iis_website_keeps_http_sys_and_adds_certificates_in_check_mode_like_the_real_one(tmp_path):
    src = _source("microsoft/iis/plugins/modules/website.ps1")
    edit = src[src.index("$toEdit | ForEach-Object"):src.index("$toRemove | ForEach-Object")]
    assert "AddSslCertificate" in edit and "-not $check_mode" not in edit  # the edit path ignores check mode
    # nothing removes http.sys' certificate entry: no RemoveSslCertificate, no netsh
    assert "Remove-WebBinding" in src and "removesslcertificate" not in src.lower() and "netsh" not in src.lower()
    site = {"bindings": [{"ip": "*", "port": 3001, "hostname": "", "protocol": "https", "certificate_hash": "1" * 40}]}
    state = {"iis_sites": {"S": site}, "sslcert": {"0.0.0.0:3001": "1" * 40}, "certificates": ["A" * 40]}
    remove = {"name": "S", "bindings": {"remove": [{"ip": "*", "port": 3001}]}}
    add = {"name": "S", "bindings": {"add": [{"ip": "*", "port": 3001, "protocol": "https",
                                              "certificate_hash": "A" * 40,
                                              "certificate_store_name": "my"}]}}
    _, state = _fake(tmp_path, "microsoft.iis.website", remove, state)
    assert state["iis_sites"]["S"]["bindings"] == [] and state["sslcert"] == {"0.0.0.0:3001": "1" * 40}
    res, state = _fake(tmp_path, "microsoft.iis.website", add, state)
    assert res.get("failed") and "0x800700B7" in res["msg"]
    state = {"iis_sites": {"S": {"bindings": [dict(site["bindings"][0])]}}, "sslcert": {}, "certificates": ["A" * 40]}
    _, after = _fake(tmp_path, "microsoft.iis.website", add, state, check=True)
    assert after["sslcert"] == {"0.0.0.0:3001": "A" * 40}, "check mode left the host unchanged"


def test_audit_reports_rules_outside_the_group_profiles_and_the_plan_digest(tmp_path):
    """Item 7 and issue 12: the Windows audit, as playbooks/audit.yml runs it, on a deployed stand-in site."""
    site = FakeSite("valerus_separate_app_server", tmp_path)
    rc, out = site.run("--tags", "firewall")
    assert rc == 0, out
    state = site.state()
    state["vrec1"]["profiles"][0]["allow_local_rules"] = "False"  # a GPO that ignores local rules
    site.write_state(state)
    (tmp_path / "audit.yml").write_text(textwrap.dedent(f"""\
        ---
        - name: Validate and load the plan
          ansible.builtin.import_playbook: {ROOT / "playbooks" / "stages" / "prechecks.yml"}
        - name: Audit the Windows firewall rule groups (as playbooks/audit.yml)
          hosts: vms_platform_windows
          gather_facts: false
          tasks:
            - name: Compare the rule group with the plan
              ansible.builtin.import_role:
                name: audit
                tasks_from: windows
              vars:
                audit_plan: "{{{{ validate_inventory_plan }}}}"
            - name: Keep the findings
              ansible.builtin.copy:
                content: "{{{{ audit_findings | to_json }}}}"
                dest: "{tmp_path}/findings-{{{{ inventory_hostname }}}}.json"
                mode: "0600"
              delegate_to: localhost
        """))
    (tmp_path / "site.yml").write_text((tmp_path / "audit.yml").read_text())
    rc, out = site.run()
    assert rc == 0, out
    findings = [f for p in sorted(tmp_path.glob("findings-*.json")) for f in json.loads(p.read_text())]
    by = {(f["host"], f["check"], f["status"]) for f in findings}
    digest = {h: host_digest(site.plan, h) for h in site.windows}
    for host in site.windows:
        assert (host, "Windows firewall rule group", "ok") in by
        assert (host, "Windows firewall plan digest", "ok") in by, host
        [winrm] = [f for f in findings if f["host"] == host and "Bootstrap-WinRM-HTTPS" in f["detail"]]
        assert winrm["status"] == "drift" and "Disable-NetFirewallRule -Name 'Bootstrap-WinRM-HTTPS'" in winrm["detail"]
        [rdp] = [f for f in findings if f["host"] == host and "RemoteDesktop-UserMode-In-TCP" in f["detail"]]
        assert rdp["status"] == "warning"
        assert f"records plan {digest[host]}" in next(f["detail"] for f in findings
                                                       if f["host"] == host and f["check"].endswith("digest"))
    assert ("vrec1", "Windows firewall profiles", "drift") in by
    assert not any(h != "vrec1" and c == "Windows firewall profiles" for h, c, _ in by)
