#!/usr/bin/env python3
"""vms-deploy STAND-IN listeners: NOT the VMS product.

The proprietary VMS services (Valerus, XProtect) cannot run on Linux, so the lab gives each VMS
host this stand-in: it listens on every inbound port the plan gives the host. TCP connections get
a one-line banner naming the stand-in ("vms-deploy stand-in for gateway/gateway_http on tcp/9080")
and are closed; UDP datagrams are answered with the same banner. Everything around it (host and
edge firewalls, routing, DNAT) is real, so a connection that succeeds proves the firewalls let it.

Usage: standin.py CONFIG.json   (list of {"protocol", "port", "component", "service"})
"""
import json
import selectors
import socket
import sys


def banner(entry):
    return (f"vms-deploy stand-in for {entry['component']}/{entry['service']} on "
            f"{entry['protocol']}/{entry['port']:d}\n").encode()


def main():
    with open(sys.argv[1]) as handle:
        entries = json.load(handle)
    sel = selectors.DefaultSelector()
    for entry in entries:
        kind = socket.SOCK_STREAM if entry["protocol"] == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", int(entry["port"])))
        except OSError as exc:  # something real (sshd, a proxy) already serves this port: leave it be
            print(f"skip {entry['protocol']}/{entry['port']}: {exc}", file=sys.stderr, flush=True)
            sock.close()
            continue
        if kind == socket.SOCK_STREAM:
            sock.listen(64)
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, entry)
    print(f"stand-in listening on {len(sel.get_map())} sockets", flush=True)
    while True:
        for key, _ in sel.select():
            sock, entry = key.fileobj, key.data
            try:
                if sock.type == socket.SOCK_STREAM:
                    conn, _ = sock.accept()
                    with conn:
                        conn.settimeout(1)
                        conn.sendall(banner(entry))
                else:
                    _, peer = sock.recvfrom(2048)
                    sock.sendto(banner(entry), peer)
            except OSError:
                pass


if __name__ == "__main__":
    main()
