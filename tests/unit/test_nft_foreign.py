"""Tables vms-deploy does not own that open traffic (issue 21 item 7), read from a real `nft -j list ruleset`.

The listing comes from the kernel (a fresh network namespace: unshare -n), with the rendered edge
table and a table planted the way the issue's demo did (public 8888 DNAT'ed to the gateway's 9080).
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import ROOT

from vms_deploy import nft_foreign
from vms_deploy.render.nftables_edge import render_edge_ruleset

PLAN = json.loads((ROOT / "tests" / "unit" / "fixtures" / "nftables" / "plan_valerus_aio.json").read_text())
PLANTED = """table ip planted_by_hand {
\tchain pre {
\t\ttype nat hook prerouting priority dstnat - 10; policy accept;
\t\tip daddr 172.28.10.2 tcp dport 8888 dnat to 172.28.12.10:9080
\t}
\tchain fw {
\t\ttype filter hook forward priority 0; policy accept;
\t\ttcp dport { 22, 80 } counter accept
\t\tip saddr 10.0.0.0/8 jump quiet
\t}
\tchain quiet {
\t\tcounter drop
\t}
}
table inet harmless {
\tchain c {
\t\ttype filter hook input priority 10; policy accept;
\t\ttcp dport 4444 counter drop
\t}
}
"""


def kernel_listing(text: str) -> dict:
    if not shutil.which("nft") or not shutil.which("unshare"):
        pytest.skip("needs nft and unshare")
    done = subprocess.run(["unshare", "-n", "sh", "-c", "nft -f - && nft -j list ruleset"], input=text,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot load a ruleset in a network namespace: {done.stderr.strip()}")
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def listing():
    return kernel_listing(render_edge_ruleset(PLAN, "edge1") + PLANTED)


def test_the_planted_dnat_and_accept_are_named_and_nothing_of_ours(listing):
    found = nft_foreign.foreign(listing)
    assert {f["table"] for f in found} == {"ip planted_by_hand"}
    dnat = next(f for f in found if f["chain"] == "pre")
    assert dnat["hook"] == "prerouting" and "DNAT" in " ".join(dnat["does"])
    assert "172.28.10.2" in dnat["rule"] and "8888" in dnat["rule"] and "172.28.12.10:9080" in dnat["rule"]
    assert [f["chain"] for f in found] == ["pre", "fw"], "the jump and the drop open nothing"


def test_one_drift_per_foreign_table_naming_it(listing):
    got = nft_foreign.findings(listing, "edge1")
    assert [(f["check"], f["status"]) for f in got] == [("foreign nftables table ip planted_by_hand", "drift")]
    assert "dnat to 172.28.12.10:9080" in got[0]["detail"] and "nft delete table ip planted_by_hand" in got[0]["detail"]
    assert nft_foreign.to_remove(listing) == [{"family": "ip", "name": "planted_by_hand"}]


def test_accepted_tables_and_a_clean_host(listing):
    assert nft_foreign.findings(listing, "edge1", accepted=["ip planted_by_hand"])[0]["status"] == "ok"
    clean = kernel_listing(render_edge_ruleset(PLAN, "edge1"))
    assert nft_foreign.findings(clean, "edge1")[0]["status"] == "ok"
    # Owned by name: another name for our table makes the real one foreign.
    assert nft_foreign.to_remove(clean, owned=["inet other"]) == [{"family": "inet", "name": "vms_deploy"}]


def test_a_removed_table_is_a_warning_and_bad_input_an_error(listing):
    got = nft_foreign.findings(listing, "edge1", removed=["ip planted_by_hand"])
    assert got[0]["status"] == "warning" and "removed" in got[0]["detail"]
    with pytest.raises(nft_foreign.ForeignError, match="nft -j list ruleset"):
        nft_foreign.foreign("table ip x {}")
