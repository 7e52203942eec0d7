"""Issue 21 item 7 with packets and the audit: a foreign DNAT planted on the edge neither works nor passes.

A table that is not vms-deploy's (`ip vms_planted_by_hand`) DNATs the public address's TCP 8888 to the
gateway's planned forward destination (Valerus 9080). The Internet vantage must get nothing through
(the edge's forward rules match the connection's original destination), audit.yml must exit 2 naming
the table, and site.yml --tags edge with vms_remove_foreign_tables deletes it. Two playbook runs (about a
minute or two), so one scenario proves it (SCENARIOS), not every lab.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest
import testinfra
from conftest import ROOT, inventory_path, line, run_probe
from test_flows import plan_container

TABLE = "vms_planted_by_hand"
PORT = 8888
RUN_TIMEOUT = 600
SCENARIOS = {"dmz_valerus"}


def _playbook(path: str, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="0",
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    return subprocess.run(["ansible-playbook", "-i", str(inventory_path()), path, *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)


def test_a_foreign_forward_neither_works_nor_passes_the_audit(plan, vantages, tmp_path):
    if inventory_path().name not in SCENARIOS:
        pytest.skip(f"proven in the {', '.join(sorted(SCENARIOS))} scenario only (two playbook runs)")
    edge_host = (plan.get("edge") or {}).get("host")
    forwards = plan.get("forwards") or []
    if not edge_host or not forwards or "internet" not in {v["name"] for v in vantages}:
        pytest.skip("no managed edge with forwards and an Internet vantage")
    public = plan["edge"]["public_address"]
    fwd = next((f for f in forwards if f["to_ports"][0] == 9080), forwards[0])
    assert not any(f["protocol"] == "tcp" and f["external_ports"][0] <= PORT <= f["external_ports"][1]
                   for f in forwards), f"precondition: {PORT} is no planned forward"
    edge = testinfra.get_host(f"docker://{plan_container(edge_host)}")
    planted = (f"table ip {TABLE} {{\n\tchain pre {{\n\t\ttype nat hook prerouting priority dstnat - 10; "
               f"policy accept;\n\t\tip daddr {public} tcp dport {PORT} dnat to "
               f"{fwd['to_address']}:{fwd['to_ports'][0]}\n\t}}\n}}\n")
    check = {"vantage": "internet", "source": next(v["address"] for v in vantages if v["name"] == "internet"),
             "address": public, "protocol": "tcp", "port": PORT, "expect_open": False, "forbidden": True,
             "invariant": "1 internet: only planned forwards answer on the public address",
             "target": f"foreign DNAT to {fwd['to_host']}:{fwd['to_ports'][0]}", "why": "planted by hand"}
    edge.check_output(f"cat > /tmp/vms-planted.nft <<'EOF'\n{planted}EOF\nnft -f /tmp/vms-planted.nft")
    try:
        got = run_probe("internet", [check])[0]
        assert not got["open"] and not got["reached"], "the foreign forward works: " + line(got)

        audit = _playbook("playbooks/audit.yml", "-e", f"vms_audit_dir={tmp_path / 'audit'}")
        assert audit.returncode == 2, audit.stdout[-4000:]
        report = json.loads((tmp_path / "audit" / "audit.json").read_text())
        named = [f for f in report["findings"] if f["check"] == f"foreign nftables table ip {TABLE}"]
        assert [f["host"] for f in named] == [edge_host] and named[0]["status"] == "drift", report["findings"]
        assert f"dport {PORT} dnat to {fwd['to_address']}:{fwd['to_ports'][0]}" in named[0]["detail"], named
        assert any(f"foreign nftables table ip {TABLE}" in d for d in report["drift"]), report["drift"]

        removed = _playbook("playbooks/site.yml", "--tags", "edge", "--limit", edge_host,
                            "-e", '{"vms_remove_foreign_tables": true}')
        assert removed.returncode == 0, removed.stdout[-4000:]
        assert edge.run(f"nft list table ip {TABLE}").rc != 0, "vms_remove_foreign_tables left the table"
    finally:
        edge.run(f"nft delete table ip {TABLE}")
