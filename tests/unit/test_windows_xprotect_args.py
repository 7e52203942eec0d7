"""XProtect installer arguments file (issue 14, item 6): the Arguments.xml shape --generateargsfile writes
(ArgumentsXmlV2 / Arguments / Argument {Name, Value}, values yes/no), its own value vocabulary, namespaces.

The expectations come from the shape stated in issue 14 (vendor material), not from the renderer: a
component is switched with the word the generated file already uses for that argument."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from vms_deploy.render.windows_firewall import WindowsFirewallError
from vms_deploy.render.xprotect_args import render_arguments

XSI = "http://www.w3.org/2001/XMLSchema-instance"
BASE = f"""<?xml version="1.0" encoding="utf-8"?>
<ArgumentsXmlV2 xmlns:xsi="{XSI}" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <Arguments>
    <Argument><Name>Mgmt</Name><Value>yes</Value></Argument>
    <Argument><Name>Rec</Name><Value>No</Value></Argument>
    <Argument><Name>Mobile</Name><Value>YES</Value></Argument>
    <Argument><Name>Path</Name><Value>C:\\x</Value></Argument>
    <Argument><Name>Password</Name><Value xsi:nil="true" /></Argument>
    <Argument><Name>Keep</Name><Value>yes</Value></Argument>
  </Arguments>
</ArgumentsXmlV2>"""
ELEMENTS = {"xprotect_management_server": "Mgmt", "xprotect_recording_server": "Rec",
            "xprotect_mobile_server": "Mobile"}


def plan(components=("recorder",), product="xprotect"):
    return {"product": product, "hosts": {"x1": {"components": list(components), "inbound": []}}}


def values(text: str) -> dict[str, str | None]:
    root = ET.fromstring(text)
    return {a.findtext("Name"): a.find("Value").text for a in root.iter("Argument")}


def test_switches_components_in_the_files_own_words_and_keeps_the_rest():
    text = render_arguments(plan(["recorder", "data_collector"]), "x1", BASE, ELEMENTS,
                            {"Path": r"D:\Milestone", "Password": "s3cret"})
    got = values(text)
    # yes/no as the file writes it, capitalisation included (yes -> no, No -> Yes, YES -> NO)
    assert got["Mgmt"] == "no" and got["Rec"] == "Yes" and got["Mobile"] == "NO"
    assert got["Path"] == r"D:\Milestone" and got["Password"] == "s3cret" and got["Keep"] == "yes"
    assert f'{{{XSI}}}nil' not in ET.fromstring(text).findall(".//Argument")[4].find("Value").attrib
    assert 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' in text  # namespace declarations kept
    assert 'xmlns:xsd="http://www.w3.org/2001/XMLSchema"' in text
    assert text == render_arguments(plan(["recorder", "data_collector"]), "x1", BASE, ELEMENTS,
                                    {"Path": r"D:\Milestone", "Password": "s3cret"})  # byte-stable


def test_a_default_namespace_is_handled():
    base = BASE.replace("<ArgumentsXmlV2 ", '<ArgumentsXmlV2 xmlns="urn:example:milestone" ')
    text = render_arguments(plan(["gateway"]), "x1", base, ELEMENTS)
    ns = "{urn:example:milestone}"
    root = ET.fromstring(text)
    got = {a.findtext(f"{ns}Name"): a.find(f"{ns}Value").text for a in root.iter(f"{ns}Argument")}
    assert got["Mobile"] == "YES" and got["Mgmt"] == "no" and got["Rec"] == "No"
    assert text.count('xmlns="urn:example:milestone"') == 1


def test_boolean_setting_uses_the_vocabulary_of_that_argument():
    assert values(render_arguments(plan(), "x1", BASE, ELEMENTS, {"Keep": False}))["Keep"] == "no"


def test_component_argument_that_is_not_yes_no_is_refused():
    with pytest.raises(WindowsFirewallError, match="not a yes/no value"):
        render_arguments(plan(), "x1", BASE, dict(ELEMENTS, xprotect_recording_server="Path"))


def test_component_without_an_argument_is_named():
    with pytest.raises(WindowsFirewallError, match="xprotect_mobile_server") as err:
        render_arguments(plan(["gateway"]), "x1", BASE, {"xprotect_recording_server": "Rec"})
    assert "vms_win_xprotect_component_elements" in str(err.value)


def test_unknown_argument_name_lists_the_names_in_the_file():
    with pytest.raises(WindowsFirewallError, match="is not an <Argument><Name>") as err:
        render_arguments(plan(), "x1", BASE, ELEMENTS, {"Nope": 1})
    assert "Keep, Mgmt, Mobile, Password, Path, Rec" in str(err.value)
    with pytest.raises(WindowsFirewallError, match="did you mean Rec"):
        render_arguments(plan(), "x1", BASE, dict(ELEMENTS, xprotect_recording_server="rec"))


@pytest.mark.parametrize("base,problem", [
    ("", "empty file"),
    ("<ArgumentsXmlV2>", "not well-formed"),
    ("<Arguments><Components/></Arguments>", "not an XProtect arguments file"),
    ("<ArgumentsXmlV2><Arguments/></ArgumentsXmlV2>", "no <Arguments><Argument> entries"),
])
def test_bad_base_file(base, problem):
    with pytest.raises(WindowsFirewallError, match="vms_win_xprotect_args_base") as err:
        render_arguments(plan(), "x1", base, ELEMENTS)
    assert problem in str(err.value)


def test_only_for_xprotect():
    with pytest.raises(WindowsFirewallError, match="vms_product"):
        render_arguments(plan(product="valerus"), "x1", BASE, ELEMENTS)
