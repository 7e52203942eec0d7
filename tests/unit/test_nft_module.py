"""plugins/modules/vms_nft_table.py against the real `nft`, each test in its own network namespace.

The module runs as Ansible runs it (python3 module.py args.json) inside `unshare -n`, so the
host's own firewall is never touched. Every test starts from an empty ruleset.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "plugins" / "modules" / "vms_nft_table.py"
sys.path.insert(0, str(ROOT / "src"))
from vms_deploy.render.nftables_host import render_host_ruleset  # noqa: E402

PLAN = json.loads((Path(__file__).parent / "fixtures" / "nftables" / "plan_valerus_aio.json").read_text())


def _usable() -> bool:
    if not shutil.which("nft") or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _usable(), reason="needs nft and unshare -n (root)")


class Netns:
    """A private network namespace kept alive by a sleeping process; commands join it with nsenter."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.proc = subprocess.Popen(["unshare", "-n", "sleep", "120"])
        self.state_dir = tmp / "state"
        # Never run nft before the child really has its own namespace: that would be this machine's.
        mine = os.readlink("/proc/self/ns/net")
        for _ in range(200):
            try:
                if os.readlink(f"/proc/{self.proc.pid}/ns/net") != mine and \
                        Path(f"/proc/{self.proc.pid}/comm").read_text().strip() == "sleep":
                    break
            except OSError:
                pass
            time.sleep(0.01)
        else:
            self.close()
            raise RuntimeError("unshare -n did not create a network namespace")

    def run(self, argv, env=None, stdin=None):
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-n", *argv], capture_output=True, text=True,
                              env=env, input=stdin, timeout=60)

    def nft(self, *args):
        res = self.run(["nft", *args])
        return res.returncode, res.stdout, res.stderr

    def module(self, check=False, diff=True, ssh=None, ssh_in_parent=False, log_nft=False, **params):
        params.setdefault("state_dir", str(self.state_dir))
        args = dict(params, _ansible_check_mode=check, _ansible_diff=diff)
        path = self.tmp / "args.json"
        path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        env = {k: v for k, v in os.environ.items() if k != "SSH_CONNECTION"}
        argv = [sys.executable, str(MODULE), str(path)]
        if ssh:
            env["SSH_CONNECTION"] = ssh
        if log_nft:  # the module finds nft on PATH first: a wrapper that logs each call, then runs the real one
            env["PATH"] = "{}:{}".format(self.nft_wrapper(), env.get("PATH", ""))
        if ssh_in_parent:  # like sudo: the module's own environment lacks it, its parent shell has it
            argv = ["sh", "-c", 'env -u SSH_CONNECTION "$@"; exit $?', "sh", *argv]
        res = self.run(argv, env=env)
        out = res.stdout.strip().splitlines()
        assert out, f"module printed nothing: {res.stderr}"
        return json.loads(out[-1])

    def nft_wrapper(self) -> Path:
        wrap = self.tmp / "wrap"
        if not wrap.is_dir():
            wrap.mkdir()
            (wrap / "nft").write_text('#!/bin/sh\nprintf "%s\\n" "$*" >> {}\nexec {} "$@"\n'
                                      .format(self.nft_log, shutil.which("nft")))
            (wrap / "nft").chmod(0o755)
        return wrap

    @property
    def nft_log(self) -> Path:
        return self.tmp / "nft-calls.log"

    def nft_calls(self) -> list[str]:
        """nft invocations logged by the wrapper since the last call of this method."""
        calls = self.nft_log.read_text().splitlines() if self.nft_log.exists() else []
        self.nft_log.unlink(missing_ok=True)
        return calls

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def ns(tmp_path):
    n = Netns(tmp_path)
    yield n
    n.close()


@pytest.fixture
def content():
    return render_host_ruleset(PLAN, "app1")


def test_apply_then_idempotent(ns, content):
    first = ns.module(content=content)
    assert first["changed"] is True and not first.get("failed"), first
    rc, out, _ = ns.nft("list", "table", "inet", "vms_deploy")
    assert rc == 0 and "policy drop" in out and "tcp dport 9080 accept" in out
    second = ns.module(content=content)
    assert second["changed"] is False and second["in_sync"] is True and second["drift"] is False


