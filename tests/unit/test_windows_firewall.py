"""Windows Firewall rendering and the add/update/remove decision (Python mirror of the PowerShell script)."""
from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import pytest

from vms_deploy.render import windows_firewall as wf

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "windows_firewall" / "files" / "Set-VmsFirewallRuleGroup.ps1"


def plan(management=("10.9.0.0/24",), inbound=None, platform="windows"):
    rules = inbound if inbound is not None else [
        {"protocol": "tcp", "ports": [9080, 9080], "sources": ["10.1.0.0/24", "100.64.0.0/10"],
         "component": "gateway", "service": "gateway_http", "purpose": "web clients"},
        {"protocol": "tcp", "ports": [40001, 40099], "sources": ["10.2.0.5/32"],
         "component": "gateway", "service": "mobile_video_push", "purpose": "video push"},
        {"protocol": "udp", "ports": [1234, 1234], "sources": ["10.3.0.0/24"],
         "component": "event_server", "service": "event_generic", "purpose": "generic events"},
    ]
    return {"schema": 1, "product": "xprotect", "zones": {"management": list(management)},
            "hosts": {"win1": {"address": "10.0.0.10", "platform": platform, "components": ["gateway"],
                               "inbound": rules}}}


def desired(**kw):
    return wf.rules_for_host(plan(**kw), "win1")


# --- rendering -----------------------------------------------------------------------------------

def test_rule_names_are_stable_and_say_component_port_and_purpose():
    names = [r["name"] for r in desired()]
    assert names == sorted(names)
    assert "vms-deploy-gateway-tcp-9080-gateway-http" in names
    assert "vms-deploy-gateway-tcp-40001-40099-mobile-video-push" in names
    assert "vms-deploy-event-server-udp-1234-event-generic" in names
    assert desired() == desired()  # same plan, same rules


def test_rule_fields_match_the_script_input_contract():
    rule = next(r for r in desired() if r["name"].endswith("mobile-video-push"))
    assert rule == {
        "name": "vms-deploy-gateway-tcp-40001-40099-mobile-video-push",
        "display_name": "VMS gateway TCP 40001-40099 (mobile_video_push)",
        "group": "vms-deploy", "protocol": "TCP", "local_ports": "40001-40099",
        "remote_addresses": ["10.2.0.5/32"], "direction": "inbound", "action": "allow",
        "enabled": True, "description": "video push",
    }


def test_winrm_rule_added_from_management_networks_and_controller():
    rules = wf.rules_for_host(plan(), "win1", 5986, ["10.255.0.5"])
    winrm = [r for r in rules if wf.covers(r, "TCP", 5986)]
    assert len(winrm) == 1
    assert winrm[0]["remote_addresses"] == ["10.9.0.0/24", "10.255.0.5/32"]


def test_plan_management_rule_is_reused_and_gets_the_controller():
    inbound = [{"protocol": "tcp", "ports": [5986, 5986], "sources": ["10.9.0.0/24"],
                "component": "management", "service": "management", "purpose": "WinRM"}]
    rules = wf.rules_for_host(plan(inbound=inbound), "win1", 5986, ["10.255.0.5/32"])
    assert [r["name"] for r in rules] == ["vms-deploy-management-tcp-5986-management"]
    assert rules[0]["remote_addresses"] == ["10.9.0.0/24", "10.255.0.5/32"]


def test_no_management_source_is_an_actionable_error():
    with pytest.raises(wf.WindowsFirewallError) as err:
        wf.rules_for_host(plan(management=()), "win1")
    msg = str(err.value)
    assert "host win1" in msg and "vms_management_networks" in msg and "Fix:" in msg


def test_bad_controller_address_names_the_variable():
    with pytest.raises(wf.WindowsFirewallError, match="vms_win_controller_address"):
        wf.rules_for_host(plan(), "win1", 5986, ["not-an-ip"])


def test_linux_host_and_unknown_host_are_refused():
    with pytest.raises(wf.WindowsFirewallError, match="vms_platform"):
        wf.rules_for_host(plan(platform="linux"), "win1")
    with pytest.raises(wf.WindowsFirewallError, match="not in the plan"):
        wf.rules_for_host(plan(), "nope")


def test_duplicate_port_entries_merge_their_sources():
    inbound = [
        {"protocol": "tcp", "ports": [80, 80], "sources": ["10.1.0.0/24"], "component": "app_server",
         "service": "web", "purpose": "a"},
        {"protocol": "tcp", "ports": [80, 80], "sources": ["10.2.0.0/24", "10.1.0.0/24"], "component": "app_server",
         "service": "web", "purpose": "a"},
    ]
    web = [r for r in wf.rules_for_host(plan(inbound=inbound), "win1") if r["local_ports"] == "80"]
    assert len(web) == 1 and web[0]["remote_addresses"] == ["10.1.0.0/24", "10.2.0.0/24"]


