"""Ports a lab stand-in listener takes on a host (lab/roles/standin_services, lab/plugins/modules/vms_standin.py).

The VMS services are proprietary Windows software; in the container lab a labelled stand-in listens on
the ports the plan (from the catalog) gives each host. Nothing here adds a port: the list is the plan's.
"""
from __future__ import annotations

from collections.abc import Iterable

from vms_deploy.render.nft_common import check_host, service_rules

STANDIN_FULL_RANGE = 32


def standin_ports(plan: dict, host: str, skip: Iterable[str] = ()) -> list[dict]:
    """Ports a lab stand-in listens on for `host`: every service port of its plan.

    Ranges up to STANDIN_FULL_RANGE ports are listened on in full; longer ones (recorder media
    ranges) on the first, middle and last port only, which is what verify probes. `skip` holds
    "proto/port" strings served by something real (the gateway's reverse proxy, sshd).
    """
    h = check_host(plan, host)
    skipped = set(skip)
    out: dict[tuple, dict] = {}
    for rule in service_rules(h):
        first, last = rule["ports"]
        ports = (range(first, last + 1) if last - first < STANDIN_FULL_RANGE
                 else sorted({first, (first + last) // 2, last}))
        for port in ports:
            key = (rule["protocol"], port)
            if f"{key[0]}/{key[1]}" in skipped or key in out:
                continue
            out[key] = {"protocol": rule["protocol"], "port": port, "component": rule["component"],
                        "service": rule["service"]}
    return [out[k] for k in sorted(out)]
