"""The vendor backends' module data, judged by the vendor collections' own code (no device can run here).

fortios: each rendered `firewall_*` entry, wrapped as its module's task arguments, goes through the
argument spec the module builds in its own main() (ansible-core's ArgumentSpecValidator: unknown
keys, types, choices, required keys) and through the collection's own version check
(check_schema_versioning) for each FortiOS release we claim. routeros: each api_modify call goes
through api_modify's argument spec, and each data entry through community.routeros's RouterOS API
model (_api_data.PATHS: known keys of that path, primary/stratify keys, read-only keys) with
api_modify's own entry checks (polish_entry) and restrict matching (restrict_entry_accepted).
Cross-references (a policy naming a group, a rule naming an address list) must resolve, as the
device would require.
"""
from __future__ import annotations

import importlib

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from edge_vendor_cases import cases, example_plan, module_argument_spec

from vms_deploy.render import fortios, routeros

FORTIOS_MODULES = {
    "firewall_address": "fortios_firewall_address",
    "firewall_addrgrp": "fortios_firewall_addrgrp",
    "firewall_service_custom": "fortios_firewall_service_custom",
    "firewall_vip": "fortios_firewall_vip",
    "firewall_policy": "fortios_firewall_policy",
}
# FortiOS releases the backend is claimed for (docs/edge.md): every key must be in the schema's v_range.
FORTIOS_VERSIONS = ("v6.4.0", "v7.0.0", "v7.2.0", "v7.4.0", "v7.6.0")
FORTIOS_BUILTIN = {"addresses": {"all"}, "services": {"ALL"}}
ROUTEROS_VERSIONS = ("7.12", "7.16")  # RouterOS v7 (api paths that are versioned are specialised per release)
_FORTIOS_PKG = "ansible_collections.fortinet.fortios.plugins"
_ROUTEROS_PKG = "ansible_collections.community.routeros.plugins"

FORTIOS_CASES = [c for c in cases() if c[1] == "fortios"]
ROUTEROS_CASES = [c for c in cases() if c[1] == "routeros"]


def _fortios_data(name):
    return fortios.plan_data(example_plan(name, "fortios"))


def _routeros_data(name):
    return routeros.plan_data(example_plan(name, "routeros"))


# --- fortios ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fortios_specs():
    return {key: module_argument_spec(f"{_FORTIOS_PKG}.modules.{mod}") for key, mod in FORTIOS_MODULES.items()}


@pytest.mark.parametrize("name,backend", FORTIOS_CASES)
def test_fortios_module_arguments_pass_the_modules_own_argument_specs(name, backend, fortios_specs):
    data = _fortios_data(name)
    assert data["firewall_policy"], "every site gets at least its default deny"
    for key, spec in fortios_specs.items():
        for entry in data[key]:
            args = {"vdom": "root", "state": "present", key: entry}
            result = ArgumentSpecValidator(spec).validate(args)
            assert not result.error_messages, f"{key} {entry.get('name')}: {result.error_messages}"
            # Nothing was coerced or added beyond the module's own defaults of unset keys.
            validated = result.validated_parameters[key]
            assert {k: validated[k] for k in entry} == entry


class _FakeConn:
    def __init__(self, version):
        self.version = version

    def get_system_version(self):
        return self.version


class _FakeFos:
    def __init__(self, version, params):
        self._conn = _FakeConn(version)
        self._module = type("M", (), {"params": params})()


@pytest.mark.parametrize("version", FORTIOS_VERSIONS)
@pytest.mark.parametrize("name,backend", FORTIOS_CASES)
def test_fortios_keys_exist_in_every_claimed_fortios_release(name, backend, version):
    from ansible_collections.fortinet.fortios.plugins.module_utils.fortios.fortios import check_schema_versioning

    data = _fortios_data(name)
    for key, mod in FORTIOS_MODULES.items():
        schema = importlib.import_module(f"{_FORTIOS_PKG}.modules.{mod}").versioned_schema
        for entry in data[key]:
            result = check_schema_versioning(_FakeFos(version, {key: entry}), schema, key)
            assert result["matched"], f"{key} {entry.get('name')} on FortiOS {version}: {result['mismatches']}"


@pytest.mark.parametrize("name,backend", FORTIOS_CASES)
def test_fortios_references_resolve_and_names_fit(name, backend):
    data = _fortios_data(name)
    addresses = {a["name"] for a in data["firewall_address"]}
    groups = {g["name"] for g in data["firewall_addrgrp"]}
    services = {s["name"] for s in data["firewall_service_custom"]}
    vips = {v["name"] for v in data["firewall_vip"]}
    for group in data["firewall_addrgrp"]:
        assert group["member"] and {m["name"] for m in group["member"]} <= addresses
    owner = data["owner"]
    for key in ("firewall_address", "firewall_addrgrp", "firewall_service_custom", "firewall_vip"):
        for entry in data[key]:
            assert entry["name"].startswith(data["prefix"]) and len(entry["name"]) <= 79
            assert entry["comment"].startswith(owner)
    first, last = data["policy_ids"]
    ids = [p["policyid"] for p in data["firewall_policy"]]
    assert len(ids) == len(set(ids)) and all(first <= i <= last for i in ids) and ids[-1] == last
    for policy in data["firewall_policy"]:
        assert policy["name"].startswith(data["prefix"]) and len(policy["name"]) <= 35
        assert policy["comments"].startswith(owner)
        assert {a["name"] for a in policy["srcaddr"]} <= groups | FORTIOS_BUILTIN["addresses"]
        assert {a["name"] for a in policy["dstaddr"]} <= groups | vips | FORTIOS_BUILTIN["addresses"]
        assert {s["name"] for s in policy["service"]} <= services | FORTIOS_BUILTIN["services"]
        assert policy["action"] in ("accept", "deny")
        # FortiOS refuses match-vip on an accept policy (6.4.3 and later).
        assert policy.get("match_vip") != "enable" or policy["action"] == "deny"