def test_anywhere_swallows_other_sources():
    assert wf.normalize_addresses(["10.0.0.0/8", "0.0.0.0/0"]) == ["0.0.0.0/0"]


@pytest.mark.parametrize("text,cidr", [
    ("10.0.0.0/255.255.255.0", "10.0.0.0/24"),
    ("10.0.0.5", "10.0.0.5/32"),
    ("10.0.0.5/255.255.255.255", "10.0.0.5/32"),
    ("Any", "0.0.0.0/0"),
    ("10.0.0.7/24", "10.0.0.0/24"),
    ("LocalSubnet", "localsubnet"),
])
def test_windows_address_forms_normalize(text, cidr):
    assert wf.normalize_address(text) == cidr


def test_ports_normalize_regardless_of_order_and_form():
    assert wf.normalize_ports(["9081", "9080"]) == wf.normalize_ports("9080,9081") == "9080,9081"
    assert wf.normalize_ports("40001-40099") == "40001-40099"


# --- reconcile: the decision the script makes ---------------------------------------------------

def as_windows_reports(rules):
    """The same rules as Get-NetFirewallRule would read them back (mask notation, lists, Any)."""
    out = []
    for r in copy.deepcopy(rules):
        r["remote_addresses"] = ["Any" if a == "0.0.0.0/0" else
                                 a.replace("/24", "/255.255.255.0").replace("/32", "")
                                 for a in r["remote_addresses"]]
        r["local_ports"] = r["local_ports"].split(",")
        r["direction"], r["action"] = "Inbound", "Allow"
        out.append(r)
    return out


def test_first_run_adds_everything():
    want = desired()
    result = wf.reconcile([], want)
    assert [r["name"] for r in result["add"]] == [r["name"] for r in want]
    assert result["update"] == result["remove"] == result["unchanged"] == []


def test_rerun_changes_nothing_even_in_windows_notation():
    want = desired()
    result = wf.reconcile(as_windows_reports(want), want)
    assert result["add"] == result["update"] == result["remove"] == []
    assert result["unchanged"] == sorted(r["name"] for r in want)


def test_changed_sources_is_an_update_with_a_readable_change_list():
    want = desired()
    current = as_windows_reports(want)
    target = next(r for r in current if r["name"].endswith("gateway-http"))
    target["remote_addresses"] = ["Any"]
    result = wf.reconcile(current, want)
    assert [u["name"] for u in result["update"]] == [target["name"]]
    assert result["update"][0]["changes"] == ["remote_addresses"]
    assert result["update"][0]["before"]["remote_addresses"] == ["0.0.0.0/0"]


def test_disabled_rule_is_re_enabled():
    want = desired()
    current = as_windows_reports(want)
    current[0]["enabled"] = False
    assert wf.reconcile(current, want)["update"][0]["changes"] == ["enabled"]


def test_rule_no_longer_in_the_plan_is_removed_and_nothing_else():
    want = desired()
    stale = dict(want[0], name="vms-deploy-old-tcp-1-gone")
    result = wf.reconcile(as_windows_reports(want) + [stale], want)
    assert result["remove"] == ["vms-deploy-old-tcp-1-gone"]
    assert result["add"] == result["update"] == []


def test_refuses_a_desired_set_without_winrm():
    no_winrm = [r for r in desired() if not wf.covers(r, "TCP", 5986)]
    with pytest.raises(ValueError, match="WinRM"):
        wf.reconcile([], no_winrm)


def test_refuses_rules_of_another_group_and_duplicate_names():
    want = desired()
    with pytest.raises(ValueError, match="group"):
        wf.reconcile([], want + [dict(want[0], name="x", group="Remote Desktop")])
    with pytest.raises(ValueError, match="duplicate"):
        wf.reconcile([], want + [want[0]])


def test_winrm_rule_on_a_non_default_port():
    rules = wf.rules_for_host(plan(), "win1", 15986)
    assert any(wf.covers(r, "TCP", 15986) for r in rules)
    wf.reconcile([], rules, winrm_port=15986)  # accepted


def test_covers_checks_protocol_range_and_state():
    rule = {"protocol": "TCP", "local_ports": "40001-40099", "remote_addresses": ["10.0.0.0/8"], "enabled": True}
    assert wf.covers(rule, "TCP", 40050)
    assert not wf.covers(rule, "UDP", 40050)
    assert not wf.covers(rule, "TCP", 40100)
    assert not wf.covers(dict(rule, enabled=False), "TCP", 40050)


def test_diff_text_lists_one_line_per_rule():
    before, after = wf.diff_text([], desired())
    assert before == ""
    assert len(after.splitlines()) == len(desired())
    assert "vms-deploy-gateway-tcp-9080-gateway-http: TCP 9080 from 10.1.0.0/24,100.64.0.0/10 allow enabled" in after


