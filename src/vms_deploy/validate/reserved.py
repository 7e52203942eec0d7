"""Names the playbooks own: generated groups, lab-only variables, the controller's WinRM address (phase ALWAYS).

Issue 23, class 8: an inventory that writes one of these by hand changes what a run applies without a word (an
empty vms_plan_hosts group made site.yml skip the grouping, so no firewall was applied; vms_lab_interfaces on a
real NVR made linux_hosts.yml run the lab's stand-in listeners; vms_win_controller_address: 0.0.0.0/0 opened
WinRM to the world).
"""
from __future__ import annotations

import ipaddress

from .. import checks
from .context import Context

# Groups stages/prechecks.yml makes from the plan (plugins/filter/vms_plan.py vms_plan_groups: vms_plan_hosts,
# then vms_<prefix>_<value> for platform, zone, product, access, component and the TRAIT_GROUPS traits). The
# grouping runs only `when: groups['vms_plan_hosts'] is not defined`: a hand-written one, even empty, skips it.
PLAN_GROUP = "vms_plan_hosts"
GENERATED_PREFIXES = ("vms_zone_", "vms_product_", "vms_access_", "vms_component_", "vms_gateway_proxy_",
                      "vms_gateway_registration_")
LAB_PREFIX = "vms_lab_"
# The controller is one machine; an office's NAT range at most (the management networks' own limit is 256
# Internet addresses: networks.MAX_PUBLIC_MANAGEMENT_ADDRESSES).
MAX_CONTROLLER_ADDRESSES = 256


def generated_group(name: str) -> bool:
    """True for a group name the playbooks make from the plan at run time."""
    return name == PLAN_GROUP or name.startswith(GENERATED_PREFIXES)


def check_generated_groups(ctx: Context) -> None:
    """No inventory group has a name the playbooks generate from the plan (vms_plan_hosts, vms_zone_*,
    vms_component_*, ...), not even an empty one: site.yml groups the plan's hosts only when vms_plan_hosts does
    not exist yet, so a hand-written one leaves every firewall play without hosts. The plan is compiled once per
    run, before the grouping, so a generated group seen here is always written by hand.

    From: docs/architecture.md, "Reserved names" (groups made at run time are never inventory topology);
    issue 23, class 8."""
    for group, hosts in sorted(ctx.site.groups.items()):
        if not generated_group(group):
            continue
        problem = ("is a group vms-deploy makes from the plan at run time (stages/prechecks.yml); written in the "
                   "inventory it stops that grouping, and site.yml would apply no firewall")
        fix = "remove the group, or rename it to a name that does not start with vms_"
        members = [h for h in hosts if h in ctx.site.hosts]
        if not members:
            ctx.err("", group, [], problem, fix)
        for host in members:
            ctx.err(host, group, host, problem, fix)


def _lab_networks(value) -> dict[str, ipaddress.IPv4Network] | None:
    if not isinstance(value, dict):
        return None
    out = {}
    for name, cidr in value.items():
        try:
            out[str(name)] = ipaddress.IPv4Network(str(cidr), strict=False)
        except ValueError:
            return None
    return out


def check_lab_variables(ctx: Context) -> None:
    """vms_lab_* variables belong to lab inventories only: a host that carries one is a lab machine, i.e. the
    site names its lab (vms_lab_name), and when the lab declares its networks (vms_lab_networks) each of the
    host's vms_lab_interfaces addresses is in the lab network it names. On a real NVR they would make
    linux_hosts.yml run the lab's stand-in listeners.

    From: docs/inventory-reference.md (vms_lab_*: "Lab inventories only"); playbooks/stages/linux_hosts.yml
    (stand-in listeners when vms_lab_interfaces is defined); issue 23, class 8."""
    for host, hvars in ctx.site.hosts.items():
        lab = sorted(n for n in hvars if isinstance(n, str) and n.startswith(LAB_PREFIX) and not ctx.reported(host, n))
        if not lab:
            continue
        fix = ("remove the vms_lab_* variables from a real site's inventory; a lab inventory (inventories/lab/) sets "
               "vms_lab_name, and each host's vms_lab_interfaces inside its vms_lab_networks")
        if not hvars.get("vms_lab_name"):
            for name in lab:
                ctx.err(host, name, hvars[name], "is a lab-only variable, but the site is not a lab (no vms_lab_name)",
                        fix)
            continue
        networks = _lab_networks(hvars.get("vms_lab_networks"))
        interfaces = hvars.get("vms_lab_interfaces")
        if networks is None or not isinstance(interfaces, dict):
            continue  # a lab without Docker networks of its own (molecule/ssh_managed: one bridge)
        for network, address in sorted(interfaces.items(), key=str):
            try:
                inside = ipaddress.IPv4Address(str(address)) in networks[str(network)]
            except (ValueError, KeyError):
                inside = False
            if not inside:
                ctx.err(host, "vms_lab_interfaces", {network: address},
                        "is not an address in the lab network it names (vms_lab_networks): the host is not a lab "
                        "container", fix)


def check_controller_address(ctx: Context) -> None:
    """vms_win_controller_address is the address Ansible connects from (one machine, or a NAT range of at most
    MAX_CONTROLLER_ADDRESSES addresses): WinRM is opened to it besides vms_management_networks, so a wide
    network, or the whole Internet however written, would open WinRM to it.

    From: docs/security.md, Threat model (management ports only from vms_management_networks) and Hostile input
    class 3 (the whole Internet however spelled); issue 23, class 8."""
    for host, hvars in ctx.site.hosts.items():
        value = hvars.get("vms_win_controller_address")
        if not isinstance(value, str) or ctx.reported(host, "vms_win_controller_address"):
            continue
        try:
            net = ipaddress.IPv4Network(value.strip(), strict=False)
        except ValueError:
            continue  # the Windows firewall renderer names it (not an address); field-inputs' rules may too
        if checks.covers_everything([net]) or net.num_addresses > MAX_CONTROLLER_ADDRESSES:
            ctx.err(host, "vms_win_controller_address", value,
                    f"holds {net.num_addresses} addresses: WinRM would be open to all of them",
                    "set the controller's own address as the Windows host sees it (e.g. 10.9.0.5), or put "
                    "the administrators' network in vms_management_networks")
