"""Filters that render nftables tables from the plan (thin wrappers over vms_deploy.render)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

try:
    from vms_deploy.render.nft_common import RenderError, standin_ports
    from vms_deploy.vantage import line as flow_check_line
    from vms_deploy.vantage import vantage_checks, wrong
    from vms_deploy.render.nftables_edge import render_edge_ruleset
    from vms_deploy.render.nftables_host import render_host_ruleset
    IMPORT_ERROR = None
except ImportError as exc:  # the controller lacks the package: say how to fix it, not a traceback
    IMPORT_ERROR = exc

MISSING = "the vms_deploy Python package is not installed: run bin/setup (or pip install -e .)"


def _call(func, *args):
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    plan = args[0]
    if isinstance(plan, dict) and "plan" in plan and "hosts" not in plan:
        plan = plan["plan"]  # accept the registered vms_plan result as well as the plan itself
    if not isinstance(plan, dict) or "hosts" not in plan:
        raise AnsibleFilterError(f"{func.__name__}: expected the plan dict from the vms_plan action, got "
                                 f"{type(plan).__name__}")
    try:
        return func(plan, *args[1:])
    except (RenderError, KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"{func.__name__}: {exc}") from None


def vms_nft_host_ruleset(plan, host):
    """plan | vms_nft_host_ruleset(host) -> text of the host's `table inet vms_deploy`."""
    return _call(render_host_ruleset, plan, host)


def vms_nft_edge_ruleset(plan, host):
    """plan | vms_nft_edge_ruleset(host) -> text of the edge's `table inet vms_deploy`."""
    return _call(render_edge_ruleset, plan, host)


def vms_flow_checks(plan, vantages):
    """plan | vms_flow_checks(vantages) -> the connection checks the verify play runs (vms_deploy.vantage)."""
    return _call(vantage_checks, plan, vantages)


def vms_flow_wrong(results):
    """probe results | vms_flow_wrong -> those that differ from the evaluator or reach a forbidden tuple."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    return wrong(results)


def vms_standin_ports(plan, host, skip=()):
    """plan | vms_standin_ports(host, skip) -> [{protocol, port, component, service}] for the lab stand-in."""
    return _call(standin_ports, plan, host, list(skip or ()))


def vms_gateway_owned_ports(plan, host):
    """plan | vms_gateway_owned_ports(host) -> ["tcp/9443", ...] served by the gateway's nginx (stand-ins skip
    them); [] on a host that is no Linux gateway of a product whose gateway_proxy trait is nginx."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    from vms_deploy.render import nginx  # the gateway stage's renderer decides which ports nginx takes
    try:
        return nginx.proxied_ports(plan, host)
    except ValueError as exc:
        raise AnsibleFilterError(f"vms_gateway_owned_ports: {exc}") from None


def vms_flow_check_line(check):
    """One readable line for a flow check result: who, where, expected, got, and the invariant if any."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
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


class FilterModule:
    def filters(self):
        return {
            "vms_nft_host_ruleset": vms_nft_host_ruleset,
            "vms_nft_edge_ruleset": vms_nft_edge_ruleset,
            "vms_flow_checks": vms_flow_checks,
            "vms_standin_ports": vms_standin_ports,
            "vms_gateway_owned_ports": vms_gateway_owned_ports,
            "vms_flow_check_line": vms_flow_check_line,
            "vms_flow_wrong": vms_flow_wrong,
            "vms_site_vantages": vms_site_vantages,
        }
