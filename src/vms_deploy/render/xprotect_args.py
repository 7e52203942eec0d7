"""The XProtect System Installer arguments file for one host.

XProtect installs silently from an arguments file: ``<installer>.exe --generateargsfile=<folder>`` writes
``Arguments.xml`` with the installer's own defaults, then ``<installer>.exe --quiet --license=<file.lic>
--arguments=<file>`` installs from it. The file has the shape

    <ArgumentsXmlV2 xmlns:xsi=... xmlns:xsd=...>
      <Arguments>
        <Argument><Name>...</Name><Value>...</Value></Argument>
        ...

with values such as ``yes``/``no``. Argument names belong to the installer version and are not in the
seed documents, so vms-deploy does not invent them: the operator generates the file once with their
installer (``vms_win_xprotect_args_base``, a path on the controller) and names the arguments that select
each component (``vms_win_xprotect_component_elements``: component -> argument Name) and the settings to
change (``vms_win_xprotect_settings``: argument Name -> value). This module sets exactly those values,
in the vocabulary the file itself uses for them (yes/no, true/false, with its capitalisation), keeps
namespaces and prefixes, and leaves every other argument as the installer wrote it.
"""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from vms_deploy.render.windows_firewall import WindowsInputError
from vms_deploy.render.windows_install import windows_components, windows_installer

ROOT_TAG = "ArgumentsXmlV2"
BOOLEAN_WORDS = (("yes", "no"), ("true", "false"), ("1", "0"), ("on", "off"))
BASE = "vms_win_xprotect_args_base"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


class _Argument:
    """One <Argument>: its Name and Value as child elements (or, tolerated, as attributes)."""

    def __init__(self, element: ET.Element):
        self.element = element
        name = _child(element, "Name")
        self.name = (name.text or "").strip() if name is not None else element.get("Name", "")
        self._value = _child(element, "Value")

    @property
    def value(self) -> str:
        if self._value is not None:
            return self._value.text or ""
        return self.element.get("Value", "")

    @value.setter
    def value(self, text: str) -> None:
        if self._value is not None:
            self._value.text = text
            for attr in [a for a in self._value.attrib if _local(a) == "nil"]:
                del self._value.attrib[attr]  # xsi:nil="true" and a value contradict each other
        else:
            self.element.set("Value", text)


def _parse(host: str, base_xml: str) -> tuple[ET.Element, list[tuple[str, str]]]:
    namespaces: list[tuple[str, str]] = []
    try:
        events = ET.iterparse(io.StringIO(base_xml), events=("start-ns",))
        for _event, pair in events:
            namespaces.append(pair)
        root = events.root
    except ET.ParseError as exc:
        raise WindowsInputError(host, BASE, "(file)", f"is not well-formed XML ({exc})",
                                "regenerate it with --generateargsfile; do not edit it by hand") from None
    return root, namespaces


def _arguments(host: str, root: ET.Element) -> dict[str, _Argument]:
    if _local(root.tag) != ROOT_TAG:
        raise WindowsInputError(host, BASE, f"<{_local(root.tag)}>", f"is not an XProtect arguments file (the root "
                                f"element is not <{ROOT_TAG}>)",
                                "point it at the Arguments.xml the System Installer wrote with "
                                "--generateargsfile=<folder>")
    container = _child(root, "Arguments")
    found = [] if container is None else [_Argument(e) for e in container if _local(e.tag) == "Argument"]
    if not found:
        raise WindowsInputError(host, BASE, "(file)", f"has no <Arguments><Argument> entries under <{ROOT_TAG}>",
                                "regenerate it with --generateargsfile=<folder>")
    return {a.name: a for a in found}


def _lookup(host: str, args: dict[str, _Argument], variable: str, name: str) -> _Argument:
    if name not in args:
        close = sorted(n for n in args if n.lower() == str(name).lower())
        hint = f" (did you mean {close[0]}?)" if close else f"; names in the file: {', '.join(sorted(args))}"
        raise WindowsInputError(host, variable, name, "is not an <Argument><Name> of the base arguments file" + hint,
                                "copy the Name exactly from the Arguments.xml made by --generateargsfile")
    return args[name]


def _word(host: str, variable: str, argument: _Argument, value: bool) -> str:
    """True/False in the vocabulary (and capitalisation) of the value the installer wrote."""
    current = argument.value.strip()
    for yes, no in BOOLEAN_WORDS:
        if current.lower() in (yes, no):
            word = yes if value else no
            if current.isupper():
                return word.upper()
            if current[:1].isupper():
                return word.capitalize()
            return word
    raise WindowsInputError(host, variable, argument.name, f"holds {current!r}, not a yes/no value, so it cannot "
                            "be switched on or off", "name the argument that selects the component (its value is "
                            "yes or no in the generated file)")


def render_arguments(plan: dict, host: str, base_xml: str, component_elements: dict,
                     settings: dict | None = None) -> str:
    """Return the arguments file text: base file + component selection + settings.

    ``component_elements`` maps every XProtect component (``xprotect_management_server``...) to the
    argument Name that selects it; a component is switched on when the plan puts it on this host and off
    otherwise, so the file never installs more than the plan says. ``settings`` maps argument Name to a
    value (a YAML boolean is written in the file's own yes/no vocabulary).
    """
    if windows_installer(plan, host) != "arguments_file":
        raise WindowsInputError(host, "vms_product", plan.get("product"),
                                "is installed without an arguments file (its catalog's windows_installer is "
                                f"{windows_installer(plan, host)!r}, not 'arguments_file')",
                                "only hosts of a product with windows_installer: arguments_file (XProtect) use "
                                "vms_win_xprotect_* variables")
    if not base_xml or not str(base_xml).strip():
        raise WindowsInputError(host, BASE, base_xml, "is an empty file",
                                "run the installer with --generateargsfile=<folder> on any Windows machine and "
                                "point vms_win_xprotect_args_base at the Arguments.xml it writes")
    root, namespaces = _parse(host, str(base_xml))
    args = _arguments(host, root)
    wanted, _ = windows_components(plan, host)
    unknown = sorted(c for c in wanted if c not in (component_elements or {}))
    if unknown:
        raise WindowsInputError(host, "vms_win_xprotect_component_elements", sorted(component_elements or {}),
                                "names no argument for " + ", ".join(unknown),
                                "add each component with the argument Name that selects it in your Arguments.xml")
    for comp in sorted(component_elements):
        variable = f"vms_win_xprotect_component_elements.{comp}"
        argument = _lookup(host, args, variable, component_elements[comp])
        argument.value = _word(host, variable, argument, comp in wanted)
    for name in sorted(settings or {}):
        argument = _lookup(host, args, "vms_win_xprotect_settings", name)
        value = settings[name]
        argument.value = _word(host, f"vms_win_xprotect_settings.{name}", argument, value) \
            if isinstance(value, bool) else str(value)
    for prefix, uri in namespaces:  # keep the file's own prefixes (xsi, xsd, a default namespace)
        ET.register_namespace(prefix, uri)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    head = text.split(">", 1)[0]
    # ElementTree drops declarations no element uses; put them back, the installer's reader may expect them.
    missing = [f'xmlns:{p}="{u}"' if p else f'xmlns="{u}"' for p, u in namespaces
               if (f"xmlns:{p}=" if p else "xmlns=") not in head]
    if missing:
        text = text.replace(head, head + " " + " ".join(missing), 1)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n"
