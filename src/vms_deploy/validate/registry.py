"""Every input rule, in the one place that registers them: phase by phase, in the order they run.

A rule is a function `check_<what>(ctx: Context) -> None` in the module of its concern; its docstring
states the rule and, on a line starting "From:", the seed or doc it comes from. To add one: write the
function, add it to its phase below, and add its test (CONTRIBUTING.md, "Adding an input check").
`tests/unit/test_validate_registry.py` fails on a rule without a rule text or source, and on a `check_*`
function of the package that is not registered here.

Phases (vms_deploy.validate.runner runs them in this order):

- SHAPE: the inventory's shape. Each rule runs only while no earlier one failed; a failure ends the run.
- FORM: every value as given (sizes first, then names, types, site-wide consistency, product, site name).
  Each value reported here is then dropped, as if unset, so later rules see only values of the
  documented type and one mistake gives one message.
- ALWAYS: addresses, networks, names, TLS: rules that need no product.
- PRODUCT: rules that read the product's catalog (groups, features, ports, forwards, remote access,
  edge backend, Windows inputs); they run only when vms_product is valid.
- CLEAN: rules that resolve every host's services (vms_deploy.resolve), which assumes valid input; they
  run only when no earlier rule reported anything.
- COMPILED: rules that need the compiled plan (which components each host really gets); run by
  vms_deploy.pipeline.compile_plan, through windows_install_errors, after compiling a site that validated.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from . import (
    addresses,
    cameras,
    conflicts,
    edge_backend,
    edge_device,
    features,
    forwards,
    groups,
    install,
    names,
    network_meaning,
    networks,
    port_meaning,
    ports,
    public_address,
    remote_access,
    reserved,
    segmentation,
    shape,
    site_wide,
    sizes,
    tls,
    tls_mode,
    variables,
    vpn,
    windows,
    windows_inputs,
    zones,
)
from .context import Context


class Phase(Enum):
    SHAPE = "the inventory's shape; a failure ends the run"
    FORM = "always, on every value as given; reported values are then dropped"
    ALWAYS = "always, on values of the documented type"
    PRODUCT = "only with a valid vms_product (reads its catalog)"
    CLEAN = "only when no earlier rule reported anything"
    COMPILED = "after compile, on the plan of a site that validated"


@dataclass(frozen=True)
class Rule:
    check: Callable[[Context], None]
    phase: Phase

    @property
    def name(self) -> str:
        """module.function, e.g. networks.check_network_coverage."""
        return f"{self.check.__module__.rpartition('.')[2]}.{self.check.__name__}"

    @property
    def doc(self) -> str:
        """The rule's docstring, dedented: the rule, then its "From:" line."""
        return inspect.cleandoc(self.check.__doc__ or "")


def _phase(phase: Phase, *checks: Callable[[Context], None]) -> tuple[Rule, ...]:
    return tuple(Rule(check, phase) for check in checks)


RULES: tuple[Rule, ...] = (
    *_phase(Phase.SHAPE,
            shape.check_hosts_given,
            shape.check_groups_mapping,
            shape.check_hosts_grouped),
    *_phase(Phase.FORM,
            sizes.check_sizes,
            names.check_host_names,
            names.check_host_name_meaning,
            tls_mode.check_tls_switch_name,
            tls_mode.check_tls_ca_given_once,
            variables.check_known_variables,
            variables.check_not_null,
            variables.check_types,
            variables.check_list_items,
            variables.check_choices,
            site_wide.check_site_consistency,
            site_wide.check_site_vars_on_every_host,
            site_wide.check_product_set,
            site_wide.check_site_name),
    *_phase(Phase.ALWAYS,
            addresses.check_host_addresses,
            addresses.check_duplicate_addresses,
            addresses.check_public_address,
            networks.check_network_entries,
            networks.check_network_coverage,
            networks.check_whole_internet,
            networks.check_separate_networks,
            networks.check_public_management,
            network_meaning.check_management_apart_from_dmz,
            network_meaning.check_management_shared_space,
            network_meaning.check_sources_not_cameras,
            network_meaning.check_public_address_outside_site,
            network_meaning.check_clients_not_internet,
            site_wide.check_edge_zone_only_edge,
            zones.check_address_not_network_edge,
            zones.check_host_in_zone_networks,
            zones.check_routed_public,
            zones.check_servers_outside_camera_networks,
            names.check_public_name,
            names.check_tls_names,
            tls.check_tls_mode,
            tls.check_tls_days,
            tls.check_tls_files,
            reserved.check_generated_groups,
            reserved.check_lab_variables,
            reserved.check_controller_address,
            cameras.check_camera_keys,
            cameras.check_camera_addresses,
            cameras.check_camera_fields,
            cameras.check_camera_audit_settings,
            install.check_install_mode),
    *_phase(Phase.PRODUCT,
            groups.check_required_groups,
            groups.check_product_groups,
            groups.check_reserved_groups,
            groups.check_unknown_groups,
            groups.check_single_host_groups,
            groups.check_edge_alone,
            groups.check_one_edge,
            features.check_features,
            ports.check_management_port,
            ports.check_recorder_instances,
            ports.check_device_count,
            ports.check_port_overrides,
            ports.check_custom_services,
            segmentation.check_restricted_sources,
            segmentation.check_override_camera_sources,
            segmentation.check_custom_camera_sources,
            ports.check_camera_ports,
            forwards.check_forwarded_services,
            port_meaning.check_forwarded_once,
            remote_access.check_gateway_for_port_forward,
            vpn.check_vpn_edge,
            vpn.check_vpn_network,
            vpn.check_vpn_network_apart,
            vpn.check_vpn_edge_key,
            vpn.check_vpn_peer_keys,
            vpn.check_vpn_peer_names,
            vpn.check_vpn_peer_wireguard_keys,
            port_meaning.check_vpn_peer_keys_unique,
            vpn.check_vpn_peer_addresses,
            vpn.check_vpn_listen_port,
            edge_backend.check_edge_backend,
            edge_backend.check_nat_reflection,
            edge_device.check_edge_device_settings_read,
            edge_device.check_edge_interfaces,
            edge_device.check_vendor_edge_remote_access,
            edge_device.check_edge_policy_id_base,
            windows.check_windows_installer_source,
            windows.check_windows_packages,
            windows_inputs.check_winrm_source,
            windows_inputs.check_controller_address,
            windows_inputs.check_windows_connection,
            windows_inputs.check_linux_connection,
            windows_inputs.check_windows_installer_files,
            public_address.check_forward_public_address,
            public_address.check_placeholder_public_address),
    *_phase(Phase.CLEAN,
            conflicts.check_port_claims,
            conflicts.check_forward_collisions,
            port_meaning.check_local_only_ports,
            port_meaning.check_management_ports_kept,
            port_meaning.check_forward_keeps_internet,
            port_meaning.check_vpn_port_free),
    *_phase(Phase.COMPILED,
            windows.check_windows_install),
)


def rules(phase: Phase) -> tuple[Rule, ...]:
    """The rules of one phase, in registration order."""
    return tuple(rule for rule in RULES if rule.phase is phase)
