"""lab/probe.py: a short first time-out, and an expected-open check that got no answer tried again.

A UDP responder on loopback answers 0.3 s late: a 0.1 s time-out misses it; the retry catches it, for
checks the plan expects open only (an expected-closed check is not given a second chance to pass)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

PROBE = Path(__file__).resolve().parents[2] / "lab" / "probe.py"


def _slow_udp_echo(delay: float) -> tuple[int, threading.Event]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        with sock:
            while not stop.is_set():
                try:
                    data, peer = sock.recvfrom(200)
                except OSError:
                    continue
                time.sleep(delay)
                sock.sendto(b"late " + data, peer)

    threading.Thread(target=serve, daemon=True).start()
    return sock.getsockname()[1], stop


def _probe(checks: list[dict], *args: str) -> list[dict]:
    out = subprocess.run([sys.executable, str(PROBE), *args], input=json.dumps(checks), capture_output=True,
                         text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def test_an_expected_open_check_is_tried_again_with_the_longer_time_out():
    port, stop = _slow_udp_echo(0.3)
    try:
        check = {"address": "127.0.0.1", "protocol": "udp", "port": port}
        missed, = _probe([dict(check, expect_open=True)], "--timeout", "0.1")
        assert not missed["open"]
        caught, = _probe([dict(check, expect_open=True)], "--timeout", "0.1", "--retry-timeout", "1.5")
        assert caught["open"] and caught["detail"].startswith("late")
        closed, = _probe([dict(check, expect_open=False)], "--timeout", "0.1", "--retry-timeout", "1.5")
        assert not closed["open"]
    finally:
        stop.set()
