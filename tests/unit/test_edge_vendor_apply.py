"""Applying the vendor backends on a device that is the customer's: only the site's objects change.

routeros runs community.routeros's own api_modify code (tests/unit/edge_vendor_devices.py) against a
stand-in RouterOS holding the customer's configuration: a first run creates the site's entries, a
second changes nothing, check mode changes nothing and says what would change, a changed plan removes
what it no longer has, an entry added by hand to a site list goes, and every entry of the customer
stays as it was. fortios: the role's comparison of the FortiGate's objects with the data (what is
the site's, what collides, what is stale) and the moves that keep the site's block first.
"""
from __future__ import annotations

import copy

import pytest
from edge_vendor_cases import example_plan
from edge_vendor_devices import CUSTOMER, RouterOS, apply_routeros

from vms_deploy.render import fortios, routeros

TABLES = ("interface list", "interface list member", "ip firewall address-list", "ip firewall nat",
          "ip firewall filter")


def _customer_rows(device: RouterOS) -> dict:
    return {t: [{k: v for k, v in r.items() if k != ".id"} for r in device.rows(t)
                if not str(r.get("comment") or "").startswith("vms-deploy ")] for t in TABLES}


def _site_rows(device: RouterOS, payload: dict) -> dict:
    return {t: sorted(str(sorted((k, str(v)) for k, v in r.items() if k != ".id")) for r in device.rows(t)
                      if str(r.get("comment") or "").startswith(payload["owner"]) or r.get("chain") == payload["chain"])
            for t in TABLES}


def _fresh():
    return RouterOS(copy.deepcopy(CUSTOMER))


@pytest.mark.parametrize("name", ["valerus_separate_app_server", "xprotect_distributed_dmz", "generic_nvr_home"])
def test_routeros_first_run_creates_second_changes_nothing_customer_untouched(name):
    payload = routeros.plan_data(example_plan(name, "routeros"))
    device = _fresh()
    customer = _customer_rows(device)
    first = apply_routeros(device, payload)
    assert any(r["changed"] for r in first)
    assert _customer_rows(device) == customer
    second = apply_routeros(device, payload)
    assert [r["changed"] for r in second] == [False] * len(second), "a second run must change nothing"


def test_routeros_check_mode_changes_nothing_and_shows_the_diff():
    payload = routeros.plan_data(example_plan("valerus_separate_app_server", "routeros"))
    device = _fresh()
    before = copy.deepcopy(device.tables)
    results = apply_routeros(device, payload, check_mode=True)
    assert device.tables == before
    assert any(r["changed"] for r in results)
    nat = results[[c["path"] for c in payload["calls"]].index("ip firewall nat")]
    assert nat["diff"]["after"]["data"] and not nat["diff"]["before"]["data"]


def test_routeros_a_changed_plan_removes_what_it_no_longer_has():
    plan = example_plan("valerus_separate_app_server", "routeros")
    device = _fresh()
    apply_routeros(device, routeros.plan_data(plan))
    smaller = copy.deepcopy(plan)
    smaller["forwards"], smaller["remote_access"] = [], "none"
    smaller["zones"]["management"] = []
    smaller["zone_flows"] = [f for f in smaller["zone_flows"] if "management" not in (f["from"], f["to"])]
    for host in smaller["hosts"].values():
        host["inbound"] = [r for r in host["inbound"] if r.get("component") != "management"]
    payload = routeros.plan_data(smaller)
    apply_routeros(device, payload)
    fresh = _fresh()
    apply_routeros(fresh, payload)
    owner = payload["owner"]
    assert _site_rows(device, payload) == _site_rows(fresh, payload), "exactly what a first run of the new plan makes"
    assert not [r for r in device.rows("ip firewall nat") if str(r.get("comment", "")).startswith(owner)]
    assert "vms-valerus-split-management" not in {r["name"] for r in device.rows("interface list")}
    assert _customer_rows(device) == _customer_rows(_fresh())


def test_routeros_an_entry_added_by_hand_to_a_site_list_goes_a_customer_list_stays():
    payload = routeros.plan_data(example_plan("valerus_separate_app_server", "routeros"))
    device = _fresh()
    apply_routeros(device, payload)
    site_list = next(r["list"] for r in device.rows("ip firewall address-list") if r["list"].startswith("vms-"))
    member_list = next(r["list"] for r in device.rows("interface list member") if r["list"].startswith("vms-"))
    table = device.path().join("ip", "firewall", "address-list")
    table.add(list=site_list, address="0.0.0.0/0")  # someone widens the site's rule by hand
    table.add(list="blocked", address="100.67.0.0/16", comment="customer")
    device.path().join("interface", "list", "member").add(list=member_list, interface="ether9")
    results = apply_routeros(device, payload)
    assert any(r["changed"] for r in results)
    rows = device.rows("ip firewall address-list")
    assert not [r for r in rows if r["list"] == site_list and r["address"] == "0.0.0.0/0"]
    assert [r for r in rows if r["list"] == "blocked" and r["address"] == "100.67.0.0/16"]
    assert not [r for r in device.rows("interface list member") if r["interface"] == "ether9"]


