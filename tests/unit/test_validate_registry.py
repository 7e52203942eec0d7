"""The validator is a package of small registered rules (issue 23, "The validator as small rules").

Each rule states its rule and its source beside it; every check_* function of the package is registered
(no orphan, none twice); the phases and their order are those of the single class the package replaced
(its run(): shape, first pass, deeper checks, product checks, conflicts, then the plan's check); and each
phase runs exactly when its condition holds.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from conftest import valerus_split

import vms_deploy.validate as validate_pkg
from vms_deploy.errors import InputError
from vms_deploy.model import Site, parse_cidr
from vms_deploy.pipeline import compile_plan
from vms_deploy.validate import registry, runner
from vms_deploy.validate.context import Context
from vms_deploy.validate.registry import RULES, Phase

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(validate_pkg.__file__).parent
# The modules that run rules rather than hold them.
MACHINERY = {"context", "registry", "runner", "spec"}
# A "From:" paragraph naming where the rule comes from: a seed document, a doc of the repository, the catalogs.
SOURCE = re.compile(r"^From: (?:.|\n(?!\n))*?(seeds? 00[0-2]|docs/[\w./-]+\.md|product catalogs)", re.M)

# The old _Validator.run() order (git show 802567f:src/vms_deploy/validate.py), each old method's checks in
# the order that method made them.
EXPECTED = [
    (Phase.SHAPE, ["shape.check_hosts_given", "shape.check_groups_mapping", "shape.check_hosts_grouped"]),
    (Phase.FORM, ["sizes.check_sizes",                                   # check_sizes
                  "names.check_host_names", "names.check_host_name_meaning",  # check_host_names
                  "tls_mode.check_tls_switch_name", "tls_mode.check_tls_ca_given_once",  # issue 20 item 4
                  "variables.check_known_variables", "variables.check_not_null", "variables.check_types",
                  "variables.check_list_items", "variables.check_choices",  # check_variables
                  "site_wide.check_site_consistency",                    # check_site_consistency
                  "site_wide.check_site_vars_on_every_host",             # issue 23, class 3
                  "site_wide.check_product_set",                         # check_product
                  "site_wide.check_site_name"]),                         # check_site_name
    (Phase.ALWAYS, ["addresses.check_host_addresses", "addresses.check_duplicate_addresses",
                    "addresses.check_public_address",                    # check_addresses
                    "networks.check_network_entries", "networks.check_network_coverage",
                    "networks.check_whole_internet", "networks.check_separate_networks",
                    "networks.check_public_management",                  # check_networks
                    "network_meaning.check_management_apart_from_dmz", "network_meaning.check_management_shared_space",
                    "network_meaning.check_sources_not_cameras",
                    "network_meaning.check_public_address_outside_site",
                    "network_meaning.check_clients_not_internet",  # issue 23, class 1
                    "site_wide.check_edge_zone_only_edge",  # issue 23, class 3
                    "zones.check_address_not_network_edge", "zones.check_host_in_zone_networks",
                    "zones.check_routed_public", "zones.check_servers_outside_camera_networks",  # check_host_zone
                    "names.check_public_name", "names.check_tls_names",  # check_names
                    "tls.check_tls_mode", "tls.check_tls_days", "tls.check_tls_files",  # check_tls
                    "reserved.check_generated_groups", "reserved.check_lab_variables",
                    "reserved.check_controller_address",  # issue 23, class 8
                    "cameras.check_camera_keys", "cameras.check_camera_addresses",  # issue 25, after the package
                    "cameras.check_camera_fields", "cameras.check_camera_audit_settings",
                    "install.check_install_mode"]),  # issue 20, item 2
    (Phase.PRODUCT, ["groups.check_required_groups", "groups.check_product_groups", "groups.check_reserved_groups",
                     "groups.check_unknown_groups", "groups.check_single_host_groups", "groups.check_edge_alone",
                     "groups.check_one_edge",                            # check_groups
                     "features.check_features",                          # check_features
                     "ports.check_management_port", "ports.check_recorder_instances", "ports.check_device_count",
                     "ports.check_port_overrides", "ports.check_custom_services",
                     "segmentation.check_restricted_sources", "segmentation.check_override_camera_sources",
                     "segmentation.check_custom_camera_sources", "ports.check_camera_ports",
                     "forwards.check_forwarded_services",                # check_host_ports
                     "port_meaning.check_forwarded_once",                # issue 23, class 2
                     "remote_access.check_gateway_for_port_forward", "vpn.check_vpn_edge", "vpn.check_vpn_network",
                     "vpn.check_vpn_network_apart", "vpn.check_vpn_edge_key", "vpn.check_vpn_peer_keys",
                     "vpn.check_vpn_peer_names", "vpn.check_vpn_peer_wireguard_keys",
                     "port_meaning.check_vpn_peer_keys_unique",          # issue 23, class 2
                     "vpn.check_vpn_peer_addresses",
                     "vpn.check_vpn_listen_port",                        # check_remote_access, check_vpn
                     "edge_backend.check_edge_backend",                  # check_edge_backend
                     "edge_backend.check_nat_reflection",                # new with issue 21 (item 6)
                     "edge_device.check_edge_device_settings_read", "edge_device.check_edge_interfaces",
                     "edge_device.check_vendor_edge_remote_access",
                     "edge_device.check_edge_policy_id_base",            # new with issue 21 (vendor edges)
                     "windows.check_windows_installer_source", "windows.check_windows_packages",
                     "windows_inputs.check_winrm_source", "windows_inputs.check_controller_address",
                     "windows_inputs.check_windows_connection",
                     "windows_inputs.check_linux_connection", "windows_inputs.check_windows_installer_files",
                     "public_address.check_forward_public_address",
                     "public_address.check_placeholder_public_address"]),
    (Phase.CLEAN, ["conflicts.check_port_claims", "conflicts.check_forward_collisions",  # check_conflicts
                   "port_meaning.check_local_only_ports", "port_meaning.check_management_ports_kept",
                   "port_meaning.check_forward_keeps_internet", "port_meaning.check_vpn_port_free"]),  # issue 23, 2
    (Phase.COMPILED, ["windows.check_windows_install"]),                 # windows_install_errors
]


def rule_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]) if m.name not in MACHINERY)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_states_its_rule_and_source(rule):
    doc = rule.doc.strip()
    first = doc.split("\n\n")[0]
    assert len(first.split()) >= 5 and first.endswith("."), f"{rule.name}: the docstring's first paragraph " \
                                                             "states the rule in a sentence"
    assert SOURCE.search(doc), f"{rule.name}: no 'From: <seed 00N | docs/....md>' line beside the rule"
    for path in re.findall(r"docs/[\w./-]+\.md", doc):
        assert (ROOT / path).is_file(), f"{rule.name} cites {path}, which does not exist"


def test_every_check_function_is_registered_once():
    registered = [rule.check for rule in RULES]
    assert len(registered) == len(set(registered)), "a rule is registered twice"
    found = []
    for name in rule_modules():
        module = importlib.import_module(f"vms_deploy.validate.{name}")
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
                found.append(getattr(module, node.name))
    orphans = sorted(f"{f.__module__}.{f.__name__}" for f in set(found) - set(registered))
    assert not orphans, f"check_* functions not in registry.RULES (register them, or rename a helper): {orphans}"
    outside = sorted(r.name for r in RULES if r.check not in found)
    assert not outside, f"registered rules outside the package's rule modules: {outside}"


def test_rule_functions_take_the_context_only():
    for rule in RULES:
        code = rule.check.__code__
        assert code.co_argcount == 1 and code.co_varnames[0] == "ctx", f"{rule.name} is not check_x(ctx)"


def test_registry_order_and_phases_are_those_of_the_old_run():
    assert [(phase, [r.name for r in registry.rules(phase)]) for phase in Phase] == EXPECTED
    assert [r.phase for r in RULES] == sorted((r.phase for r in RULES), key=list(Phase).index), \
        "RULES is grouped phase by phase, in the order the phases run"


# --- each phase runs exactly when its condition holds -------------------------------------------------
@pytest.fixture
def ran(monkeypatch):
    """The names of the rules a validation ran, in order."""
    names: list[str] = []
    original = registry.rules

    def recording(phase):
        out = []
        for rule in original(phase):
            def check(ctx, rule=rule):
                names.append(rule.name)
                rule.check(ctx)
            out.append(registry.Rule(check, rule.phase))
        return tuple(out)

    monkeypatch.setattr(runner, "rules", recording)
    return names


def _phases_run(names: list[str]) -> list[Phase]:
    by_name = {r.name: r.phase for r in RULES}
    return list(dict.fromkeys(by_name[n] for n in names))


def test_a_valid_site_runs_every_rule_and_the_plan_check_after_compile(ran):
    compile_plan(valerus_split())
    assert ran == [r.name for r in RULES]


def test_an_empty_inventory_stops_at_the_first_shape_rule(ran):
    assert [e.variable for e in validate_pkg.validate({"hosts": {}})] == ["hosts"]
    assert ran == ["shape.check_hosts_given"]


def test_extra_errors_do_not_stop_the_shape_phase(ran):
    extra = InputError("rec", "vms_x", "v", "could not be decrypted", "fix it")
    assert extra in validate_pkg.validate(valerus_split(), [extra])
    assert _phases_run(ran) == [Phase.SHAPE, Phase.FORM, Phase.ALWAYS, Phase.PRODUCT]  # an error: no CLEAN


def test_an_invalid_product_skips_the_product_and_clean_phases(ran):
    errors = validate_pkg.validate(valerus_split(vms_product="valerus2"))
    assert [e.variable for e in errors] == ["vms_product"]
    assert _phases_run(ran) == [Phase.SHAPE, Phase.FORM, Phase.ALWAYS]


def test_any_error_skips_the_clean_phase(ran):
    data = valerus_split()
    data["hosts"]["rec1"]["vms_address"] = "127.0.0.1"
    assert validate_pkg.validate(data)
    assert _phases_run(ran) == [Phase.SHAPE, Phase.FORM, Phase.ALWAYS, Phase.PRODUCT]


def test_a_value_reported_in_the_form_phase_is_dropped_before_the_rest():
    """One mistake, one message: a mistyped network list is reported by its type, not again as CIDRs."""
    data = valerus_split()
    for hvars in data["hosts"].values():
        hvars["vms_client_networks"] = "10.9.10.0/24, 10.9.11.0/24"
    errors = [e for e in validate_pkg.validate(data) if e.variable == "vms_client_networks"]
    assert len(errors) == 1 and errors[0].host == "all" and "write it as a list" in errors[0].fix


# --- the context ---------------------------------------------------------------------------------------
def test_context_err_records_the_reported_variable_and_memos_compute_once():
    ctx = Context({}, site=Site(hosts={"a": {}, "b": {}}))
    ctx.err("b", "vms_x", 1, "is wrong", "fix it")
    assert ctx.errors == [InputError("b", "vms_x", 1, "is wrong", "fix it")]
    assert ctx.reported("b", "vms_x") and not ctx.reported("a", "vms_x")
    assert ctx.reported_on_any_host("vms_x") and not ctx.reported_on_any_host("vms_y")
    ctx.err("all", "vms_y", 1, "is wrong", "fix it")
    assert not ctx.reported_on_any_host("vms_y"), "'all' is not a host: a site-wide rule's own report"
    calls = []
    assert ctx.memo("m", lambda: calls.append(1) or 7) == 7 and ctx.memo("m", lambda: calls.append(1)) == 7
    assert calls == [1] and ctx.table("t") is ctx.table("t") and ctx.identity_memo("i") is ctx.identity_memo("i")


def test_a_shared_network_list_is_parsed_once_for_every_host(monkeypatch):
    """Big sites: every host carries the group's lists; each distinct list is parsed once, not per host,
    also when the lists are equal but distinct objects (a data dict read from JSON)."""
    from vms_deploy.validate import networks

    data = valerus_split()
    shared = [f"10.{i // 256}.{i % 256}.0/24" for i in range(300, 320)]
    for hvars in data["hosts"].values():
        hvars["vms_client_networks"] = list(shared)
    parsed = []
    monkeypatch.setattr(networks, "_parse_cidr_cached", lambda text: parsed.append(text) or parse_cidr(text))
    assert validate_pkg.validate(data) == []
    assert len(data["hosts"]) > 1 and sorted(set(parsed) & set(shared)) == sorted(shared)
    assert len(parsed) == len(set(parsed)), "an entry parsed twice"


def test_each_distinct_network_list_is_judged_for_coverage_once(monkeypatch):
    """Big sites: the whole-Internet coverage of a list is decided once per distinct list, also when the
    answer is no (it used to be recomputed for every host: ~75% of a 1000-recorder site's planning)."""
    from vms_deploy import checks

    data = valerus_split(vms_management_networks=["10.9.99.0/24"])
    judged = []
    original = checks.covers_everything
    monkeypatch.setattr(checks, "covers_everything", lambda nets: judged.append(tuple(nets)) or original(nets))
    assert validate_pkg.validate(data) == []
    lists = {tuple(hvars[name]) for hvars in data["hosts"].values() for name in
             ("vms_client_networks", "vms_camera_networks", "vms_management_networks", "vms_remote_allowlist")
             if hvars.get(name) and "0.0.0.0/0" not in hvars[name]}
    assert len(data["hosts"]) == 5 and len(judged) == len(lists) == 3


def test_every_rule_module_is_listed_where_readers_look():
    """The package docstring's table and docs/architecture.md name every rule module (a new module too)."""
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in rule_modules():
        assert f"`{name}`" in validate_pkg.__doc__, f"vms_deploy.validate's docstring table lacks `{name}`"
        assert f"`{name}`" in architecture, f"docs/architecture.md's module table lacks validate's `{name}`"
