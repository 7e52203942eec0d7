#!/usr/bin/env python3
"""Generate synthetic site inventories for the benchmarks (into build/bench/, never committed).

Two kinds:

* ``plan`` sites: a Valerus (or, with --product xprotect, an XProtect) site with one Application /
  Management Server, one Internet Gateway / Mobile Server in the DMZ, an edge and N recorders
  (defaults: 20 cameras per recorder, at most 20,000, and always 200 client networks: the issue's
  largest site at 1000 recorders). Addresses are private placeholders; nothing connects to them.
* ``lab`` sites: the same shape, small, on the bench's own Docker subnet 172.29.200.0/24, with the
  vms_lab_* variables the lab role reads, for the converge bench (real containers).

    python3 bench/gen_site.py plan --recorders 1000 --out build/bench/sites/r1000
    python3 bench/gen_site.py lab --recorders 10 --out build/bench/lab/r10
"""
from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

import yaml

MAX_CAMERAS = 20_000
MAX_CLIENT_NETWORKS = 200
CAMERAS_PER_NETWORK = 250  # one /24 per 250 cameras, like a real camera VLAN plan
LAB_SUBNET = ipaddress.ip_network("172.29.200.0/24")  # the only subnet the bench may give Docker
MANAGEMENT = "10.0.250.0/24"


def default_cameras(recorders: int) -> int:
    return min(20 * recorders, MAX_CAMERAS)


def default_clients(recorders: int) -> int:
    """Every size gets the issue's 200 client networks, so a size sweep varies recorders alone:
    each recorder's client-facing rules carry every client network, whatever the site's size."""
    del recorders
    return MAX_CLIENT_NETWORKS


def recorder_name(i: int) -> str:
    return f"rec{i:04d}"


def recorder_address(i: int) -> str:
    """Recorders fill 10.1.0.0/16 from 10.1.0.10 on, 200 per /24 (room for >50,000)."""
    return f"10.1.{i // 200}.{10 + i % 200}"


