"""Groups: the topology is group membership, so the product's groups are checked by name and by size
(phase PRODUCT: they come from the product's catalog)."""
from __future__ import annotations

from ..catalog import all_groups
from ..resolve import platform_of
from .context import Context
from .reserved import generated_group
from .spec import did_you_mean

# Groups created at run time by stages/prechecks.yml (add_host, once per run); reserved, never inventory topology.
RUNTIME_GROUP_PREFIX = "vms_platform_"
RUNTIME_GROUPS = {"vms_platform_linux": "linux", "vms_platform_windows": "windows"}
# Machines that probe the site in playbooks/verify.yml: not site hosts, never planned.
VANTAGE_GROUP = "vms_vantages"


def check_required_groups(ctx: Context) -> None:
    """Each group the product requires (its catalog's required_groups) has at least one host.

    From: seeds 000 and 001 (an Application / Management Server and Recording Servers in every topology)."""
    cat = ctx.catalog
    for group in cat.required_groups:
        if not ctx.site.groups.get(group):
            ctx.err("", group, [], f"is empty, but a {cat.title} site needs at least one host in it",
                    f"add the host(s) to group {group} in the inventory (one host may be in several groups)")


def check_product_groups(ctx: Context) -> None:
    """A host is only in groups its product has (an XProtect component group on a Valerus site is a mistake).

    From: the product catalogs (src/vms_deploy/catalogs/*.yml), written from seeds 000-002."""
    cat = ctx.catalog
    known = set(cat.groups())
    for group in sorted(set(all_groups()) - known):
        for host in ctx.site.groups.get(group, []):
            ctx.err(host, group, host, f"is a group that {cat.title} does not have",
                    f"remove {host} from {group}; {cat.title} uses: {', '.join(cat.groups())}")


def check_reserved_groups(ctx: Context) -> None:
    """vms_platform_* groups are made at run time by stages/prechecks.yml (add_host, once per run). An
    inventory that defines one could move a host into the other platform's stages: refused when read from
    files; inside a playbook run only the two runtime groups, each holding hosts of its platform (what add_host
    makes, possibly for a --limit subset), are accepted.

    From: docs/security.md, Hostile input class 5 (reserved and unknown names); docs/architecture.md,
    "Reserved names"."""
    from_files = bool(ctx.data.get("groups_from_files"))
    for group, hosts in sorted(ctx.site.groups.items()):
        if not group.startswith(RUNTIME_GROUP_PREFIX):
            continue
        platform = RUNTIME_GROUPS.get(group)
        for host in hosts:
            if host not in ctx.site.hosts:
                continue
            if from_files or platform is None or platform_of(ctx.site, host, ctx.product) != platform:
                ctx.err(host, group, host, f"is a reserved group name ({RUNTIME_GROUP_PREFIX}* groups are made at "
                        "run time from each host's platform)",
                        "rename the group to a name that does not start with vms_; set a host's platform with "
                        "vms_platform")


def check_unknown_groups(ctx: Context) -> None:
    """A group named vms_* is a vms-deploy group (a typo gets a "did you mean"), a runtime group or the
    verify vantages' group.

    From: docs/security.md, Hostile input class 5 (reserved and unknown names)."""
    for group, hosts in sorted(ctx.site.groups.items()):
        if group.startswith("vms_") and group not in set(all_groups()) and not generated_group(group) \
                and not group.startswith(RUNTIME_GROUP_PREFIX) and group != VANTAGE_GROUP:
            for host in hosts:
                ctx.err(host, group, host, f"is not a vms-deploy group{did_you_mean(group, all_groups())}",
                        "correct the group name or use a name that does not start with vms_")


def check_single_host_groups(ctx: Context) -> None:
    """A group the product allows once (its catalog's single_host_groups) holds one host.

    From: seed 000 (one Internet Gateway for the site, "a single Internet Gateway"); docs/policy.md."""
    cat = ctx.catalog
    for group in cat.single_host_groups:
        hosts = ctx.site.groups.get(group, [])
        if len(hosts) > 1:
            for host in hosts:
                ctx.err(host, group, hosts, f"holds {len(hosts)} hosts; a {cat.title} site has exactly one",
                        f"keep one host in {group}")


def check_edge_alone(ctx: Context) -> None:
    """The edge firewall is a host of its own: no VMS component runs on it.

    From: seed 001 (a firewall between the VMS and the Internet, the DMZ between two firewalls)."""
    for host in ctx.site.groups.get("vms_edge", []):
        others = [g for g in ctx.site.host_groups(host) if g != "vms_edge"]
        if others:
            ctx.err(host, "vms_edge", host, f"is the edge firewall but also in {', '.join(others)}",
                    "run the edge router on its own host; VMS components belong behind it")


def check_one_edge(ctx: Context) -> None:
    """A site has at most one edge host.

    From: seed 000 (one router in front of the site, forwarding to the one gateway)."""
    edge = ctx.site.groups.get("vms_edge", [])
    if len(edge) > 1:
        for host in edge:
            ctx.err(host, "vms_edge", edge, "holds more than one host", "keep one edge host per site")
