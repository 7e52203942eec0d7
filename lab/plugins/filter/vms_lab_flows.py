"""The lab's filters (NOT the product's): flow checks for the vantages and the stand-ins' ports.

Thin wrappers over the lab's own Python package, vms_lab (lab/src/vms_lab, not in the product wheel),
which reads the product's plan, evaluator and invariants. The package is found next to this file, so
the lab works wherever its plugin path is configured (ansible.cfg, Molecule, the execution environment).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from ansible.errors import AnsibleFilterError

_LAB_SRC = str(Path(__file__).resolve().parents[2] / "src")
if _LAB_SRC not in sys.path:
    sys.path.append(_LAB_SRC)

try:
    from vms_deploy.render import nginx
    from vms_deploy.render.nft_common import RenderError
    from vms_lab.flows import line as flow_check_line
    from vms_lab.flows import vantage_checks, wrong
    from vms_lab.standin import standin_ports
    IMPORT_ERROR = None
except ImportError as exc:  # the controller lacks the package: say how to fix it, not a traceback
    IMPORT_ERROR = exc

# The product's filter glue (plugins/filter/_vms_glue.py) for the plan argument and error conversion; the
# imports stay here, so a missing lab package (lab/src) is named too.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[3] / "plugins" / "filter" / "_vms_glue.py"))

MISSING = ("the vms_deploy Python package is not installed (run bin/setup, or pip install -e .), "
           f"or the lab's vms_lab package is missing from {_LAB_SRC}")


def _ready():
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")


def _call(func, plan, *args):
    _ready()
    plan = _GLUE["vms_plan_arg"](plan, getattr(func, "__name__", "filter"))
    return _GLUE["vms_call"](func, (RenderError, KeyError, ValueError), plan, *args)


def vms_flow_checks(plan, vantages):
    """plan | vms_flow_checks(vantages) -> the connection checks the verify play runs (vms_lab.flows)."""
    return _call(vantage_checks, plan, vantages)


def vms_flow_wrong(results):
    """probe results | vms_flow_wrong -> those that differ from the evaluator or reach a forbidden tuple."""
    _ready()
    return wrong(results)


def vms_flow_check_line(check):
    """One readable line for a flow check result: who, where, expected, got, and the invariant if any."""
    _ready()
    return flow_check_line(check)


def vms_site_vantages(names, hostvars):
    """groups['vms_vantages'] | vms_site_vantages(hostvars) -> [{name, address}] of the on-site vantages."""
    out = []
    for name in names or []:
        hv = hostvars[name]
        address = hv.get("vms_address") or hv.get("ansible_host")
        if not address:
            raise AnsibleFilterError(f"vantage {name}: set vms_address (the address it probes from) or ansible_host")
        out.append({"name": name, "address": str(address)})
    return out


def _standin_ports(plan, host, skip):
    real = nginx.proxied_ports(plan, host)  # a Linux gateway's nginx (gateway_proxy trait) serves these for real
    return standin_ports(plan, host, [*real, *skip])


def vms_standin_ports(plan, host, skip=()):
    """plan | vms_standin_ports(host, skip) -> [{protocol, port, component, service}] for the lab stand-in:
    every service port the plan gives the host, except `skip` and, on a Linux gateway, the ports its
    reverse proxy (nginx, the product's gateway_proxy trait) serves for real."""
    return _call(_standin_ports, plan, host, list(skip or ()))


class FilterModule:
    def filters(self):
        return {
            "vms_flow_checks": vms_flow_checks,
            "vms_flow_wrong": vms_flow_wrong,
            "vms_flow_check_line": vms_flow_check_line,
            "vms_site_vantages": vms_site_vantages,
            "vms_standin_ports": vms_standin_ports,
        }
