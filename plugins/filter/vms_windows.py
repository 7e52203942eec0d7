"""Filters for the Windows roles (thin wrappers over vms_deploy.render.windows_*).

Every decision the Windows roles make from the plan is taken by these filters on the controller, so the
golden files in tests/golden/windows/ hold exactly what the modules receive.
"""

from __future__ import annotations

import base64
import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parent / "_vms_glue.py"))
(plan_io, certs, firewall, foreign, install, xprotect_args, ports), IMPORT_ERROR = _GLUE["vms_import"](
    "vms_deploy.plan_io", "vms_deploy.render.windows_certificates", "vms_deploy.render.windows_firewall",
    "vms_deploy.render.windows_foreign", "vms_deploy.render.windows_install", "vms_deploy.render.xprotect_args",
    "vms_deploy.ports")
MISSING = _GLUE["MISSING"]


def _winrm(port):
    """The WinRM port a filter was given, else vms_deploy.ports' default (WinRM HTTPS)."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    return int(port or ports.WINRM_HTTPS_PORT)


def _plan(value):
    return _GLUE["vms_plan_arg"](value, "vms_windows filter")


def _call(func, *args, **kwargs):
    errors = (firewall.WindowsInputError, ValueError, KeyError) if IMPORT_ERROR is None else ()
    return _GLUE["vms_call"](func, errors, *args, **kwargs)


def vms_windows_firewall_rules(plan, host, winrm_port=None, controller_cidrs=None):
    """plan | vms_windows_firewall_rules(host) -> the rule dicts the PowerShell script applies."""
    return _call(firewall.rules_for_host, _plan(plan), host, _winrm(winrm_port), controller_cidrs or [])


def vms_windows_plan_digest(plan, host):
    """plan | vms_windows_plan_digest(host) -> the digest of this host's part of the plan (issue 12)."""
    return _call(plan_io.host_digest, _plan(plan), host)


