"""The WireGuard VPN on the edge (vms_remote_access: vpn): its network, keys and peers (phase PRODUCT)."""
from __future__ import annotations

from .. import checks
from ..errors import MISSING
from ..inventory import VAULTED
from ..model import parse_cidr, parse_ipv4
from .context import Context
from .ports import port
from .remote_access import remote_access
from .spec import NETWORK_VARS, did_you_mean

# Keys of a vms_vpn_peers entry; private_key (vaulted) is read by roles/vpn_wireguard.
VPN_PEER_KEYS = ("name", "address", "public_key", "private_key")


def vpn_network(ctx: Context):
    """The VPN's network when the site uses the VPN and vms_vpn_network is a usable private CIDR, else None.
    Judged and reported once (the first call, by check_vpn_network); the rules after it read the result."""
    return ctx.memo("vpn_network", lambda: _judge_network(ctx))


def _judge_network(ctx: Context):
    if remote_access(ctx) != "vpn":
        return None
    network = ctx.site.site_var("vms_vpn_network")
    if ctx.reported_on_any_host("vms_vpn_network"):
        return None
    if network is None:
        ctx.err("all", "vms_vpn_network", MISSING, "is not set but vms_remote_access is vpn",
                "set vms_vpn_network to an unused private CIDR, e.g. 10.99.0.0/24")
        return None
    try:
        net = parse_cidr(network)
    except ValueError as exc:
        ctx.err("all", "vms_vpn_network", network, str(exc), "set vms_vpn_network to a CIDR such as 10.99.0.0/24")
        return None
    if net.prefixlen > 30:
        ctx.err("all", "vms_vpn_network", network, f"is a /{net.prefixlen}: it has no room for the edge and a peer",
                "set vms_vpn_network to a /24 (or at most a /30), e.g. 10.99.0.0/24")
        return None
    problem = checks.host_address_problem(net.network_address) if net.prefixlen >= 8 else None
    if problem or checks.public_addresses(net):
        ctx.err("all", "vms_vpn_network", network, "is not a private network (" + (problem or "it holds Internet "
                "addresses") + ")", "choose an unused private CIDR, e.g. 10.99.0.0/24")
        return None
    return net


def _peers(ctx: Context):
    """(index, peer) of each vms_vpn_peers entry, when the VPN network is usable and the list not reported."""
    if vpn_network(ctx) is None or ctx.reported_on_any_host("vms_vpn_peers"):
        return []
    return list(enumerate(ctx.site.site_var("vms_vpn_peers") or []))


def _peer_example(net) -> str:
    """A peer address inside net that is neither the edge's (the first) nor special."""
    return f"{net.network_address + 2}/32"


def check_vpn_edge(ctx: Context) -> None:
    """vms_remote_access: vpn needs the edge host: the VPN terminates there.

    From: seed 001 (secure networks: a VPN); seed 002 (a VPN instead of direct forwarding)."""
    if remote_access(ctx) == "vpn" and not ctx.site.members("vms_edge"):
        ctx.err("", "vms_edge", [], "is empty, but vms_remote_access: vpn terminates the VPN on the edge host",
                "add the Linux edge host to group vms_edge, or use vms_remote_access: port_forward")


def check_vpn_network(ctx: Context) -> None:
    """With the VPN, vms_vpn_network is set: a private CIDR of at most a /30 (room for the edge and a peer).

    From: docs/security.md, Hostile input class 3 (a VPN network that is public or smaller than a /30)."""
    vpn_network(ctx)


def check_vpn_network_apart(ctx: Context) -> None:
    """The VPN network overlaps no site network (the allow-list aside) and holds no site host's address.

    From: docs/security.md, Hostile input class 3 (a VPN network that overlaps any site or management
    network, holds a host)."""
    net = vpn_network(ctx)
    if net is None:
        return
    site = ctx.site
    network = site.site_var("vms_vpn_network")
    for var in NETWORK_VARS:
        if var == "vms_remote_allowlist":
            continue
        for item in site.site_var(var) or []:
            try:
                if net.overlaps(parse_cidr(item)):
                    ctx.err("all", "vms_vpn_network", network, f"overlaps {var} entry {item}",
                            "choose a VPN network that no site network uses")
            except ValueError:
                pass
    for host in site.hosts:
        try:
            addr = parse_ipv4(site.address_source(host)[1])
        except ValueError:
            continue
        if addr in net:
            ctx.err("all", "vms_vpn_network", network, f"holds the address {addr} of host {host}",
                    "choose a VPN network that no site host uses")


def check_vpn_edge_key(ctx: Context) -> None:
    """A given vms_vpn_edge_private_key is a WireGuard key (or vault-encrypted).

    From: docs/security.md, Hostile input class 1 (WireGuard keys)."""
    if vpn_network(ctx) is None:
        return
    key = ctx.site.site_var("vms_vpn_edge_private_key")
    if key is not None and key != VAULTED:
        problem = checks.wireguard_key_problem(key)
        if problem:
            ctx.err("all", "vms_vpn_edge_private_key", key, problem,
                    "remove it (vms-deploy generates one) or set it to the output of `wg genkey`, in Ansible Vault")