# --- routeros ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api_modify_spec():
    return module_argument_spec(f"{_ROUTEROS_PKG}.modules.api_modify")


CONNECTION = {"hostname": "192.168.88.1", "username": "vms-deploy", "password": "secret", "tls": True}


@pytest.mark.parametrize("name,backend", ROUTEROS_CASES)
def test_routeros_calls_pass_api_modify_own_argument_spec(name, backend, api_modify_spec):
    for call in _routeros_data(name)["calls"]:
        result = ArgumentSpecValidator(api_modify_spec).validate({**call, **CONNECTION})
        assert not result.error_messages, f"{call['path']}: {result.error_messages}"


class _Failed(Exception):
    pass


class _Module:
    """What api_modify's helpers read from their module (params) and call on it (fail_json)."""

    def __init__(self, call):
        self.params = {"handle_read_only": "error", "handle_write_only": "create_only", "restrict": None,
                       "ensure_order": False, "handle_absent_entries": "ignore",
                       "handle_entries_content": "ignore", **call}
        for item in self.params["restrict"] or []:
            item.setdefault("match_disabled", False)
            item.setdefault("invert", False)
            item.setdefault("values", None)
            item.setdefault("regex", None)

    def fail_json(self, msg, **kwargs):
        raise _Failed(msg)


def _path_info(path: str, version: str):
    from ansible_collections.community.routeros.plugins.module_utils._api_data import PATHS, split_path

    versioned = PATHS[tuple(split_path(path))]
    if versioned.needs_version:
        supported, why = versioned.provide_version(version)
        assert supported, f"/{path} is not supported on RouterOS {version}: {why}"
    return versioned.get_data()


@pytest.mark.parametrize("version", ROUTEROS_VERSIONS)
@pytest.mark.parametrize("name,backend", ROUTEROS_CASES)
def test_routeros_entries_fit_the_routeros_api_model(name, backend, version):
    import copy

    from ansible_collections.community.routeros.plugins.module_utils._api_helper import (
        restrict_entry_accepted,
        validate_and_prepare_restrict,
    )
    from ansible_collections.community.routeros.plugins.modules.api_modify import get_backend, polish_entry

    for call in _routeros_data(name)["calls"]:
        info = _path_info(call["path"], version)
        assert info.fully_understood and get_backend(info) is not None, f"api_modify cannot sync /{call['path']}"
        module = _Module(copy.deepcopy(call))
        restrict = validate_and_prepare_restrict(module, info)
        keys = info.primary_keys or info.stratify_keys or ()
        for entry in copy.deepcopy(call["data"]):
            unknown = sorted(set(entry) - set(info.fields))
            assert not unknown, f"/{call['path']}: keys {unknown} are not in the RouterOS API model"
            assert all(k in entry for k in keys), f"/{call['path']}: {entry} lacks {keys}"
            assert restrict_entry_accepted(entry, info, restrict), f"/{call['path']}: {entry} fails its own restrict"
            polish_entry(entry, info, module, f" in /{call['path']}")  # api_modify's own checks; raises _Failed


@pytest.mark.parametrize("name,backend", ROUTEROS_CASES)
def test_routeros_references_resolve_and_every_entry_is_marked(name, backend):
    data = _routeros_data(name)
    by_path: dict[str, list] = {}
    for call in data["calls"]:
        by_path.setdefault(call["path"], []).append(call)
    lists = {e["name"] for e in by_path["interface list"][0]["data"]}
    members = by_path["interface list member"][0]["data"]
    assert {m["list"] for m in members} == lists
    address_lists = {e["list"] for e in by_path["ip firewall address-list"][-1]["data"]}
    rules = by_path["ip firewall filter"][0]["data"] + by_path["ip firewall filter"][1]["data"]
    for rule in rules + by_path["ip firewall nat"][0]["data"]:
        assert rule["comment"].startswith(data["owner"])
        for key in ("in-interface-list", "out-interface-list"):
            assert key not in rule or rule[key] in lists
        for key in ("src-address-list", "dst-address-list"):
            assert key not in rule or rule[key] in address_lists
    assert by_path["ip firewall filter"][1]["data"][0]["jump-target"] == data["chain"]
    assert rules[len(by_path["ip firewall filter"][0]["data"]) - 1]["action"] == "drop"  # the chain ends in drop
    for call in data["calls"]:
        for entry in call["data"]:
            assert entry["comment"].startswith(data["owner"])