def camera_networks(cameras: int) -> list[str]:
    count = max(1, -(-cameras // CAMERAS_PER_NETWORK))  # ceil
    return [f"10.{128 + i // 256}.{i % 256}.0/24" for i in range(count)]


def client_networks(count: int) -> list[str]:
    return [f"10.64.{i}.0/24" for i in range(count)]


PRODUCTS = ("valerus", "xprotect")  # the products with a gateway in a DMZ (the same site shape for both)


def plan_site(recorders: int, cameras: int | None = None, clients: int | None = None,
              platform: str = "linux", name: str | None = None, product: str = "valerus") -> tuple[dict, dict]:
    """(hosts.yml data, group_vars/all.yml data) of a synthetic site with `recorders` recorders: a Valerus
    site (Application Server, Internet Gateway) or an XProtect one (Management Server, Mobile Server)."""
    if product not in PRODUCTS:
        raise ValueError(f"--product must be one of {', '.join(PRODUCTS)}, got {product}")
    if recorders < 1:
        raise ValueError(f"--recorders must be at least 1, got {recorders}")
    cameras = default_cameras(recorders) if cameras is None else cameras
    clients = default_clients(recorders) if clients is None else clients
    recs = {recorder_name(i): {"vms_address": recorder_address(i)} for i in range(1, recorders + 1)}
    hosts = {"all": {"children": {
        "vms_app_servers": {"hosts": {"app1": {"vms_address": "10.1.250.10"}}},
        "vms_gateways": {"hosts": {"gw1": {"vms_address": "10.2.0.10"}}},
        "vms_recorders": {"hosts": recs},
        "vms_edge": {"hosts": {"edge1": {"vms_address": "10.1.250.1", "vms_public_address": "100.64.0.20",
                                         "vms_platform": "linux"}}},
    }}}
    group_vars = {
        "vms_site": name or f"bench-{'' if product == 'valerus' else product + '-'}r{recorders}",
        "vms_product": product, "vms_platform": platform,
        "vms_server_networks": ["10.1.0.0/16"], "vms_dmz_networks": ["10.2.0.0/24"],
        "vms_client_networks": client_networks(clients), "vms_camera_networks": camera_networks(cameras),
        "vms_management_networks": [MANAGEMENT], "vms_remote_access": "port_forward",
        "vms_remote_allowlist": ["100.64.100.0/24"], "vms_device_count": cameras,
    }
    return hosts, group_vars


def lab_site(recorders: int, lab_name: str | None = None) -> tuple[dict, dict]:
    """A converge lab: app1 + N recorders + edge1, all Linux containers on LAB_SUBNET.

    Remote access is off (no gateway, no forwards): the converge bench measures how the run grows
    with hosts, and the one subnet the bench may use cannot also carry an Internet zone.
    """
    if not 1 <= recorders <= 200:
        raise ValueError(f"--recorders for a lab site must be 1..200, got {recorders}")
    lab_name = lab_name or f"vmsbench-r{recorders}"
    base = LAB_SUBNET.network_address
    edge_ip, app_ip = str(base + 2), str(base + 10)

    recs = {}
    for i in range(1, recorders + 1):
        recs[recorder_name(i)] = {"vms_address": str(base + 20 + i)}
    everyone = {"app1": {"vms_address": app_ip}, **recs}
    for name, hvars in everyone.items():
        hvars["ansible_host"] = f"{lab_name}-{name}"
        hvars["vms_lab_interfaces"] = {"servers": hvars["vms_address"]}
    hosts = {"all": {"children": {
        "vms_app_servers": {"hosts": {"app1": everyone["app1"]}},
        "vms_recorders": {"hosts": recs},
        # No vms_public_address: nothing is forwarded (vms_remote_access: none), and the bench's one subnet
        # is the server network, which a public address may not sit in (validate.network_meaning).
        "vms_edge": {"hosts": {"edge1": {"ansible_host": f"{lab_name}-edge1", "vms_address": edge_ip,
                                         "vms_lab_interfaces": {"servers": edge_ip}}}},
    }}}
    group_vars = {
        "vms_site": lab_name, "vms_product": "valerus", "vms_platform": "linux",
        "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3",
        "vms_server_networks": [str(LAB_SUBNET)], "vms_client_networks": ["10.77.0.0/24"],
        "vms_camera_networks": ["10.78.0.0/24"], "vms_management_networks": [str(LAB_SUBNET)],
        "vms_remote_access": "none",
        "vms_lab_name": lab_name, "vms_lab_networks": {"servers": str(LAB_SUBNET)},
        "vms_lab_edge_host": "edge1", "vms_lab_vantages": [],
        # As every lab inventory (inventories/lab/*): the lab image has nftables, so the package
        # check (an apt run per host, ~1 s of CPU each) is left out, as a real site may not.
        "host_firewall_install_package": False, "edge_firewall_install_package": False,
    }
    return hosts, group_vars


def write_site(out: Path, hosts: dict, group_vars: dict) -> Path:
    """Write hosts.yml and group_vars/all.yml under `out` (replacing a previous generation)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "group_vars").mkdir(exist_ok=True)
    header = "---\n# Generated by bench/gen_site.py for the benchmarks; regenerate, do not edit.\n"
    dump = dict(default_flow_style=False, sort_keys=False, width=120)
    (out / "hosts.yml").write_text(header + yaml.safe_dump(hosts, **dump), encoding="utf-8")
    (out / "group_vars" / "all.yml").write_text(header + yaml.safe_dump(group_vars, **dump), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("kind", choices=["plan", "lab"])
    parser.add_argument("--recorders", type=int, required=True)
    parser.add_argument("--cameras", type=int, help="plan sites: default 20 per recorder, at most 20,000")
    parser.add_argument("--clients", type=int, help="plan sites: client networks, default recorders/5, at most 200")
    parser.add_argument("--platform", choices=["linux", "windows"], default="linux", help="plan sites only")
    parser.add_argument("--product", choices=PRODUCTS, default="valerus", help="plan sites only")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.kind == "plan":
            hosts, group_vars = plan_site(args.recorders, args.cameras, args.clients, args.platform,
                                          product=args.product)
        else:
            hosts, group_vars = lab_site(args.recorders)
    except ValueError as exc:
        print(f"gen_site: {exc}", file=sys.stderr)
        return 2
    print(write_site(args.out, hosts, group_vars))
    return 0


if __name__ == "__main__":
    sys.exit(main())