def test_check_mode_changes_nothing_and_diffs(ns, content):
    res = ns.module(content=content, check=True)
    assert res["changed"] is True
    assert "tcp dport 9080 accept" in res["diff"]["after"] and res["diff"]["before"] == ""
    rc, _, _ = ns.nft("list", "table", "inet", "vms_deploy")
    assert rc != 0, "check mode created the table"
    assert not (ns.state_dir / "nft-inet-vms_deploy.json").exists()


def test_removed_plan_rule_is_removed(ns, content):
    ns.module(content=content)
    smaller = content.replace('\t\tip saddr @src_anywhere tcp dport 9081 accept comment "gateway/gateway_streaming"\n',
                              "")
    assert smaller != content
    res = ns.module(content=smaller)
    assert res["changed"] is True
    assert "-\t\tip saddr @src_anywhere tcp dport 9081" in "".join(
        __import__("difflib").unified_diff(res["diff"]["before"].splitlines(True),
                                           res["diff"]["after"].splitlines(True)))
    _, out, _ = ns.nft("list", "table", "inet", "vms_deploy")
    assert "dport 9081" not in out and "dport 9080" in out


def test_drift_detected_audited_and_repaired(ns, content):
    ns.module(content=content)
    _, out, _ = ns.nft("-a", "list", "chain", "inet", "vms_deploy", "input")
    handle = [ln for ln in out.splitlines() if "dport 9080" in ln][0].rsplit("handle", 1)[1].strip()
    assert ns.nft("delete", "rule", "inet", "vms_deploy", "input", "handle", handle)[0] == 0
    audit = ns.module(content=content, mode="audit")
    assert audit["drift"] is True and audit["in_sync"] is False and audit["changed"] is False
    assert "dport 9080" not in ns.nft("list", "table", "inet", "vms_deploy")[1], "audit changed the table"
    # The audit names the rule deleted by hand from this one result (no second read of the state file).
    assert "dport 9080" in audit["recorded_listing"] and "dport 9080" not in audit["listing"]
    fixed = ns.module(content=content)
    assert fixed["changed"] is True and fixed["drift"] is True
    assert "dport 9080" in ns.nft("list", "table", "inet", "vms_deploy")[1]
    assert ns.module(content=content)["changed"] is False
    assert "recorded_listing" not in ns.module(content=content, mode="audit")  # in sync: nothing to name


def test_invalid_ruleset_leaves_previous_table(ns, content):
    ns.module(content=content)
    before = ns.nft("list", "ruleset")[1]
    broken = content.replace("ip saddr @src_anywhere tcp dport 9080", "ip saddr @no_such_set tcp dport 9080")
    res = ns.module(content=broken)
    assert res.get("failed") is True and "nothing changed" in res["msg"] and "no_such_set" in res["stderr"]
    assert ns.nft("list", "ruleset")[1] == before
    syntax = content.replace("policy drop;", "policy dorp;")
    res = ns.module(content=syntax)
    assert res.get("failed") is True
    assert ns.nft("list", "ruleset")[1] == before


def test_other_tables_untouched(ns, content):
    assert ns.nft("add", "table", "ip", "docker_like")[0] == 0
    assert ns.nft("add", "chain", "ip", "docker_like", "c")[0] == 0
    ns.module(content=content)
    assert "table ip docker_like" in ns.nft("list", "ruleset")[1]
    ns.module(state="absent")
    out = ns.nft("list", "ruleset")[1]
    assert "table ip docker_like" in out and "vms_deploy" not in out
    assert ns.module(state="absent")["changed"] is False


def test_foreign_table_in_content_refused(ns, content):
    res = ns.module(content=content + "table ip other {\n}\n")
    assert res.get("failed") is True and "ip other" in res["msg"]


