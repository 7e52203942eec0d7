#!/usr/bin/env python3
"""vms-deploy lab probe: try many connections at once from one vantage container.

stdin: JSON list of {"address", "protocol" (tcp|udp), "port"}; stdout: the same list with
"open" (bool) and "detail" (banner or error). TCP is open when the handshake completes; UDP is
open when the stand-in's echo comes back (a silent drop and an ICMP refusal both read as closed).
Every attempt is bounded by --timeout seconds; all run in parallel threads.
"""
import argparse
import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def probe(check, timeout):
    address, port, proto = check["address"], int(check["port"]), check["protocol"]
    result = dict(check)
    try:
        if proto == "tcp":
            with socket.create_connection((address, port), timeout=timeout) as sock:
                try:  # stand-ins greet at once; real services (nginx) wait for a request
                    sock.settimeout(min(timeout, 0.5))
                    banner = sock.recv(200).decode("utf-8", "replace").strip()
                except OSError:
                    banner = ""
            result.update(open=True, detail=banner or "connected")
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(timeout)
                sock.sendto(b"vms-deploy probe", (address, port))
                data, _ = sock.recvfrom(200)
            result.update(open=True, detail=data.decode("utf-8", "replace").strip())
    except (OSError, ValueError) as exc:
        result.update(open=False, detail=type(exc).__name__ + ": " + str(exc))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1.5)
    parser.add_argument("--workers", type=int, default=64)
    args = parser.parse_args()
    checks = json.load(sys.stdin)
    with ThreadPoolExecutor(max_workers=max(1, min(args.workers, len(checks) or 1))) as pool:
        results = list(pool.map(lambda c: probe(c, args.timeout), checks))
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
