"""Invariant 7 in the lab: forged sources sent from the vantages, counted on the site hosts.

The tuples come from vms_deploy.invariants.forged_probes (the invariant, not the plan's rules). Each
destination host gets a lab-only table `ip vms_lab_forged` whose prerouting chain has raw priority
minus 10, so it runs before the host's own firewall and conntrack: one counter per forged source.
Its counters must stay at zero; the edge's ingress check is what keeps them there.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import re
from pathlib import Path

from vms_deploy.invariants import forged_probes

COUNTER_TABLE = ("ip", "vms_lab_forged")
FORGING_VANTAGES = ("internet", "camera")
SENDER = Path(__file__).with_name("forge_send.py")


def outside_addresses(lab_networks: dict) -> list[str]:
    """The Internet address a forged packet from inside claims: on the lab's own Internet network,
    so nothing a host might answer ever leaves the lab."""
    net = lab_networks.get("internet")
    return [str(ipaddress.ip_network(net).network_address + 77)] if net else []


def probes(plan: dict, vantages: list[dict], lab_networks: dict) -> list[dict]:
    chosen = [v for v in vantages if v["name"] in FORGING_VANTAGES]
    return forged_probes(plan, chosen, outside_addresses(lab_networks))


def counter_table(sources: list[str]) -> str:
    family, name = COUNTER_TABLE
    rules = "".join(f'\t\tip saddr {s} counter comment "forged {s}"\n' for s in sorted(set(sources)))
    return (f"table {family} {name} {{\n\tchain pre {{\n\t\ttype filter hook prerouting priority raw - 10; "
            f"policy accept;\n{rules}\t}}\n}}\n")


def counts(listing: str) -> dict[str, int]:
    """{forged source: packets} from `nft list table ip vms_lab_forged`."""
    out = {}
    for m in re.finditer(r"ip saddr (\S+) counter packets (\d+) bytes \d+", listing):
        out[m.group(1)] = int(m.group(2))
    return out


def sender_command(own_address: str, batch: list[dict]) -> str:
    script = base64.b64encode(SENDER.read_bytes()).decode()
    # Only what the sender needs, compact: the whole command is one argument of docker exec (128 KiB at most).
    slim = [[p["source"], p["destination"], p["protocol"], int(p["port"])] for p in batch]
    payload = base64.b64encode(json.dumps(slim, separators=(",", ":")).encode()).decode()
    return f"echo {script} | base64 -d > /tmp/vms-forge.py && python3 /tmp/vms-forge.py {own_address} {payload}"