def check_vpn_peer_keys(ctx: Context) -> None:
    """A VPN peer has only the keys name, address, public_key and private_key.

    From: docs/security.md, Hostile input class 5 (unknown keys in every list-of-dict variable)."""
    for i, peer in _peers(ctx):
        for key in sorted(set(peer) - set(VPN_PEER_KEYS), key=str):
            ctx.err("all", f"vms_vpn_peers[{i}]", key,
                    f"is an unknown key{did_you_mean(str(key), list(VPN_PEER_KEYS))}",
                    "use only name, address, public_key and private_key (vaulted)")


def check_vpn_peer_names(ctx: Context) -> None:
    """Every VPN peer has its own safe name (it names the peer's configuration file).

    From: docs/security.md, Hostile input class 4 (VPN peer names are data)."""
    seen: set = set()
    for i, peer in _peers(ctx):
        var = f"vms_vpn_peers[{i}].name"
        name = peer.get("name")
        if not isinstance(name, str) or not name:
            ctx.err("all", var, name, "is missing", "give every peer a name")
        elif checks.safe_name_problem(name):
            ctx.err("all", var, name, checks.safe_name_problem(name),
                    f"name the peer with {checks.SAFE_NAME_RULE} (e.g. laptop-anna)")
        elif name in seen:
            ctx.err("all", var, name, "is used by two peers", "give every peer its own name")
        seen.add(name if isinstance(name, str) else repr(name))


def check_vpn_peer_wireguard_keys(ctx: Context) -> None:
    """A peer's given public_key / private_key is a WireGuard key (or vault-encrypted).

    From: docs/security.md, Hostile input class 1 (WireGuard keys)."""
    fixes = (("public_key", ("set it to the peer's public key (`wg pubkey` output), or remove it and let vms-deploy "
                             "generate the peer's keys")),
             ("private_key", "remove it (vms-deploy generates one) or set it to `wg genkey` output, in Ansible Vault"))
    for i, peer in _peers(ctx):
        for key, fix in fixes:
            if key in peer and peer[key] != VAULTED:
                problem = checks.wireguard_key_problem(peer[key])
                if problem:
                    ctx.err("all", f"vms_vpn_peers[{i}].{key}", peer[key], problem, fix)


def check_vpn_peer_addresses(ctx: Context) -> None:
    """Every VPN peer has its own single usable address inside vms_vpn_network: not its network, broadcast or
    first address (the edge's own tunnel address).

    From: docs/security.md, Hostile input class 2 (VPN peers on the tunnel network's network or broadcast
    address)."""
    net = vpn_network(ctx)
    seen: set = set()
    for i, peer in _peers(ctx):
        var = f"vms_vpn_peers[{i}].address"
        address = peer.get("address")
        if not isinstance(address, str):
            ctx.err("all", var, MISSING if address is None else address,
                    "is not set" if address is None else "is not an IPv4 address (expected a string)",
                    f"give the peer's tunnel address, e.g. {_peer_example(net)}")
            continue
        try:
            addr = parse_cidr(address if "/" in address else f"{address}/32")
        except ValueError as exc:
            ctx.err("all", var, address, str(exc), f"give the peer's tunnel address, e.g. {_peer_example(net)}")
            continue
        if addr.prefixlen != 32 or not addr.subnet_of(net):
            ctx.err("all", var, address, f"is not a single address inside vms_vpn_network {net}",
                    f"give a /32 inside {net}, e.g. {_peer_example(net)}")
        elif addr.network_address in (net.network_address, net.broadcast_address):
            which = "network" if addr.network_address == net.network_address else "broadcast"
            ctx.err("all", var, address, f"is the {which} address of vms_vpn_network {net}",
                    f"give the peer a usable address inside {net}, e.g. {_peer_example(net)}")
        elif addr in seen:
            ctx.err("all", var, address, "is used by two peers", "give every peer its own address")
        elif addr.network_address == next(net.hosts()):
            ctx.err("all", var, address, "is the edge's own tunnel address (the first address of vms_vpn_network)",
                    f"give the peer another address in the VPN network, e.g. {_peer_example(net)}")
        seen.add(addr)


def check_vpn_listen_port(ctx: Context) -> None:
    """vms_vpn_listen_port (WireGuard's UDP port on the edge) is a port number.

    From: docs/inventory.md (vms_vpn_listen_port); seed 002 (a VPN instead of direct forwarding)."""
    if ctx.reported_on_any_host("vms_remote_access"):
        return
    value = ctx.site.site_var("vms_vpn_listen_port")
    if value is not None and not ctx.reported_on_any_host("vms_vpn_listen_port"):
        port(ctx, "all", "vms_vpn_listen_port", value)
