"""Issue 14, item 7: inbound allow rules outside the vms-deploy group that admit more than the plan.

Windows admits a packet when any enabled allow rule matches, so the expectations here are stated from
that rule (an address/port the group does not admit, admitted by another rule = more than the plan),
with the rules Windows and a bootstrap leave behind (built-in WinRM/RDP/SMB, "Allow WinRM HTTPS" to Any)."""
from __future__ import annotations

from vms_deploy.render import windows_firewall as wf
from vms_deploy.render import windows_foreign as wfo

PLAN = {"schema": 1, "product": "valerus", "zones": {"management": ["10.9.0.0/24"]},
        "hosts": {"win1": {"address": "10.0.0.10", "platform": "windows", "components": ["recorder"], "inbound": [
            {"protocol": "tcp", "ports": [554, 554], "sources": ["10.1.0.0/24"], "component": "recorder",
             "service": "rtsp", "purpose": "video"},
            {"protocol": "tcp", "ports": [40001, 40099], "sources": ["10.2.0.0/24"], "component": "recorder",
             "service": "media", "purpose": "media"}]}}}
GROUP = wf.rules_for_host(PLAN, "win1", 5986)


def foreign(name, ports, addresses, protocol="TCP", store="Local", enabled=True, group="", action="Allow",
            direction="Inbound"):
    return {"name": name, "display_name": name, "group": group, "store": store, "protocol": protocol,
            "local_ports": ports, "remote_addresses": addresses, "direction": direction, "action": action,
            "enabled": enabled, "program": "Any"}


def test_bootstrap_winrm_rule_open_to_any_widens_a_planned_port():
    rule = foreign("Bootstrap-WinRM", ["5986"], ["Any"])
    [found] = wfo.exceeding(GROUP, [rule])
    assert found["planned"] and found["excess"][0]["protocol"] == "TCP" and found["excess"][0]["ports"] == "5986"
    excess = found["excess"][0]["addresses"]
    assert "10.9.0.0/24" not in excess and "0.0.0.0/5" in excess  # everything except the management network
    assert wfo.to_disable([found]) == ["Bootstrap-WinRM"]


def test_a_rule_inside_the_plan_is_not_reported():
    assert wfo.exceeding(GROUP, [foreign("narrow", ["554"], ["10.1.0.128/25"]),
                                 foreign("mask-form", ["40010-40020"], ["10.2.0.0/255.255.255.0"])]) == []


def test_partial_overlap_reports_only_the_uncovered_pieces():
    [found] = wfo.exceeding(GROUP, [foreign("range", ["40050-40150"], ["10.2.0.0/24"])])
    assert [(p["ports"], p["planned"]) for p in found["excess"]] == [("40100-40150", False)]
    assert not found["planned"] and wfo.to_disable([found]) == []


def test_ports_the_plan_never_opens_are_reported_but_not_planned():
    rdp, smb, icmp = (foreign("RDP", ["3389"], ["Any"]), foreign("SMB", ["445"], ["LocalSubnet"]),
                      foreign("ICMP", ["Any"], ["Any"], protocol="ICMPv4"))
    found = {f["name"]: f for f in wfo.exceeding(GROUP, [rdp, smb, icmp])}
    assert set(found) == {"RDP", "SMB", "ICMP"}
    assert not any(f["planned"] for f in found.values())
    assert found["SMB"]["excess"][-1]["addresses"] == ["LocalSubnet"]  # a keyword is never inside the plan
    assert found["ICMP"]["excess"][0]["protocol"] == "ICMPV4"


def test_any_port_any_protocol_rule_hits_planned_ports():
    [found] = wfo.exceeding(GROUP, [foreign("vendor", ["Any"], ["Any"], protocol="Any")])
    assert found["planned"]
    assert {p["protocol"] for p in found["excess"]} == {"TCP", "UDP", "other protocols"}


def test_disabled_block_outbound_and_own_rules_are_ignored():
    assert wfo.exceeding(GROUP, [foreign("off", ["554"], ["Any"], enabled=False),
                                 foreign("block", ["554"], ["Any"], action="Block"),
                                 foreign("out", ["554"], ["Any"], direction="Outbound"),
                                 foreign("ours", ["554"], ["Any"], group=wf.GROUP)]) == []


def test_group_policy_rules_are_reported_not_disabled():
    [found] = wfo.exceeding(GROUP, [foreign("gpo-winrm", ["5986"], ["Any"], store="GroupPolicy")])
    assert found["planned"] and wfo.to_disable([found]) == []


def test_audit_findings_profiles_gpo_and_digest():
    result = {"foreign": [foreign("Bootstrap-WinRM", ["5986"], ["Any"]), foreign("RDP", ["3389"], ["Any"])],
              "profiles": [{"name": "Domain", "enabled": "True", "allow_local_rules": "False"},
                           {"name": "Public", "enabled": "False", "allow_local_rules": "NotConfigured"}],
              "digest": ["aaaa"]}
    findings = wfo.audit_findings("win1", result, GROUP, "bbbb")
    by = [(f["check"], f["status"]) for f in findings]
    assert ("Windows firewall profiles", "drift") in by and by.count(("Windows firewall profiles", "drift")) == 2
    texts = " | ".join(f["detail"] for f in findings)
    assert "AllowLocalFirewallRules=False on the Domain profile" in texts and "Public firewall profile is off" in texts
    rules = [f for f in findings if f["check"].endswith("outside the vms-deploy group")]
    assert [(f["status"], f["detail"].split("'")[1]) for f in rules] == [
        ("drift", "Bootstrap-WinRM"), ("warning", "RDP")]
    assert "vms_win_disable_foreign_rules" in rules[0]["detail"]
    [digest] = [f for f in findings if f["check"] == "Windows firewall plan digest"]
    assert digest["status"] == "drift" and "records plan aaaa, the current plan is bbbb" in digest["detail"]
    clean = wfo.audit_findings("win1", {"foreign": [], "profiles": [], "digest": ["bbbb"]}, GROUP, "bbbb")
    assert {f["status"] for f in clean} == {"ok"}