def test_live_ssh_connection_is_kept(ns, content):
    """A plan whose management networks miss the controller still admits the live SSH session."""
    res = ns.module(content=content, ssh="10.250.1.7 51234 172.28.12.10 2222")
    assert res["management_connection"] == "10.250.1.7 2222"
    _, out, _ = ns.nft("list", "chain", "inet", "vms_deploy", "input")
    rules = [ln.strip() for ln in out.splitlines() if "accept" in ln or "drop" in ln]
    assert rules[1].startswith("ip saddr 10.250.1.7 tcp dport 2222 accept"), rules
    # same connection again: no change; the rule is part of the owned table, never a separate step
    assert ns.module(content=content, ssh="10.250.1.7 40000 172.28.12.10 2222")["changed"] is False


def test_management_rule_survives_every_apply_atomically(ns, content):
    """The file nft applies always re-creates the table with management + established rules inside it."""
    ns.module(content=content)
    out = ns.nft("list", "chain", "inet", "vms_deploy", "input")[1]
    assert "ct state established,related accept" in out and "dport 22 accept" in out


def test_live_ssh_connection_found_under_become(ns, content):
    """sudo resets the environment: the module finds SSH_CONNECTION in its parent process instead."""
    res = ns.module(content=content, ssh="10.250.9.9 50000 172.28.12.10 22", ssh_in_parent=True)
    assert res["management_connection"] == "10.250.9.9 22", res
    assert "ip saddr 10.250.9.9 tcp dport 22 accept" in ns.nft("list", "chain", "inet", "vms_deploy", "input")[1]


def test_no_change_rerun_only_reads_the_table_once(ns, content):
    """The no-change path is one read-only `nft -s list table`: no validation, no apply, no second read."""
    assert ns.module(content=content, log_nft=True)["changed"] is True
    read, check, apply, reread = ns.nft_calls()  # read, validate, one transaction, record what it made
    assert read == reread == "-s list table inet vms_deploy", (read, reread)
    assert check.startswith("-c -f ") and apply == check[len("-c "):], (check, apply)
    again = ns.module(content=content, log_nft=True)
    assert again["changed"] is False and again["in_sync"] is True
    assert ns.nft_calls() == ["-s list table inet vms_deploy"]
    assert ns.module(content=content, check=True, log_nft=True)["changed"] is False
    assert ns.nft_calls() == ["-s list table inet vms_deploy"]


def test_check_mode_validates_without_applying(ns, content):
    ns.module(content=content, check=True, log_nft=True)
    calls = ns.nft_calls()
    assert calls[0] == "-s list table inet vms_deploy" and calls[1].startswith("-c -f ") and len(calls) == 2, calls


@pytest.mark.parametrize("how", ["rule added", "set element added", "set element deleted", "table deleted",
                                 "policy changed"])
def test_hand_made_drift_is_detected_and_repaired(ns, content, how):
    """Whatever is changed by hand in the live table (not only a deleted rule) is drift, and is undone."""
    ns.module(content=content)
    applied = ns.nft("-s", "list", "table", "inet", "vms_deploy")[1]
    change = {
        "rule added": ["add", "rule", "inet", "vms_deploy", "input", "tcp", "dport", "4444", "accept"],
        "set element added": ["add", "element", "inet", "vms_deploy", "src_clients", "{", "10.99.0.0/16", "}"],
        "set element deleted": ["delete", "element", "inet", "vms_deploy", "src_app_https", "{", "172.28.13.0/24",
                                "}"],
        "table deleted": ["delete", "table", "inet", "vms_deploy"],
        "policy changed": ["chain", "inet", "vms_deploy", "input", "{", "policy", "accept", ";", "}"],
    }[how]
    rc, _, err = ns.nft(*change)
    assert rc == 0, err
    assert ns.nft("-s", "list", "table", "inet", "vms_deploy")[1] != applied
    audit = ns.module(content=content, mode="audit")
    assert audit["drift"] is True and audit["in_sync"] is False and audit["changed"] is False
    fixed = ns.module(content=content)
    assert fixed["changed"] is True and fixed["drift"] is True
    assert ns.nft("-s", "list", "table", "inet", "vms_deploy")[1] == applied
    assert ns.module(content=content)["changed"] is False


