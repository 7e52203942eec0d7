"""One port-range formatter: [80, 80] -> "80", [9001, 9004] -> "9001-9004".

nftables, the Windows Firewall (LocalPort), the plan's messages and the reports all write a range
this way; consumer routers' "first:last" (router sheet) is the one documented exception.
"""
from __future__ import annotations

from collections.abc import Iterable


def port_range(ports: Iterable[int]) -> str:
    first, last = list(ports)
    return str(first) if first == last else f"{first}-{last}"
