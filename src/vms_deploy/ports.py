"""The product's own port numbers, and the one port-range formatter.

Constants: the ports vms-deploy itself manages (SSH, WinRM, the WireGuard listener). The compiler
turns them into plan rules (management and VPN rules come from the plan, never from a renderer's
default); renderers, the Windows prechecks and the filter plugins read them from here.
`vms_deploy.invariants` keeps its own, larger list on purpose (an independent oracle), and
`vms_deploy.probe` its own list of what a probe tries from outside.

Formatter: [80, 80] -> "80", [9001, 9004] -> "9001-9004". nftables, the Windows Firewall
(LocalPort, rule names), the plan's messages and the reports all write a range this way; consumer
routers write "first:last" even for one port (style="router", the router sheet).
"""
from __future__ import annotations

from collections.abc import Iterable

SSH_PORT = 22
WINRM_HTTP_PORT = 5985
WINRM_HTTPS_PORT = 5986
# The port the compiler opens to vms_management_networks on each platform (vms_management_port
# overrides it per host); Ansible reaches Windows hosts over WinRM HTTPS.
MANAGEMENT_PORTS = {"linux": SSH_PORT, "windows": WINRM_HTTPS_PORT}
MANAGEMENT_PURPOSES = {"linux": "administration (SSH)", "windows": "administration (WinRM HTTPS)"}
WINRM_PURPOSES = {5985: "administration (WinRM HTTP)", 5986: "administration (WinRM HTTPS)"}
# Both WinRM listeners: a Windows host's precheck never counts them as a VMS service's port.
WINRM_PORTS = (WINRM_HTTP_PORT, WINRM_HTTPS_PORT)
# WireGuard's registered port: the edge listens here unless vms_vpn_listen_port says otherwise.
WIREGUARD_PORT = 51820
# Management ports suggested when vms_management_port collides with a service (the first free one).
MANAGEMENT_PORT_SUGGESTIONS = (2222, 22022, WINRM_HTTPS_PORT, 15986, 60022)
MANAGEMENT_PORT_LAST_RESORT = 60222

STYLES = ("range", "router")


def port_range(ports: Iterable[int], style: str = "range") -> str:
    """One port range as text.

    style "range" (nftables, Windows Firewall, messages, reports): "80" or "9001-9004".
    style "router" (consumer routers' port-forward forms): "80:80" or "9001:9004".
    """
    first, *rest = [int(p) for p in ports]
    last = rest[-1] if rest else first
    if len(rest) > 1:
        raise ValueError(f"a port range is [first, last], got {[first, *rest]}")
    if style == "router":
        return f"{first}:{last}"
    if style != "range":
        raise ValueError(f"unknown port range style {style!r} (one of {', '.join(STYLES)})")
    return str(first) if first == last else f"{first}-{last}"


def management_port(platform: str, override: int | None = None) -> int:
    """The management port of a host: its vms_management_port, else its platform's default."""
    return int(override) if override else MANAGEMENT_PORTS[platform]


def winrm_port(ansible_port) -> int:
    """The WinRM port Ansible uses: ansible_port when it is 5985 or 5986, else WinRM over HTTPS (5986)."""
    return ansible_port if ansible_port in WINRM_PORTS and not isinstance(ansible_port, bool) else WINRM_HTTPS_PORT


def free_management_port(taken: Iterable[tuple[int, int]]) -> int:
    """A suggested management port outside every (first, last) range in `taken`."""
    ranges = list(taken)
    for port in MANAGEMENT_PORT_SUGGESTIONS:
        if not any(lo <= port <= hi for lo, hi in ranges):
            return port
    return MANAGEMENT_PORT_LAST_RESORT