def test_lost_state_record_reapplies_once(ns, content):
    ns.module(content=content)
    (ns.state_dir / "nft-inet-vms_deploy.json").unlink()
    res = ns.module(content=content)
    assert res["changed"] is True and res["drift"] is False
    assert ns.module(content=content)["changed"] is False


def test_counters_moving_with_traffic_are_not_drift(ns, content):
    """A counter in the table changes with every packet; that is traffic, not a change made by hand."""
    if not shutil.which("ip"):
        pytest.skip("needs ip (iproute2) to bring lo up in the namespace")
    counted = content.replace("type filter hook output priority filter; policy accept;\n",
                              "type filter hook output priority filter; policy accept;\n"
                              '\t\tudp dport 9 counter comment "counted"\n')
    assert counted != content
    assert ns.module(content=counted)["changed"] is True
    assert ns.run(["ip", "link", "set", "lo", "up"]).returncode == 0
    send = "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('127.0.0.1', 9))"
    assert ns.run([sys.executable, "-c", send]).returncode == 0
    assert "counter packets 1 " in ns.nft("list", "chain", "inet", "vms_deploy", "output")[1]
    again = ns.module(content=counted)
    assert again["changed"] is False and again["drift"] is False


def test_plan_digest_recorded_as_table_comment_and_reported(ns, content):
    first = ns.module(content=content, plan_digest="0123456789abcdef")
    assert first["changed"] is True and first["plan_digest"] == "0123456789abcdef", first
    _, out, _ = ns.nft("list", "table", "inet", "vms_deploy")
    assert 'comment "vms-deploy plan 0123456789abcdef"' in out
    again = ns.module(content=content, plan_digest="0123456789abcdef")
    assert again["changed"] is False and again["plan_digest"] == again["planned_digest"] == "0123456789abcdef"
    # An audit against another plan sees the digest the host runs and reports the difference.
    audit = ns.module(content=content, plan_digest="fedcba9876543210", mode="audit")
    assert audit["in_sync"] is False and audit["plan_digest"] == "0123456789abcdef"
    assert audit["planned_digest"] == "fedcba9876543210" and audit["changed"] is False
    assert 'comment "vms-deploy plan 0123456789abcdef"' in ns.nft("list", "table", "inet", "vms_deploy")[1]


def test_plan_digest_must_be_a_digest(ns, content):
    res = ns.module(content=content, plan_digest='x" accept')
    assert res.get("failed") is True and "is not a digest" in res["msg"]
    assert ns.nft("list", "table", "inet", "vms_deploy")[0] != 0


def test_table_without_digest_reports_none(ns, content):
    assert ns.module(content=content)["plan_digest"] is None


def test_ip_forward_is_read_in_the_same_module_run(ns, content):
    res = ns.module(content=content)
    assert res["ip_forward"] == ns.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip()


def test_another_tools_table_is_deleted_by_name_in_check_and_apply(ns, content):
    """vms_remove_foreign_tables (issue 21 item 7): a foreign table with a name nft allows and ours does
    not ("my-nat"), and a bridge table, are shown in check mode and deleted in apply; ours stays."""
    ns.module(content=content)
    assert ns.nft("add", "table", "ip", "my-nat")[0] == 0
    assert ns.nft("add", "table", "bridge", "br_filter")[0] == 0
    checked = ns.module(check=True, name="my-nat", family="ip", state="absent", keep_management_connection=False)
    assert checked["changed"] is True and "table ip my-nat" in ns.nft("list", "ruleset")[1]
    done = ns.module(name="my-nat", family="ip", state="absent", keep_management_connection=False)
    bridge = ns.module(name="br_filter", family="bridge", state="absent", keep_management_connection=False)
    assert done["changed"] is True and bridge["changed"] is True
    out = ns.nft("list", "ruleset")[1]
    assert "my-nat" not in out and "br_filter" not in out and "table inet vms_deploy" in out
    bad = ns.module(content=content, name="my-nat", family="ip")
    assert bad.get("failed") is True and "not a valid nftables table name" in bad["msg"]
