"""Edge backends behind one interface.

The edge is what stands between the site and the Internet (and between its zones): a Linux router
vms-deploy manages (`nftables`), the customer's FortiGate (`fortios`, fortinet.fortios) or MikroTik
(`routeros`, community.routeros api_modify), on which vms-deploy owns only the site's marked objects
(docs/edge.md), or a consumer router an admin configures by hand from a sheet (`router_sheet`);
OPNsense (oxlorg.opnsense) would fit the same slot. The inventory picks one with `vms_edge_backend`
(site-wide); the default is `nftables` when the site has a host in group vms_edge and `router_sheet`
otherwise. The plan records the choice as `edge.backend` (and a vendor device's wiring,
vms_edge_interfaces, as `edge.interfaces`).

Every backend renders the same neutral model (`vms_deploy.edge.model.build(plan)`: named address
sets, the edge's own input services, port forwards with their allow-lists, the zone flows that cross
the edge merged by destination) and is one module exposing:

    NAME: str              the vms_edge_backend value
    MANAGED_EDGE: bool     True: needs the site's edge host (group vms_edge) and filters between
                           zones; False: an unmanaged router that only forwards (no vms_edge host)
    APPLIED: str           one sentence: how its output reaches the edge
    render(model, provenance=None) -> dict[str, str]   file name -> text, byte-stable (golden files
                           under tests/golden/<backend>/); provenance (vms_deploy.provenance) is the block
                           that documents for people end with (router.md), None for none

The contract every backend keeps (tests/kernel judges the nftables backend with real packets):

1. DNAT only from outside the site: a forward is DNAT'ed for sources in its allow-list that are in
   no site zone (`model.internal` is never DNAT'ed: no hairpin NAT), and only those are forwarded.
   The one exception is `model.nat_reflection` (vms_nat_reflection, nftables only): the client
   zone's sources are DNAT'ed too and then get exactly their direct connection (never cameras).
2. A routed Internet accept only for routed_public hosts: the Internet reaches a private site
   address through the forwards alone; a flow from the internet zone (`Flow.outside_only`) exists
   only towards `model.routed_public` hosts (the model refuses any other).
3. Cameras reached only by recorders: the only flows into the camera zone are the recorders' (the
   model refuses any other source).
4. Default drop: whatever the model does not list (forwards, flows, input services) is dropped,
   between zones and to the edge itself.

A backend that cannot filter between zones (MANAGED_EDGE False, the router sheet) is only chosen for
a site without a vms_edge host: there the host firewalls carry 3 and 4 (the plan keeps camera
networks out of every allow-list) and the router, like any NAT router, routes nothing in from the
Internet but the forwards it was given (1 and 2).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .backends import BACKENDS, backend_of, default_backend
from .model import EdgeModel, build

__all__ = ["BACKENDS", "EdgeModel", "backend", "backend_of", "build", "default_backend", "render"]


def backend(name: str) -> ModuleType:
    """The backend module called `name`; ValueError naming the choices for any other name."""
    if name not in BACKENDS:
        raise ValueError(f"edge backend {name!r} is not one of {', '.join(BACKENDS)}; "
                         f"set vms_edge_backend to one of them")
    return importlib.import_module(BACKENDS[name])


def render(plan: dict, name: str | None = None, host: str | None = None, provenance=None) -> dict[str, str]:
    """file name -> text of the plan's edge, rendered by backend `name` (default the plan's). provenance
    (vms_deploy.provenance.facts.collect): the block a backend's documents for people end with (router.md)."""
    name = name or backend_of(plan)
    module = backend(name)
    if module.MANAGED_EDGE:
        host = host or (plan.get("edge") or {}).get("host")
    else:
        host = None  # a router vms-deploy does not manage: no input chain of its own in the model
    model = build(plan, host, backend=name)
    return module.render(model, provenance)