def _cidrs(value):
    """A list of controller CIDRs, or one address ('' or none: no list)."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    return list(value or [])


def vms_windows_firewall_parameters(plan, host, winrm_port=None, controller_cidrs=None):
    """plan | vms_windows_firewall_parameters(host[, winrm port, controller address or CIDRs]) -> win_powershell
    `parameters` for the script; every rule's description records the host's plan digest."""
    plan = _plan(plan)
    controller_cidrs = _cidrs(controller_cidrs)
    digest = vms_windows_plan_digest(plan, host)
    return _call(firewall.script_parameters, plan, host, _winrm(winrm_port), controller_cidrs or [], digest)


def vms_windows_foreign_to_disable(result, rules):
    """script result | vms_windows_foreign_to_disable(rules) -> local rules outside the group that widen a planned
    port."""
    found = _call(foreign.exceeding, list(rules or []), list((result or {}).get("foreign") or []))
    return foreign.to_disable(found)


def vms_windows_audit_findings(result, host, plan, rules):
    """script result (check mode) | vms_windows_audit_findings(host, plan, rules) -> audit findings."""
    return _call(foreign.audit_findings, host, dict(result or {}), list(rules or []),
                 vms_windows_plan_digest(plan, host))


def vms_windows_reboot_action(result):
    """win_package result | vms_windows_reboot_action -> none | reboot | wait (1641: restart already started)."""
    return _call(install.reboot_action, dict(result or {}))


def vms_windows_restart_problem(after, host, before):
    """boot time after | vms_windows_restart_problem(host, boot time before) -> message or None."""
    return _call(install.restart_check, host, str(before or ""), str(after or ""))


def vms_windows_packages_to_install(install_plan, installed):
    """install plan | vms_windows_packages_to_install(probe result) -> packages still to install."""
    return _call(install.packages_to_install, dict(install_plan or {}), dict(installed or {}))


def vms_windows_installed_probe(install_plan):
    return _call(install.installed_probe, dict(install_plan or {}))


def vms_windows_service_params(infos, check_mode=False):
    """win_service_info results | vms_windows_service_params(check_mode) -> win_service parameters."""
    return _call(install.service_params, list(infos or []), bool(check_mode))


def vms_xprotect_encryption_parameters(plan, host, thumbprint, configurator, service_account, names=None):
    return _call(certs.encryption_parameters, _plan(plan), host, thumbprint, configurator, service_account, names or {})


def vms_xprotect_encryption_user_problem(user, host):
    return _call(certs.encryption_user_problem, host, user)


def vms_windows_needs_site_ca(plan, host):
    return _call(certs.needs_site_ca, _plan(plan), host)


def vms_windows_cert_mismatches(targets, served, thumbprint):
    """targets | vms_windows_cert_mismatches(served result, thumbprint) -> targets serving another certificate."""
    return _call(certs.cert_mismatches, list(targets or []), dict(served or {}), thumbprint)


def vms_pem_thumbprint(pem, host):
    return _call(certs.pem_thumbprint, host, pem)


def vms_valerus_binding_parameters(thumbprint, site, port):
    return _call(certs.binding_parameters, site, int(port), thumbprint)


def vms_windows_install_plan(plan, host, packages, source, args_file=None, license_file=""):
    """plan | vms_windows_install_plan(host, vms_win_packages, vms_win_installer_source[, args file, licence])."""
    kwargs = {"args_file": args_file} if args_file else {}
    return _call(install.install_plan, _plan(plan), host, packages or {}, source, license_file=license_file or "",
                 **kwargs)


def vms_windows_host_summary(plan, host, packages=None):
    """plan | vms_windows_host_summary(host, vms_win_packages) -> components, features, known services."""
    return _call(install.host_summary, _plan(plan), host, packages or {})


def vms_windows_port_checks(plan, host, winrm_port=None):
    """plan | vms_windows_port_checks(host) -> planned listening ports (the precheck script's input)."""
    return _call(install.port_checks, _plan(plan), host, (_winrm(winrm_port), ports.WINRM_HTTP_PORT))


def vms_windows_port_conflicts(listeners, plan, host, installed_services, packages, winrm_port=None):
    """listeners | vms_windows_port_conflicts(plan, host, services, vms_win_packages) -> messages."""
    return _call(install.port_conflicts, _plan(plan), host, listeners or [], installed_services or [],
                 packages or {}, (_winrm(winrm_port), ports.WINRM_HTTP_PORT))


def vms_windows_version_problem(version, host, minimum):
    return _call(install.version_problem, host, version, minimum)


def vms_windows_disk_problem(free_bytes, host, drive, minimum_gb):
    return _call(install.disk_problem, host, drive, free_bytes, minimum_gb)


def vms_windows_feature_problems(installed, host, required, manage):
    return _call(install.feature_problems, host, list(required or []), dict(installed or {}), bool(manage))


def vms_windows_precheck_problems(facts, plan, host, version, min_version, drive, min_free_gb, manage_features,
                                  packages=None, winrm_port=None):
    """Get-VmsHostFacts result | vms_windows_precheck_problems(plan, host, version, ...) -> every precheck's message."""
    return _call(install.precheck_problems, _plan(plan), host, dict(facts or {}), version=str(version or ""),
                 min_version=str(min_version), drive=str(drive), min_free_gb=min_free_gb,
                 manage_features=bool(manage_features), packages=packages or {},
                 skip_ports=(ports.WINRM_HTTP_PORT, _winrm(winrm_port)))


def vms_windows_closed_ports(result):
    """Test-VmsTcpPort result | vms_windows_closed_ports -> ports that did not answer."""
    return _call(install.closed_ports, dict(result or {}))


def vms_windows_certificate_binding(plan, host):
    """plan | vms_windows_certificate_binding(host) -> iis_site, server_configurator or none for this host."""
    return _call(certs.certificate_binding, _plan(plan), host)


def vms_xprotect_arguments(plan, host, base_xml, component_elements, settings=None):
    """plan | vms_xprotect_arguments(host, base_xml, elements, settings) -> arguments file text."""
    return _call(xprotect_args.render_arguments, _plan(plan), host, base_xml, component_elements or {},
                 settings or {})


def vms_pfx_thumbprint(pfx_b64, host, password):
    """lookup('file', pfx, ...) | b64 content | vms_pfx_thumbprint(host, password) -> SHA-1 thumbprint."""
    try:
        data = base64.b64decode(pfx_b64)
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"host {host}: vms_tls_pfx_path: the PFX content is not base64 ({exc})") from None
    return _call(certs.pfx_thumbprint, host, data, password)


