"""Filters of the vendor edge backends (thin wrappers over vms_deploy.render.fortios / .routeros).

    plan | vms_edge_data('fortios' | 'routeros')       the module data the role applies (one render)
    data | vms_fortios_reconcile(fact_result)          {collisions, stale} from fortios_configuration_fact
    data | vms_fortios_moves(fact_result)              policy moves that keep the site's block first
    data | vms_routeros_jump_move(api_info_result)     the move that keeps the site's jump first, or none
"""
from __future__ import annotations

import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(RenderError, fortios, routeros), IMPORT_ERROR = _GLUE["vms_import"](
    "vms_deploy.render.nft_common:RenderError", "vms_deploy.render.fortios", "vms_deploy.render.routeros")
BACKENDS = {"fortios": "fortios", "routeros": "routeros"}


def _module(name):
    return {"fortios": fortios, "routeros": routeros}[name]


def vms_edge_data(plan, backend):
    """plan | vms_edge_data(backend) -> the module data of a vendor backend (vms_deploy.render.<backend>)."""
    plan = _GLUE["vms_plan_arg"](plan, "vms_edge_data")
    if backend not in BACKENDS:
        raise AnsibleFilterError(f"vms_edge_data: backend {backend!r} is not one of {', '.join(BACKENDS)}")

    def vms_edge_data(plan):  # named for vms_call's error messages
        return _module(backend).plan_data(plan)

    return _GLUE["vms_call"](vms_edge_data, (RenderError, KeyError, ValueError), plan)


def _fact_tables(result) -> dict:
    """fortios_configuration_fact's result (selectors) -> {firewall_policy: [...], firewall_vip: [...], ...}."""
    if not isinstance(result, dict) or not isinstance(result.get("meta"), list):
        raise AnsibleFilterError("expected the registered result of fortinet.fortios.fortios_configuration_fact "
                                 "with selectors (its meta is a list of responses)")
    tables: dict = {}
    for response in result["meta"]:
        if not isinstance(response, dict) or response.get("http_status", 200) != 200:
            raise AnsibleFilterError(f"the FortiGate did not list its objects: {response!r:.300}")
        key = f"{response.get('path', '')}_{response.get('name', '')}".replace(".", "_").replace("-", "_")
        tables[key] = list(response.get("results") or [])
    return tables


def vms_fortios_reconcile(data, fact_result):
    return _GLUE["vms_call"](fortios.reconcile, (KeyError, ValueError, TypeError), data, _fact_tables(fact_result))


def vms_fortios_moves(data, fact_result):
    order = [p.get("policyid") for p in _fact_tables(fact_result).get("firewall_policy", [])]
    return _GLUE["vms_call"](fortios.moves, (KeyError, ValueError, TypeError), data, order)


def vms_routeros_jump_move(data, info_result):
    if not isinstance(info_result, dict) or not isinstance(info_result.get("result"), list):
        raise AnsibleFilterError("vms_routeros_jump_move: expected the registered result of "
                                 "community.routeros.api_info")
    return _GLUE["vms_call"](routeros.jump_move, (KeyError, ValueError, TypeError), data, info_result["result"])


def vms_edge_changes(registered):
    """[registered loop results] | vms_edge_changes -> what changed, one label per item (its name, policy id
    or path): the audit's detail for a vendor edge."""
    labels = []
    for result in registered or []:
        for item_result in (result or {}).get("results") or []:
            if not isinstance(item_result, dict) or not item_result.get("changed"):
                continue
            item = item_result.get("item")
            if isinstance(item, dict):
                item = item.get("name") or item.get("policyid") or item.get("self") or item.get("path")
            labels.append(str(item))
    return labels


class FilterModule:
    def filters(self):
        return {"vms_edge_data": vms_edge_data, "vms_edge_changes": vms_edge_changes,
                "vms_fortios_reconcile": vms_fortios_reconcile,
                "vms_fortios_moves": vms_fortios_moves, "vms_routeros_jump_move": vms_routeros_jump_move}
