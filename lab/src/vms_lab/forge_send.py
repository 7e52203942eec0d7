#!/usr/bin/env python3
"""Run inside a lab vantage container (python3 only): send forged-source TCP SYNs and UDP datagrams.

argv[1]: the vantage's own address; argv[2]: base64 JSON [[source, destination, protocol, port], ...]
(or the same as objects). Each forged source is added as
a /32 to the interface that holds the vantage's own address (found by address, never by name), one
SYN or datagram is sent per tuple from a socket bound to it, and the addresses are removed again.
No handshake can complete (replies go to the real holder of the address, or nowhere), so what
arrived is counted on the destinations (vms_lab.forged). stdout: JSON {"sent": n, "errors": [...]}.
"""
import base64
import json
import socket
import subprocess
import sys
import time


def interface_of(address):
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[3].split("/")[0] == address:
            return fields[1]
    raise SystemExit(f"no interface holds {address}")


def main():
    own, raw = sys.argv[1], json.loads(base64.b64decode(sys.argv[2]))
    keys = ("source", "destination", "protocol", "port")
    probes = [p if isinstance(p, dict) else dict(zip(keys, p, strict=True)) for p in raw]
    dev = interface_of(own)
    sources = sorted({p["source"] for p in probes})
    for src in sources:
        subprocess.run(["ip", "addr", "add", f"{src}/32", "dev", dev], capture_output=True, check=False)
    sent, errors, held = 0, [], []
    try:
        time.sleep(0.2)
        for p in probes:
            kind = socket.SOCK_STREAM if p["protocol"] == "tcp" else socket.SOCK_DGRAM
            sock = socket.socket(socket.AF_INET, kind)
            try:
                sock.bind((p["source"], 0))
                if kind == socket.SOCK_STREAM:
                    sock.setblocking(False)
                    sock.connect_ex((p["destination"], int(p["port"])))  # the SYN leaves; nothing comes back
                    held.append(sock)
                else:
                    sock.sendto(b"vms-deploy forged-source probe", (p["destination"], int(p["port"])))
                    sock.close()
                sent += 1
            except OSError as exc:
                errors.append(f"{p['source']} -> {p['destination']} {p['protocol']}/{p['port']}: {exc}")
                sock.close()
        time.sleep(0.5)
    finally:
        for sock in held:
            sock.close()
        for src in sources:
            subprocess.run(["ip", "addr", "del", f"{src}/32", "dev", dev], capture_output=True, check=False)
    json.dump({"sent": sent, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
