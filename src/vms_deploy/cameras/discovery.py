"""WS-Discovery from where the recorders stand, bounded in time and packets.

ONVIF devices answer a WS-Discovery Probe (SOAP over UDP 3702) with a ProbeMatch naming their ONVIF
endpoints (XAddrs). Multicast (239.255.255.250) does not cross the router between the recorders' network
and the camera network, so the probe is sent unicast to every usable address of each camera network,
from one socket, at a bounded rate; replies are read until the time budget ends. Nothing else is sent.

Bounds (Budget): at most `max_probes` datagrams in all (a camera network with more addresses than are
left is not swept and is reported as such), at most `rate` per second, one `seconds` window for sending
and listening together, at most `max_devices` devices kept, and replies read at most 64 KiB each. A reply
from an address that was not probed, or that is not a ProbeMatch, is counted and ignored.
"""
from __future__ import annotations

import ipaddress
import select
import socket
import time
import uuid
from dataclasses import dataclass, field

WS_DISCOVERY_PORT = 3702
MAX_REPLY = 65535


@dataclass(frozen=True)
class Budget:
    seconds: float = 5.0
    max_probes: int = 1024
    rate: int = 256
    max_devices: int = 256


@dataclass
class Sweep:
    """What one discovery run saw."""
    devices: dict[str, dict] = field(default_factory=dict)  # address -> {xaddrs, endpoint, scopes, types}
    probed: int = 0
    not_swept: list[str] = field(default_factory=list)  # camera networks left out by the packet budget
    ignored: int = 0  # replies from addresses not probed, or not a ProbeMatch
    seconds: float = 0.0


def targets(networks: list[str], max_probes: int) -> tuple[list[str], list[str]]:
    """The addresses to probe (network by network, each whole or not at all) and the networks left out."""
    out: list[str] = []
    left_out: list[str] = []
    for text in networks:
        net = ipaddress.ip_network(text, strict=False)
        size = net.num_addresses if net.prefixlen >= 31 else net.num_addresses - 2
        if len(out) + size > max_probes:
            left_out.append(str(net))
            continue
        out.extend(str(a) for a in (net if net.prefixlen >= 31 else net.hosts()))
    return out, left_out


def probe_message() -> bytes:
    from onveef.wsdiscovery import build_probe

    return build_probe(message_id=f"urn:uuid:{uuid.uuid4()}").encode("utf-8")


def parse_reply(data: bytes) -> list[dict]:
    """The ProbeMatches of one reply (onveef's parser, defusedxml underneath); [] for anything else."""
    from onveef.wsdiscovery import parse_probe_matches

    try:
        matches = parse_probe_matches(data.decode("utf-8", errors="replace"))
    except Exception:  # noqa: BLE001 - a hostile datagram must not stop the sweep
        return []
    return [{"xaddrs": list(m.xaddrs)[:8], "endpoint": m.endpoint_reference[:200], "types": m.types[:200],
             "scopes": list(m.scopes)[:16], "name": m.name[:100], "hardware": m.hardware[:100]} for m in matches]


def sweep(networks: list[str], budget: Budget = Budget(), *, port: int = WS_DISCOVERY_PORT,
          bind: str = "") -> Sweep:
    """Probe every usable address of the camera networks within the budget; the devices that answered."""
    start = time.monotonic()
    deadline = start + budget.seconds
    result = Sweep()
    addresses, result.not_swept = targets(networks, budget.max_probes)
    wanted = set(addresses)
    message = probe_message()
    interval = 1.0 / max(1, budget.rate)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.bind((bind, 0))
        sock.setblocking(False)
        pending = list(reversed(addresses))
        next_send = start
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if pending and now >= next_send:
                try:
                    sock.sendto(message, (pending.pop(), port))
                except OSError:
                    pass  # unreachable address (ICMP from an earlier send): the device simply is not found
                result.probed += 1
                next_send = now + interval
            wait = max(0.0, min(deadline, next_send if pending else deadline) - time.monotonic())
            readable, _, _ = select.select([sock], [], [], wait)
            if readable:
                _receive(sock, wanted, result, budget)
    finally:
        sock.close()
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _receive(sock: socket.socket, wanted: set[str], result: Sweep, budget: Budget) -> None:
    while True:
        try:
            data, sender = sock.recvfrom(MAX_REPLY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # ICMP port unreachable reported on the socket
            return
        address = sender[0]
        matches = parse_reply(data) if address in wanted else []
        if not matches:
            result.ignored += 1
            continue
        if address not in result.devices and len(result.devices) < budget.max_devices:
            result.devices[address] = matches[0]