def test_round_trips_one_script_per_host_versus_one_task_per_rule():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/: scripts at the top of the checkout
    from bench.windows_round_trips import round_trips  # a bench measure, not the product's

    counts = round_trips(plan())
    assert counts == {"win1": {"rules": 4, "script": 1, "per_rule_module": 4}}


# --- the PowerShell script mirrors this module --------------------------------------------------

def test_script_and_python_name_each_other():
    """Every "PS: X" note in the Python module names a function in the script, and every
    "Python: y" note in the script names a function in the module."""
    script = SCRIPT.read_text(encoding="utf-8")
    module = Path(wf.__file__).read_text(encoding="utf-8")
    ps_functions = set(re.findall(r"^function ([\w-]+)", script, re.MULTILINE))
    for name in re.findall(r"PS: ([A-Z][\w-]+)", module):
        assert name in ps_functions, f"windows_firewall.py names PS function {name}, missing in the script"
    for names in re.findall(r"# Python: ([\w, ]+)", script):
        names = names.replace("windows_foreign", "")
        for name in [n.strip() for n in names.split(",") if n.strip()]:
            if name.split()[0] in ("normalize_address", "normalize_addresses", "normalize_ports", "comparable",
                                   "covers", "reconcile", "diff_text", "_address_key", "digest_found", "admits",
                                   "locked_out_peers"):
                assert hasattr(wf, name.split()[0]), name
            else:
                pytest.fail(f"script names unknown Python function {name!r}")


def test_script_contract_points():
    """Static checks of the behaviour the script must keep (there is no PowerShell here to run it)."""
    script = SCRIPT.read_text(encoding="utf-8")
    assert "[CmdletBinding(SupportsShouldProcess)]" in script  # else win_powershell skips it in check mode
    assert "$Ansible.CheckMode" in script and "$Ansible.Diff" in script and "$Ansible.Changed" in script
    assert "Get-NetFirewallRule -Group $GroupName" in script  # changes only its own group
    apply = script[script.index("# --- apply"):]
    assert (apply.index("New-NetFirewallRule") < apply.index("Set-NetFirewallRule")
            < apply.index("Remove-NetFirewallRule"))
    assert "rolled back" in script
    assert "Test-VmsCovers $_ 'TCP' $WinRmPort" in script  # lock-out guard
    # Set-NetFirewallRule selects by -DisplayName; renaming needs -NewDisplayName.
    assert "Get-VmsCmdletArgs $u.after -ForSet" in script and "'NewDisplayName'" in script


# --- issue 12: which plan the group came from ----------------------------------------------------------

def test_every_rule_records_the_plan_digest_and_an_unchanged_group_is_left_alone():
    rules = wf.rules_for_host(plan(), "win1", digest="0123abcd")
    assert all(r["description"].endswith(" [vms-deploy plan 0123abcd]") for r in rules)
    assert wf.digest_found(rules) == ["0123abcd"]
    again = wf.reconcile(rules, wf.rules_for_host(plan(), "win1", digest="0123abcd"))
    assert not again["add"] and not again["update"] and not again["remove"]
    moved = wf.reconcile(rules, wf.rules_for_host(plan(), "win1", digest="ffff0000"))
    assert {u["name"] for u in moved["update"]} == {r["name"] for r in rules}
    assert all(u["changes"] == ["description"] for u in moved["update"])
    assert wf.digest_found([{"description": "made by hand"}]) == []
    long = wf.describe("x" * 2000, "0123abcd")
    assert len(long) == 1000 and long.endswith("[vms-deploy plan 0123abcd]")


# --- issue 14, item 8: established WinRM connections must stay admitted --------------------------------

def test_reconcile_refuses_rules_that_would_not_admit_an_established_winrm_peer():
    rules = desired()  # WinRM from 10.9.0.0/24 only
    assert wf.reconcile([], rules, 5986, ["10.9.0.7", "::ffff:10.9.0.8", "127.0.0.1", "::1"])["add"]
    with pytest.raises(ValueError, match=r"established WinRM connections from 10\.20\.0\.5 \(tcp 5986\)") as err:
        wf.reconcile([], rules, 5986, ["10.9.0.7", "10.20.0.5"])
    assert "vms_win_controller_address" in str(err.value)
    with pytest.raises(ValueError, match="fe80::1"):  # the plan's rules are IPv4: an IPv6 session would drop
        wf.reconcile([], rules, 5986, ["fe80::1"])
    assert wf.locked_out_peers(rules, ["10.9.0.200", "10.9.1.1"], 5986) == ["10.9.1.1"]
    assert wf.admits(rules[-1], "TCP", 5986, "10.9.0.1") and not wf.admits(rules[-1], "TCP", 5985, "10.9.0.1")
