"""`vms-deploy probe` against real sockets on loopback.

The site's plan is compiled from a test inventory whose public address is 127.0.0.1 and whose
forwards use ports this test listens on (free ports picked at run time), so every verdict below
comes from a real connection: a listener that answers, a closed port that resets, a UDP port that
answers, refuses or stays silent. Nothing but 127.0.0.1 is ever contacted.
"""
from __future__ import annotations

import contextlib
import json
import socket
import threading

import pytest
from conftest import make_site

from vms_deploy import cli, probe
from vms_deploy.pipeline import compile_plan


@contextlib.contextmanager
def tcp_listener(port: int = 0):
    """A TCP listener on 127.0.0.1 that accepts (and closes) connections; yields its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = sock.accept()
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


@contextlib.contextmanager
def udp_socket(echo: bool):
    """A UDP socket on 127.0.0.1 that echoes (echo=True) or reads and stays silent; yields its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            with contextlib.suppress(OSError):
                data, peer = sock.recvfrom(512)
                if echo:
                    sock.sendto(data, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_plan(https_port: int, udp_port: int, hidden_port: int, allowlist=("0.0.0.0/0",)) -> dict:
    """A generic NVR behind a router whose public address is 127.0.0.1: one TCP and one UDP forward,
    and one custom service that is open on the NVR for clients but not forwarded.

    The inventory validator rightly refuses a loopback public address, so the site is compiled with a
    placeholder and the plan's public address is then pointed at this machine's loopback."""
    data = make_site(
        {"vms_recorders": ["nvr"]}, {"nvr": "10.7.0.20"},
        {"nvr": {"vms_forwarded_services": [{"service": "nvr_https", "external_port": https_port}]}},
        vms_product="generic_nvr", vms_site="lo", vms_client_networks=["10.7.0.0/25"],
        vms_public_address="100.64.0.7", vms_remote_allowlist=list(allowlist),
        vms_custom_services=[
            {"name": "echo", "protocol": "udp", "port": udp_port, "connects_from": ["internet"], "forward": True},
            {"name": "hidden", "port": hidden_port, "connects_from": ["clients"]},
        ])
    plan = compile_plan(data)
    return dict(plan, edge=dict(plan["edge"], public_address="127.0.0.1"))


def by_port(doc: dict) -> dict[tuple[str, int], dict]:
    return {(c["protocol"], c["port"]): c for c in doc["checks"]}


@pytest.fixture
def quiet_loopback():
    """The ports that must be closed are closed on this machine's loopback (else skip: not our fault)."""
    plan = loopback_plan(free_port(), free_port(socket.SOCK_DGRAM), free_port())
    listening = [c.port for c in probe.build_checks(plan)
                 if c.kind == "must be closed" and c.protocol == "tcp" and probe.try_tcp("127.0.0.1", c.port,
                                                                                         0.5)[0] == "open"]
    if listening:
        pytest.skip(f"something on this machine listens on 127.0.0.1 port(s) {listening}")


def test_site_as_planned_matches(quiet_loopback):
    with tcp_listener() as https, udp_socket(echo=True) as udp, tcp_listener() as _unrelated:
        plan = loopback_plan(https, udp, free_port())
        doc = probe.probe_site(plan, timeout=0.5)
    checks = by_port(doc)
    assert doc["summary"] == {"ok": len(doc["checks"]), "DIFF": 0, "inconclusive": 0}, probe.render_text(doc)
    assert checks[("tcp", https)]["expected"] == checks[("tcp", https)]["actual"] == "open"
    assert checks[("tcp", https)]["rule"] == "forward generic-nvr-nvr-https"
    assert checks[("udp", udp)]["actual"] == "open" and checks[("udp", udp)]["detail"] == "answered"
    # The must-be-closed list: management, RDP, SMB, every catalog port not forwarded (ranges sampled).
    closed = {k for k, c in checks.items() if c["kind"] == "must be closed"}
    assert {("tcp", 22), ("tcp", 445), ("tcp", 3389), ("tcp", 5985), ("tcp", 5986)} <= closed
    assert {("tcp", 80), ("tcp", 443), ("tcp", 554), ("tcp", 10000), ("tcp", 10049), ("tcp", 10099),
            ("udp", 10000), ("udp", 10099)} <= closed
    assert ("tcp", 10001) not in checks  # a 100-port range is sampled, not tried port by port
    assert "edge: no port forward for tcp/22" in checks[("tcp", 22)]["rule"]


def test_broken_forward_and_stray_open_port_are_differences(quiet_loopback):
    https, hidden = free_port(), free_port()
    # The forward's port has no listener (a broken forward); the un-forwarded custom port answers.
    with udp_socket(echo=True) as udp, tcp_listener(hidden):
        plan = loopback_plan(https, udp, hidden)
        doc = probe.probe_site(plan, timeout=0.5, tries=2)
    checks = by_port(doc)
    broken, stray = checks[("tcp", https)], checks[("tcp", hidden)]
    assert broken["status"] == "DIFF" and broken["expected"] == "open" and broken["actual"] == "closed"
    assert broken["attempts"] == 2  # an expected-open port that does not answer is tried again
    assert stray["status"] == "DIFF" and stray["expected"] == "closed" and stray["actual"] == "open"
    assert "opened on nvr (custom: hidden)" in stray["service"]
    assert doc["summary"]["DIFF"] == 2 and doc["result"] == "differences"
    assert checks[("tcp", 22)]["attempts"] == 1  # expected-closed ports are tried once


def test_retries_stop_at_the_attempt_cap(quiet_loopback):
    https = free_port()  # no listener: the forward does not answer, so it would be retried
    with udp_socket(echo=True) as udp:
        plan = loopback_plan(https, udp, free_port())
        needed = len(probe.build_checks(plan))
        exact = probe.probe_site(plan, timeout=0.3, tries=3, max_attempts=needed)
        one_spare = probe.probe_site(plan, timeout=0.3, tries=3, max_attempts=needed + 1)
    assert by_port(exact)[("tcp", https)]["attempts"] == 1 and exact["attempts"] == needed
    assert by_port(one_spare)[("tcp", https)]["attempts"] == 2 and one_spare["attempts"] == needed + 1


def test_udp_silence_is_inconclusive_and_refusal_is_closed(quiet_loopback):
    with tcp_listener() as https, udp_socket(echo=False) as silent:
        doc = probe.probe_site(loopback_plan(https, silent, free_port()), timeout=0.3, tries=1)
    check = by_port(doc)[("udp", silent)]
    assert check["actual"] == "no answer" and check["status"] == "inconclusive"
    assert doc["summary"]["DIFF"] == 0
    unused = free_port(socket.SOCK_DGRAM)
    with tcp_listener() as https:
        doc = probe.probe_site(loopback_plan(https, unused, free_port()), timeout=0.3, tries=1)
    check = by_port(doc)[("udp", unused)]
    assert check["actual"] == "closed" and check["detail"] == "ICMP port unreachable" and check["status"] == "DIFF"


def test_allowlist_without_source_depends_and_with_source_decides(quiet_loopback):
    with tcp_listener() as https, udp_socket(echo=True) as udp:
        plan = loopback_plan(https, udp, free_port(), allowlist=("100.64.3.0/24",))
        unknown = by_port(probe.probe_site(plan, timeout=0.5))[("tcp", https)]
        inside = by_port(probe.probe_site(plan, source="100.64.3.77", timeout=0.5))[("tcp", https)]
        outside = by_port(probe.probe_site(plan, source="100.64.9.1", timeout=0.5))[("tcp", https)]
    assert unknown["expected"] == "depends" and unknown["status"] == "ok"
    assert unknown["expected_text"] == "open or filtered depending on your address"
    assert "open from an address in 100.64.3.0/24 only" in unknown["rule"]
    assert inside["expected"] == "open" and inside["status"] == "ok"
    # Seen from outside the allow-list the forward must filter: an answer is a difference.
    assert outside["expected"] == "closed" and outside["actual"] == "open" and outside["status"] == "DIFF"
    assert "only accepts 100.64.3.0/24" in outside["rule"]


def test_source_samples_stay_outside_the_site():
    plan = loopback_plan(40001, 40002, 40003, allowlist=("0.0.0.0/0",))
    samples = probe.source_samples(plan)
    assert len(samples) == 1 and samples[0][1] == "an address in 0.0.0.0/0"  # nothing is outside 0.0.0.0/0
    assert not samples[0][0].startswith("10.7.")


@pytest.mark.parametrize("kwargs, message", [
    ({"address": "127.0.0.2"}, "is not the site's public address 127.0.0.1"),
    ({"address": "8.8.8.8", "lab": True}, "a lab address must be loopback or private"),
    ({"address": "not-an-ip", "lab": True}, "is not an IPv4 address"),
    ({"source": "somewhere"}, "--source 'somewhere' is not an IPv4 address"),
    ({"timeout": 60}, "--timeout 60"),
    ({"max_attempts": 5}, "more than --max-attempts 5"),
])
def test_refuses_before_sending_anything(kwargs, message, monkeypatch):
    sent = []
    monkeypatch.setattr(probe, "try_tcp", lambda *a: sent.append(a) or ("open", ""))
    monkeypatch.setattr(probe, "try_udp", lambda *a: sent.append(a) or ("open", ""))
    with pytest.raises(probe.ProbeError, match=message):
        probe.probe_site(loopback_plan(40001, 40002, 40003), **kwargs)
    assert sent == []


def test_lab_address_is_allowed_with_lab_flag():
    plan = loopback_plan(40001, 40002, 40003)
    assert probe.target_address(plan, "127.0.0.9", lab=True) == "127.0.0.9"
    assert probe.target_address(plan, "172.28.10.2", lab=True) == "172.28.10.2"
    assert probe.target_address(plan, "127.0.0.1", lab=False) == "127.0.0.1"


def test_plan_without_public_address_is_refused():
    plan = loopback_plan(40001, 40002, 40003)
    plan = dict(plan, edge={"host": None, "public_address": None})
    with pytest.raises(probe.ProbeError, match="has no public address"):
        probe.probe_site(plan)


def test_cli_writes_json_and_markdown_and_exits_on_difference(tmp_path, capsys, quiet_loopback):
    with udp_socket(echo=True) as udp:
        plan = loopback_plan(free_port(), udp, free_port())  # the TCP forward has no listener: one difference
        plan_file = tmp_path / "plan.json"
        plan_file.write_text(json.dumps(plan))
        out = tmp_path / "out"
        code = cli.main(["probe", str(plan_file), "--timeout", "0.5", "--tries", "1", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 1
    assert "DIFF" in text and "generic-nvr-nvr-https" in text and f"wrote {out}/probe.json" in text
    doc = json.loads((out / "probe.json").read_text())
    assert doc["summary"]["DIFF"] == 1 and doc["site"] == "lo"
    markdown = (out / "probe.md").read_text()
    assert "## Needs attention" in markdown and "expected open, found closed" in markdown


def test_cli_bad_address_is_one_line_and_exit_2(tmp_path, capsys):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(loopback_plan(40001, 40002, 40003)))
    code = cli.main(["probe", str(plan_file), "--address", "10.1.1.1"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("vms-deploy probe: --address 10.1.1.1 is not the site's public address")
