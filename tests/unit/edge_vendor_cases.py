"""Plans for the vendor edge tests (fortios, routeros): every example's golden plan, wired to a device.

A vendor edge binds its rules to the device's interfaces (vms_edge_interfaces, recorded in the plan
as edge.interfaces); the examples are written for the Linux edge and a consumer router, so the tests
give each one the wiring a site would: one device interface per zone. The collections' own code is
loaded from the venv's site-packages (ansible_collections), never from a copy.
"""
from __future__ import annotations

import copy
import importlib
from unittest import mock

VENDOR_BACKENDS = ("fortios", "routeros")
WIRING = {
    "fortios": {"internet": "port1", "servers": "port2", "clients": "port3", "cameras": "port4", "dmz": "port5",
                "management": "port6"},
    "routeros": {"internet": "ether1", "servers": "ether2", "clients": "ether3", "cameras": "ether4",
                 "dmz": "ether5", "management": "bridge-mgmt"},
}


def wired(plan: dict, backend: str) -> dict:
    """The plan with the backend chosen and the device's interfaces set (as vms_edge_interfaces would)."""
    out = copy.deepcopy(plan)
    out["edge"]["backend"] = backend
    out["edge"]["interfaces"] = dict(WIRING[backend])
    return out


def example_plan(name: str, backend: str) -> dict:
    from conftest import GOLDEN_PLANS, load_json  # tests/unit's (imported here: tests/property uses this module too)

    return wired(load_json(GOLDEN_PLANS / f"{name}.json"), backend)


def cases():
    """(example, backend) for every example inventory and both vendor backends."""
    from conftest import EXAMPLES

    return [(name, backend) for name in EXAMPLES for backend in VENDOR_BACKENDS]


class _Captured(Exception):
    pass


def module_argument_spec(module_name: str) -> dict:
    """The argument spec a vendor module builds in its own main(), captured where it is handed to
    AnsibleModule (so the spec is the module's, built by its own code, not our reading of its docs)."""
    module = importlib.import_module(module_name)
    seen: dict = {}

    class Capture:
        def __init__(self, argument_spec=None, **kwargs):
            seen["spec"] = argument_spec
            raise _Captured

    with mock.patch.object(module, "AnsibleModule", Capture):
        try:
            module.main()
        except _Captured:
            pass
    return seen["spec"]
