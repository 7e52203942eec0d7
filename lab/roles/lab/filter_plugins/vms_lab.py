"""Turn a lab inventory's vms_lab_* variables into the Docker objects the lab needs."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def _addr_in(address, subnet, where):
    try:
        ok = ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    except ValueError as exc:
        raise AnsibleFilterError(f"{where}: {exc}") from None
    if not ok:
        raise AnsibleFilterError(f"{where}: address {address} is not inside the lab network {subnet}; "
                                 "fix vms_lab_interfaces / vms_lab_vantages or vms_lab_networks")


def vms_lab_spec(members, lab_name, networks, edge_host, vantages):
    """members: [{host, container, interfaces: {network: address}}] -> {networks, containers}.

    Every non-edge container routes through the edge: its default route points at the edge's
    address on the container's own (first) network. The bridge keeps .1, so the edge never has it.
    """
    if not isinstance(networks, dict) or not networks:
        raise AnsibleFilterError("vms_lab_networks must map zone names to subnets, e.g. {servers: 172.28.12.0/24}")
    nets = [{"name": f"{lab_name}-{zone}", "zone": zone, "subnet": str(ipaddress.ip_network(subnet))}
            for zone, subnet in sorted(networks.items())]
    edge = [m for m in members if m["host"] == edge_host]
    if not edge:
        raise AnsibleFilterError(f"vms_lab_edge_host = {edge_host!r} is not a lab host with vms_lab_interfaces; "
                                 "set it to the inventory name of the vms_edge host")
    edge_if = edge[0]["interfaces"]
    containers = []

    def add(name, host, interfaces, kind):
        attach = []
        for zone, address in sorted(interfaces.items(), key=lambda kv: kv[0]):
            if zone not in networks:
                raise AnsibleFilterError(f"{host}: network {zone!r} is not in vms_lab_networks "
                                         f"({', '.join(sorted(networks))})")
            _addr_in(address, networks[zone], f"{host} on {zone}")
            attach.append({"name": f"{lab_name}-{zone}", "ipv4_address": str(address), "zone": zone})
        gateway = None
        if host != edge_host:
            zone = attach[0]["zone"]
            if zone not in edge_if:
                raise AnsibleFilterError(f"{host}: the edge {edge_host} has no address on {zone}; add it to the "
                                         "edge's vms_lab_interfaces")
            gateway = str(edge_if[zone])
        containers.append({"name": name, "host": host, "kind": kind, "networks": attach,
                           "edge": host == edge_host, "gateway": gateway})

    for m in sorted(members, key=lambda m: m["host"]):
        add(m["container"], m["host"], m["interfaces"], "host")
    for v in sorted(vantages or [], key=lambda v: v["name"]):
        add(f"{lab_name}-{v['name']}", f"vantage {v['name']}", {v["network"]: v["address"]}, "vantage")
    return {"networks": nets, "containers": containers}


class FilterModule:
    def filters(self):
        return {"vms_lab_spec": vms_lab_spec}
