#!/usr/bin/env python3
"""vms-deploy lab probe: try many connections at once from one vantage container.

stdin: JSON list of {"address", "protocol" (tcp|udp), "port"}; stdout: the same list with
"open" (bool), "reached" (bool) and "detail" (banner or error). TCP is open when the handshake
completes; UDP is open when the stand-in's echo comes back. "reached" means the packet got through
every firewall to a host that refused it (TCP reset, ICMP port unreachable): vms-deploy's firewalls
drop, they never reject, so a refusal proves the path is open even where nothing listens. A silent
drop is neither. Every attempt is bounded by --timeout seconds; all run in parallel threads. A check
the plan expects open ("expect_open") that got no answer in time is tried once more with
--retry-timeout: a short first time-out keeps a run of mostly dropped tuples quick, and a slow
answer on a loaded machine still counts. Runs on any vantage (lab container or an operator's
machine) with nothing but python3.
"""
import argparse
import json
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def probe(check, timeout):
    address, port, proto = check["address"], int(check["port"]), check["protocol"]
    result = dict(check, reached=False)
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
                sock.connect((address, port))  # connected: an ICMP refusal surfaces as ConnectionRefusedError
                sock.send(b"vms-deploy probe")
                data = sock.recv(200)
            result.update(open=True, detail=data.decode("utf-8", "replace").strip())
    except ConnectionRefusedError as exc:
        result.update(open=False, reached=True, detail="refused by the host: " + str(exc))
    except (OSError, ValueError) as exc:
        result.update(open=False, detail=type(exc).__name__ + ": " + str(exc))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1.5)
    parser.add_argument("--retry-timeout", type=float, default=None,
                        help="time-out of the second try of an expected-open check (default: --timeout)")
    parser.add_argument("--workers", type=int, default=64)
    args = parser.parse_args()
    checks = json.load(sys.stdin)
    retry_timeout = args.retry_timeout or args.timeout
    with ThreadPoolExecutor(max_workers=max(1, min(args.workers, len(checks) or 1))) as pool:
        results = list(pool.map(lambda c: probe(c, args.timeout), checks))
        again = [i for i, r in enumerate(results)
                 if r.get("expect_open") and not r["open"] and not r["reached"] and retry_timeout > args.timeout]
        for i, result in zip(again, pool.map(lambda i: probe(checks[i], retry_timeout), again), strict=True):
            results[i] = result
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
