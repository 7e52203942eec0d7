"""Every flow the plan allows connects; every flow it does not allow is refused (from each vantage)."""

from __future__ import annotations

import re

import pytest
import testinfra
from conftest import container, line, run_probe


def _one(results, vantage, **match):
    found = [r for r in results[vantage] if all(r[k] == v for k, v in match.items())]
    return found[0] if found else None


def test_plan_has_checks_for_every_vantage(results, vantages):
    assert vantages, "the lab inventory defines no vms_lab_vantages"
    for v in vantages:
        assert results[v["name"]], f"no checks planned for vantage {v['name']}"
    # Default drop must be exercised somewhere: at least one planned refusal in the lab.
    assert any(not r["expect_open"] for rs in results.values() for r in rs)


@pytest.mark.parametrize("vantage", ["internet", "operator", "camera"])
def test_every_flow_matches_the_plan(results, vantage):
    if vantage not in results:
        pytest.skip(f"no {vantage} vantage in this lab")
    from vms_lab.flows import wrong as wrong_results
    wrong = wrong_results(results[vantage])
    assert not wrong, "\n".join(line(r) for r in wrong)


@pytest.mark.parametrize("vantage", ["internet", "operator", "camera"])
def test_no_forbidden_tuple_answers_whatever_the_plan_says(results, vantage):
    """The invariants, judged by packets: every private address of every site host on every catalog,
    management and camera port (and the public address on every port) from this vantage."""
    if vantage not in results:
        pytest.skip(f"no {vantage} vantage in this lab")
    forbidden = [r for r in results[vantage] if r["forbidden"]]
    assert forbidden, "the invariants name nothing this vantage must not reach"
    answered = [r for r in forbidden if r["open"] or r.get("reached")]
    assert not answered, "\n".join(line(r) for r in answered)


def test_internet_reaches_gateway_through_public_address(plan, results):
    """Internet -> public address port 80 reaches the gateway's 9080 (Valerus), or the first forward."""
    forwards = plan["forwards"]
    if not forwards:
        pytest.skip("this site has no port forwards")
    fwd = next((f for f in forwards if f["external_ports"][0] == 80 and f["to_ports"][0] == 9080), forwards[0])
    r = _one(results, "internet", address=plan["edge"]["public_address"], port=fwd["external_ports"][0],
             protocol=fwd["protocol"])
    assert r and r["expect_open"] and r["open"], line(r) if r else "no check planned"
    assert f"{fwd['to_ports'][0]}" in r["target"]


def test_internet_to_recorder_directly_fails(plan, results):
    recorders = [h for h, v in plan["hosts"].items() if "recorder" in v["components"]]
    tried = [r for r in results["internet"] if r["target"].split()[0] in recorders
             and r["target"].split()[1].startswith("recorder/")]
    assert tried, "no direct Internet -> recorder check was planned"
    assert all(not r["open"] for r in tried), "\n".join(line(r) for r in tried if r["open"])


def test_camera_to_application_server_fails(plan, results):
    apps = [h for h, v in plan["hosts"].items() if {"app_server", "management_server"} & set(v["components"])]
    tried = [r for r in results["camera"] if r["target"].split()[0] in apps]
    assert tried, "no camera -> application server check was planned"
    assert all(not r["open"] for r in tried), "\n".join(line(r) for r in tried if r["open"])


def test_non_recorder_to_management_server_9000_fails(plan, results):
    if plan["product"] != "xprotect":
        pytest.skip("XProtect only: only Recording Servers may reach the Management Server on TCP 9000")
    tried = [r for v in ("operator", "camera") for r in results.get(v, []) if r["port"] == 9000]
    assert tried, "no check of TCP 9000 was planned"
    assert all(not r["open"] for r in tried), "\n".join(line(r) for r in tried if r["open"])


def test_client_lan_reaches_recorder_streaming(plan, results):
    streaming = [r for r in results["operator"] if r["expect_open"] and "recorder" in r["target"]]
    assert streaming, "no client -> recorder flow is allowed by the plan"
    assert all(r["open"] for r in streaming), "\n".join(line(r) for r in streaming if not r["open"])


