"""The XProtect System Installer arguments file for one host.

XProtect installs silently from an arguments file: ``<installer>.exe --generateargsfile=<path>`` writes
one with the installer's own defaults, then ``<installer>.exe --quiet --arguments=<path>`` installs from
it. The file's element names belong to the installer version, and are not in the seed documents, so
vms-deploy does not invent them: the operator generates the file once with their installer
(``vms_win_xprotect_args_base``, a path on the controller) and says which elements hold the component
selection and the settings (``vms_win_xprotect_component_elements``, ``vms_win_xprotect_settings``).
This module sets exactly those elements and leaves the rest of the file as the installer wrote it.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from vms_deploy.render.windows_firewall import WindowsInputError
from vms_deploy.render.windows_install import windows_components


def _set(root: ET.Element, host: str, variable: str, path: str, value) -> None:
    try:
        found = root.findall(path)
    except SyntaxError as exc:
        raise WindowsInputError(host, variable, path, f"is not a valid ElementTree path ({exc})",
                                "write it like Components/ManagementServer or .//Setting[@name='Port']") from None
    if not found:
        raise WindowsInputError(host, variable, path, "matches no element of the base arguments file",
                                "open the file made by --generateargsfile and copy the element path from it")
    text = "true" if value is True else "false" if value is False else str(value)
    for element in found:
        element.text = text


def render_arguments(plan: dict, host: str, base_xml: str, component_elements: dict,
                     settings: dict | None = None) -> str:
    """Return the arguments file text: base file + component selection + settings.

    ``component_elements`` maps every XProtect component (``xprotect_management_server``...) to the
    element that selects it; a component is set true when the plan puts it on this host, false
    otherwise, so the file never installs more than the plan says. ``settings`` maps element path to
    value (ports, service account, installation path...).
    """
    if plan.get("product") != "xprotect":
        raise WindowsInputError(host, "vms_product", plan.get("product"),
                                "is not xprotect: only XProtect hosts have an installer arguments file",
                                "only XProtect hosts use vms_win_xprotect_* variables")
    if not base_xml or not str(base_xml).strip():
        raise WindowsInputError(host, "vms_win_xprotect_args_base", base_xml, "is an empty file",
                                "run the installer with --generateargsfile=<file> on any Windows machine and "
                                "point vms_win_xprotect_args_base at the result")
    try:
        root = ET.fromstring(base_xml)
    except ET.ParseError as exc:
        raise WindowsInputError(host, "vms_win_xprotect_args_base", "(file)", f"is not well-formed XML ({exc})",
                                "regenerate it with --generateargsfile; do not edit it by hand") from None
    wanted, _ = windows_components(plan, host)
    unknown = sorted(c for c in wanted if c not in (component_elements or {}))
    if unknown:
        raise WindowsInputError(host, "vms_win_xprotect_component_elements", sorted(component_elements or {}),
                                "names no element for " + ", ".join(unknown),
                                "add each component with the element path that selects it in your arguments file")
    for comp in sorted(component_elements):
        _set(root, host, f"vms_win_xprotect_component_elements.{comp}", component_elements[comp], comp in wanted)
    for path in sorted(settings or {}):
        _set(root, host, "vms_win_xprotect_settings", path, settings[path])
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