def test_routeros_a_rule_added_to_the_sites_chain_goes():
    payload = routeros.plan_data(example_plan("valerus_separate_app_server", "routeros"))
    device = _fresh()
    apply_routeros(device, payload)
    device.path().join("ip", "firewall", "filter").add(chain=payload["chain"], action="accept")
    apply_routeros(device, payload)
    assert not [r for r in device.rows("ip firewall filter") if r["chain"] == payload["chain"]
                and r["action"] == "accept" and "comment" not in r]


def test_routeros_two_sites_on_one_device_keep_each_others_entries():
    one = routeros.plan_data(example_plan("valerus_separate_app_server", "routeros"))
    other_plan = example_plan("xprotect_distributed_dmz", "routeros")
    other_plan["site"] = "valerus-split-2"  # a name that starts with the first site's
    other = routeros.plan_data(other_plan)
    device = _fresh()
    apply_routeros(device, other)
    kept = _site_rows(device, other)
    apply_routeros(device, one)
    assert _site_rows(device, other) == kept
    order = [r[".id"] for r in device.rows("ip firewall filter")]
    assert [r["changed"] for r in apply_routeros(device, other)] == [False] * len(other["calls"])
    assert [r["changed"] for r in apply_routeros(device, one)] == [False] * len(one["calls"])
    assert [r[".id"] for r in device.rows("ip firewall filter")] == order, "the two jumps are not moved on every run"
    forward = [r for r in device.rows("ip firewall filter") if r["chain"] == "forward"]
    assert {forward[0]["jump-target"], forward[1]["jump-target"]} == {one["chain"], other["chain"]}


# --- fortios: what the role decides from the FortiGate's objects -------------------------------------------

def _fortios_payload():
    return fortios.plan_data(example_plan("valerus_separate_app_server", "fortios"))


def _device_policies(payload, extra=()):
    return [{"policyid": p["policyid"], "name": p["name"], "comments": p["comments"]}
            for p in payload["firewall_policy"]] + list(extra)


def test_fortios_foreign_objects_are_never_stale_and_collisions_are_refused():
    payload = _fortios_payload()
    first, last = payload["policy_ids"]
    mark = payload["owner"]
    current = {
        "firewall_policy": [{"policyid": 1, "name": "lan-out", "comments": ""},
                            {"policyid": first + 5, "name": "someone", "comments": "manual"},
                            {"policyid": first + 900, "name": "old", "comments": mark + "old flow"}],
        "firewall_address": [{"name": payload["firewall_address"][0]["name"], "comment": "hand made"},
                             {"name": payload["prefix"] + "10.99.0.0_24", "comment": mark + "10.99.0.0/24"},
                             {"name": payload["prefix"] + "x", "comment": "not ours"}],
        "firewall_vip": [{"name": payload["prefix"] + "fwd-gone", "comment": mark + "forward gone"}],
    }
    got = fortios.reconcile(payload, current)
    assert len(got["collisions"]) == 2
    assert any(str(first + 5) in c for c in got["collisions"])
    assert any(payload["firewall_address"][0]["name"] in c for c in got["collisions"])
    assert got["stale"] == {"firewall_policy": [first + 900], "firewall_address": [payload["prefix"] + "10.99.0.0_24"],
                            "firewall_vip": [payload["prefix"] + "fwd-gone"]}
    mine = {"firewall_policy": _device_policies(payload),
            **{k: [{"name": e["name"], "comment": e["comment"]} for e in payload[k]] for k in fortios.OBJECT_KEYS}}
    assert fortios.reconcile(payload, mine) == {"collisions": [], "stale": {}}


def _apply_moves(order, moves):
    order = list(order)
    for move in moves:
        pid = int(move["self"])
        order.remove(pid)
        if "before" in move:
            order.insert(order.index(int(move["before"])), pid)
        else:
            order.insert(order.index(int(move["after"])) + 1, pid)
    return order


def test_fortios_moves_put_the_sites_block_first_in_its_order_and_then_change_nothing():
    payload = _fortios_payload()
    ours = [p["policyid"] for p in payload["firewall_policy"]]
    for device in ([1, 2, 3], [1] + ours[::-1] + [2], ours[:3] + [9] + ours[3:], ours):
        created = device + [p for p in ours if p not in device]  # FortiOS appends a new policy
        after = _apply_moves(created, fortios.moves(payload, device))
        assert after[:len(ours)] == ours and sorted(after[len(ours):]) == sorted(set(device) - set(ours))
        assert fortios.moves(payload, after) == []
