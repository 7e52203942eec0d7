"""Sources the seeds fix stay fixed: cameras reach only recorders, and only on what the catalog gives them
(or a service declared on a recorder); a restricted service keeps its catalog sources. vms_deploy.invariants
holds the same on the plan (phase PRODUCT)."""
from __future__ import annotations

from ..catalog import SOURCE_ROLES
from ..model import parse_cidr
from .context import Context


def _names_cameras(ctx: Context, host: str, roles) -> bool:
    """roles names the cameras: the 'cameras' role, or a CIDR that overlaps a camera network of the host."""
    if not isinstance(roles, list):
        return False
    cameras = []
    for text in ctx.site.var(host, "vms_camera_networks", None) or []:
        try:
            cameras.append(parse_cidr(text))
        except ValueError:
            pass  # reported by the network rules
    for role in roles:
        if role == "cameras":
            return True
        try:
            net = parse_cidr(role) if isinstance(role, str) and role not in SOURCE_ROLES else None
        except ValueError:
            net = None
        if net is not None and any(net.overlaps(c) for c in cameras):
            return True
    return False


def _source_overrides(ctx: Context, host: str):
    """(service name, catalog service, override) of each override of the host that sets connects_from."""
    overrides = ctx.site.var(host, "vms_port_overrides", None)
    if not isinstance(overrides, dict) or ctx.reported(host, "vms_port_overrides"):
        return
    services = ctx.catalog.services()
    for name, ovr in sorted(overrides.items(), key=lambda kv: str(kv[0])):
        svc = services.get(name)
        if svc is not None and isinstance(ovr, dict) and "connects_from" in ovr:
            yield name, svc, ovr


def check_restricted_sources(ctx: Context) -> None:
    """A service the vendor restricts to named sources keeps them: its override sets no connects_from.

    From: seed 001 ("only allow Recording Servers to TCP 9000")."""
    for host in ctx.site.hosts:
        for name, svc, ovr in _source_overrides(ctx, host):
            if svc.restricted:
                ctx.err(host, f"vms_port_overrides.{name}.connects_from", ovr["connects_from"],
                        f"changes who may reach {name}, which the vendor restricts to "
                        f"{', '.join(svc.connects_from)} ({ctx.catalog.title} documentation)",
                        f"remove connects_from from the override of {name}")


def check_override_camera_sources(ctx: Context) -> None:
    """An override opens a service to the cameras only when the catalog already does.

    From: seed 001 (the camera subnet connected only to the recording server subnet)."""
    for host in ctx.site.hosts:
        for name, svc, ovr in _source_overrides(ctx, host):
            if not svc.restricted and _names_cameras(ctx, host, ovr["connects_from"]) \
                    and "cameras" not in svc.connects_from:
                ctx.err(host, f"vms_port_overrides.{name}.connects_from", ovr["connects_from"],
                        f"opens {name} to the camera network, but cameras may reach only what the catalog gives "
                        "them on recorders", "remove cameras (and camera networks) from connects_from")


def check_custom_camera_sources(ctx: Context) -> None:
    """A custom service open to the cameras is declared on a recorder: cameras reach nothing else.

    From: seed 001 (the cameras need to communicate only with the recording servers)."""
    for host in ctx.site.hosts:
        customs = ctx.site.var(host, "vms_custom_services", None)
        if not isinstance(customs, list) or ctx.reported(host, "vms_custom_services") \
                or set(ctx.site.host_groups(host)) & {"vms_recorders", "vms_failover_recorders"}:
            continue
        for i, entry in enumerate(customs):
            if isinstance(entry, dict) and _names_cameras(ctx, host, entry.get("connects_from")):
                ctx.err(host, f"vms_custom_services[{i}].connects_from", entry.get("connects_from"),
                        f"opens a service on {host}, which records nothing, to the camera network; cameras "
                        "reach only recorders", "remove cameras from connects_from, or declare the service on "
                        "the recorder the cameras talk to")