def test_verify_fails_when_a_rule_is_removed_by_hand(plan, all_checks):
    """Delete one accept rule with nft on the host, show the probe notices, then restore the table."""
    allowed = [c for c in all_checks if c["vantage"] == "operator" and c["expect_open"]
               and c["address"] != (plan["edge"] or {}).get("public_address")]
    if not allowed:
        pytest.skip("no allowed operator flow")
    check = allowed[0]
    host_name = check["target"].split()[0]
    host = testinfra.get_host(f"docker://{plan_container(host_name)}")
    saved = host.check_output("nft list table inet vms_deploy")
    listing = host.check_output("nft -a list chain inet vms_deploy input")
    pattern = rf"{check['protocol']} dport {check['port']}\b.* accept .*# handle (\d+)"
    handle = next((m.group(1) for m in map(lambda ln: re.search(pattern, ln), listing.splitlines()) if m), None)
    assert handle, f"no accept rule for {check['protocol']}/{check['port']} in\n{listing}"
    assert run_probe("operator", [check])[0]["open"], "precondition: the flow works before the rule is removed"
    try:
        host.check_output(f"nft delete rule inet vms_deploy input handle {handle}")
        after = run_probe("operator", [check])[0]
        assert after["open"] is False, "verification did not notice the removed rule: " + line(after)
    finally:
        restore = "delete table inet vms_deploy\n" + saved
        host.run("cat > /tmp/vms-restore.nft <<'EOF'\n" + restore + "\nEOF\nnft -f /tmp/vms-restore.nft")
    assert host.check_output("nft list table inet vms_deploy") == saved
    assert run_probe("operator", [check])[0]["open"], "restored table does not admit the flow again"


def plan_container(host: str) -> str:
    import yaml
    from conftest import inventory_path
    inv = yaml.safe_load((inventory_path() / "hosts.yml").read_text())

    def find(node):
        for name, hv in ((node or {}).get("hosts") or {}).items():
            if name == host and hv and hv.get("ansible_host"):
                return hv["ansible_host"]
        for child in ((node or {}).get("children") or {}).values():
            got = find(child)
            if got:
                return got
        return None

    return find(inv["all"]) or container(host)


def test_verify_fails_when_the_edge_routes_the_internet_inside(plan, all_checks):
    """The first build's defect, put back by hand on the edge: a routed accept from the Internet to a
    private address. The invariant checks (not the plan) must catch it with packets, then the table
    is restored."""
    from vms_lab.flows import wrong as wrong_results
    forbidden = [c for c in all_checks if c["vantage"] == "internet" and c["forbidden"] and c["protocol"] == "tcp"
                 and c["address"] != (plan["edge"] or {}).get("public_address")
                 and c["invariant"].startswith("1 internet")]
    if not forbidden or not plan["edge"]["host"]:
        pytest.skip("no Internet vantage or no managed edge")
    # A forwarded service's private address: its host firewall admits Internet sources (they arrive
    # DNAT'ed), so only the edge keeps the private address closed.
    inner = {(f["to_address"], f["protocol"], f["to_ports"][0]) for f in plan["forwards"]}
    check = next((c for c in forbidden if (c["address"], c["protocol"], c["port"]) in inner), None)
    if check is None:
        pytest.skip("no forwarded service to plant the defect against")
    edge = testinfra.get_host(f"docker://{plan_container(plan['edge']['host'])}")
    saved = edge.check_output("nft list table inet vms_deploy")
    assert not wrong_results(run_probe("internet", [check])), "precondition: the private address is closed"
    try:
        edge.check_output(f"nft insert rule inet vms_deploy forward ip daddr {check['address']} "
                          f"tcp dport {check['port']} accept")
        after = run_probe("internet", [check])[0]
        assert after["open"] or after["reached"], \
            "the planted routed accept did not let the probe through: " + line(after)
        assert wrong_results([after]) == [after], "verification did not flag the forbidden flow: " + line(after)
    finally:
        edge.run("cat > /tmp/vms-restore.nft <<'EOF'\ndelete table inet vms_deploy\n" + saved + "\nEOF\n"
                 "nft -f /tmp/vms-restore.nft")
    assert edge.check_output("nft list table inet vms_deploy") == saved