def vms_valerus_web_proxy_port(plan, host):
    return _call(certs.valerus_web_proxy_port, _plan(plan), host)


def vms_windows_needs_certificate(plan, host):
    """plan | vms_windows_needs_certificate(host) -> true when the host terminates TLS with the site certificate."""
    return _call(certs.needs_certificate, _plan(plan), host)


def vms_valerus_binding_plan(bindings, thumbprint, port, site="Valerus Web Proxy"):
    """website_info bindings | vms_valerus_binding_plan(thumbprint, port) -> {action, remove_params, add_params}."""
    return _call(certs.valerus_binding_plan, list(bindings or []), thumbprint, site, int(port))


def vms_windows_certificate_targets(plan, host, ports=None):
    """plan | vms_windows_certificate_targets(host, ports) -> [{component, port, section}] checked on the host."""
    return _call(certs.certificate_targets, _plan(plan), host, ports or {})


def vms_xprotect_manual_step(mismatched, host, thumbprint, configurator=""):
    return _call(certs.xprotect_manual_step, host, thumbprint, list(mismatched or []), configurator or "")


def vms_windows_port_changes(plan, host):
    """plan | vms_windows_port_changes(host) -> messages for ports moved off the product default."""
    changes = _call(install.port_changes, _plan(plan), host)
    return install.port_change_messages(host, changes)


def vms_valerus_gateway_registration(plan, host):
    """plan | vms_valerus_gateway_registration(host) -> {app_server, checks, manual_step, ...}."""
    return _call(install.gateway_registration, _plan(plan), host)


class FilterModule:
    def filters(self):
        return {
            "vms_windows_firewall_rules": vms_windows_firewall_rules,
            "vms_windows_firewall_parameters": vms_windows_firewall_parameters,
            "vms_windows_install_plan": vms_windows_install_plan,
            "vms_windows_port_checks": vms_windows_port_checks,
            "vms_windows_host_summary": vms_windows_host_summary,
            "vms_windows_port_conflicts": vms_windows_port_conflicts,
            "vms_windows_version_problem": vms_windows_version_problem,
            "vms_windows_disk_problem": vms_windows_disk_problem,
            "vms_windows_feature_problems": vms_windows_feature_problems,
            "vms_xprotect_arguments": vms_xprotect_arguments,
            "vms_pfx_thumbprint": vms_pfx_thumbprint,
            "vms_valerus_web_proxy_port": vms_valerus_web_proxy_port,
            "vms_valerus_binding_plan": vms_valerus_binding_plan,
            "vms_windows_needs_certificate": vms_windows_needs_certificate,
            "vms_xprotect_manual_step": vms_xprotect_manual_step,
            "vms_valerus_gateway_registration": vms_valerus_gateway_registration,
            "vms_windows_port_changes": vms_windows_port_changes,
            "vms_windows_plan_digest": vms_windows_plan_digest,
            "vms_windows_foreign_to_disable": vms_windows_foreign_to_disable,
            "vms_windows_audit_findings": vms_windows_audit_findings,
            "vms_windows_reboot_action": vms_windows_reboot_action,
            "vms_windows_restart_problem": vms_windows_restart_problem,
            "vms_windows_packages_to_install": vms_windows_packages_to_install,
            "vms_windows_installed_probe": vms_windows_installed_probe,
            "vms_windows_service_params": vms_windows_service_params,
            "vms_xprotect_encryption_parameters": vms_xprotect_encryption_parameters,
            "vms_xprotect_encryption_user_problem": vms_xprotect_encryption_user_problem,
            "vms_windows_needs_site_ca": vms_windows_needs_site_ca,
            "vms_windows_cert_mismatches": vms_windows_cert_mismatches,
            "vms_windows_pem_thumbprint": vms_pem_thumbprint,
            "vms_valerus_binding_parameters": vms_valerus_binding_parameters,
            "vms_windows_precheck_problems": vms_windows_precheck_problems,
            "vms_windows_closed_ports": vms_windows_closed_ports,
            "vms_windows_certificate_targets": vms_windows_certificate_targets,
            "vms_windows_certificate_binding": vms_windows_certificate_binding,
        }
