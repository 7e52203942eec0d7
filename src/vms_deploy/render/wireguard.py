"""WireGuard remote access from plan["vpn"]: keys, the edge interface, one client file per peer.

Keys are Curve25519 (X25519) pairs in WireGuard's format (32 raw bytes, base64). They are made
on the controller with `cryptography`, so no `wg` binary is needed there.

A peer's AllowedIPs are exactly the addresses the plan lets the VPN zone reach (its zone_flows
from "vpn"): the tunnel routes nothing else, and the edge firewall admits only those ports.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

INTERFACE = "wg0"
KEEPALIVE = 25
# fullmatch: "$" alone would let a trailing newline through into the config and the file name.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
ENDPOINT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,252}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PLACEHOLDER = "<this peer's private key: the site was given only its public key>"


class WireGuardError(ValueError):
    """Bad VPN input (key, name, plan); the message names the thing to fix."""


def generate_private_key() -> str:
    key = X25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def _raw(key: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(str(key).strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise WireGuardError(f"{what} is not a WireGuard key (44 characters of base64, from `wg genkey`)")
    return raw


def public_key(private_key: str, what: str = "the private key") -> str:
    key = X25519PrivateKey.from_private_bytes(_raw(private_key, what))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def check_public_key(key: str, what: str) -> str:
    _raw(key, what)
    return str(key).strip()


def _comment(value) -> str:
    """One line for a '#' comment: a newline would start a configuration line."""
    return _CONTROL.sub(" ", str(value))[:200]


def _vpn(plan: dict) -> dict:
    vpn = plan.get("vpn")
    if not vpn:
        raise WireGuardError("the plan has no VPN: set vms_remote_access: vpn with vms_vpn_network and vms_vpn_peers")
    return vpn


def peer_names(plan: dict) -> list[str]:
    names = [p["name"] for p in _vpn(plan).get("peers", [])]
    for name in names:
        if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
            raise WireGuardError(f"vms_vpn_peers: peer name {name!r} must be letters, digits, '.', '_' or '-' "
                                 "(it names the client file)")
    return names


def allowed_destinations(plan: dict) -> list[str]:
    """CIDRs a VPN client may reach: the destinations of every zone flow from the vpn zone."""
    dests = set()
    for flow in plan.get("zone_flows", []):
        if flow.get("from") == "vpn":
            dests.update(flow.get("destinations", []))
    nets = sorted({ipaddress.ip_network(d, strict=False) for d in dests},
                  key=lambda n: (n.network_address, n.prefixlen))
    return [str(n) for n in nets]


def edge_tunnel_address(plan: dict) -> str:
    """The edge's own address inside the VPN network.

    plan.vpn.edge_address when it lies inside the network; otherwise (a compiler that put the
    public address there) the network's first host address, which peers must not use.
    """
    vpn = _vpn(plan)
    net = ipaddress.ip_network(vpn["network"], strict=False)
    given = vpn.get("edge_address")
    if given and ipaddress.ip_address(given) in net:
        address = ipaddress.ip_address(given)
    else:
        address = next(net.hosts())
    for peer in vpn.get("peers", []):
        if ipaddress.ip_network(peer["address"], strict=False).network_address == address:
            raise WireGuardError(f"vms_vpn_peers: peer {peer['name']!r} has {peer['address']}, the edge's own tunnel "
                                 f"address in vms_vpn_network {net}; give the peer another address")
    return str(address)


def interface_address(plan: dict) -> str:
    prefix = ipaddress.ip_network(_vpn(plan)["network"], strict=False).prefixlen
    return f"{edge_tunnel_address(plan)}/{prefix}"


def server_config(plan: dict, edge_private_key: str, peer_public_keys: dict[str, str]) -> str:
    """/etc/wireguard/wg0.conf on the edge: one [Peer] per plan peer, each limited to its own address."""
    vpn = _vpn(plan)
    peer_names(plan)  # every name is one safe token before it is written anywhere
    _raw(edge_private_key, "the edge's private key (vms_vpn_edge_private_key)")
    lines = [f"# vms-deploy: WireGuard for site {_comment(plan.get('site'))}. Generated; do not edit.",
             "[Interface]",
             f"Address = {interface_address(plan)}",
             f"ListenPort = {int(vpn['listen_port'])}",
             f"PrivateKey = {str(edge_private_key).strip()}"]
    for peer in sorted(vpn.get("peers", []), key=lambda p: p["name"]):
        name = peer["name"]
        if name not in peer_public_keys:
            raise WireGuardError(f"vms_vpn_peers: no public key for peer {name!r}")
        key = check_public_key(peer_public_keys[name], f"vms_vpn_peers: the public key of peer {name!r}")
        address = ipaddress.ip_network(peer["address"], strict=False)
        lines += ["", f"# {name}", "[Peer]", f"PublicKey = {key}",
                  f"AllowedIPs = {address}"]
    return "\n".join(lines) + "\n"


def peer_config(plan: dict, peer_name: str, peer_private_key: str | None, edge_public_key: str,
                endpoint_host: str) -> str:
    """The client file for one peer (import it into the WireGuard app)."""
    vpn = _vpn(plan)
    peer = next((p for p in vpn.get("peers", []) if p["name"] == peer_name), None)
    if peer is None:
        raise WireGuardError(f"vms_vpn_peers: no peer named {peer_name!r}")
    if not endpoint_host:
        raise WireGuardError("no VPN endpoint: set vms_public_address (or vms_public_name) on the edge host")
    dests = allowed_destinations(plan)
    if not dests:
        raise WireGuardError("the plan lets VPN clients reach nothing: check vms_remote_access: vpn and the "
                             "client-facing services")
    if not ENDPOINT_RE.fullmatch(str(endpoint_host)):
        raise WireGuardError(f"the VPN endpoint {str(endpoint_host)[:80]!r} is not a host name or address: correct "
                             "vms_public_name / vms_public_address on the edge host")
    peer_names(plan)
    edge_public_key = check_public_key(edge_public_key, "the edge's public key")
    if peer_private_key:
        _raw(peer_private_key, f"vms_vpn_peers: the private key of peer {peer_name!r}")
        peer_private_key = str(peer_private_key).strip()
    address = ipaddress.ip_network(peer["address"], strict=False)
    host = f"[{endpoint_host}]" if ":" in endpoint_host else endpoint_host
    lines = [f"# vms-deploy: WireGuard client '{peer_name}' for site {_comment(plan.get('site'))}.",
             "# Routes only the VMS client ports' hosts through the tunnel.",
             "[Interface]",
             f"PrivateKey = {peer_private_key or PLACEHOLDER}",
             f"Address = {address}",
             "",
             "[Peer]",
             f"PublicKey = {edge_public_key}",
             f"Endpoint = {host}:{int(vpn['listen_port'])}",
             f"AllowedIPs = {', '.join(dests)}",
             f"PersistentKeepalive = {KEEPALIVE}"]
    return "\n".join(lines) + "\n"
