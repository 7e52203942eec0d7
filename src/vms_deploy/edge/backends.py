"""The edge backends by name and the default choice (no imports: the model and the compiler read it)."""

from __future__ import annotations

# vms_edge_backend value -> the backend module (imported when used: the backends import the model).
BACKENDS = {
    "nftables": "vms_deploy.render.nftables_edge",
    "router_sheet": "vms_deploy.render.router_sheet",
    "fortios": "vms_deploy.render.fortios",
    "routeros": "vms_deploy.render.routeros",
}
DEFAULT_WITH_EDGE_HOST = "nftables"
DEFAULT_WITHOUT_EDGE_HOST = "router_sheet"


def default_backend(has_edge_host: bool) -> str:
    """Today's behaviour: nftables on the site's vms_edge host, the router sheet without one."""
    return DEFAULT_WITH_EDGE_HOST if has_edge_host else DEFAULT_WITHOUT_EDGE_HOST


def backend_of(plan: dict) -> str:
    """The plan's edge backend (edge.backend; a plan written before it existed gets the default)."""
    edge = plan.get("edge") or {}
    return edge.get("backend") or default_backend(bool(edge.get("host")))
