"""XProtect installer arguments file: only the named elements change, and only as the plan says."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from vms_deploy.render.windows_firewall import WindowsFirewallError
from vms_deploy.render.xprotect_args import render_arguments

BASE = """<?xml version="1.0" encoding="utf-8"?>
<Arguments><Components><Mgmt>true</Mgmt><Rec>true</Rec><Mobile>true</Mobile></Components>
<Settings><Setting name="Path">C:\\x</Setting><Setting name="Keep">yes</Setting></Settings></Arguments>"""
ELEMENTS = {"xprotect_management_server": "Components/Mgmt", "xprotect_recording_server": "Components/Rec",
            "xprotect_mobile_server": "Components/Mobile"}


def plan(components=("recorder",), product="xprotect"):
    return {"product": product, "hosts": {"x1": {"components": list(components), "inbound": []}}}


def test_selects_exactly_the_hosts_components_and_keeps_the_rest():
    text = render_arguments(plan(["recorder", "data_collector"]), "x1", BASE, ELEMENTS,
                            {".//Setting[@name='Path']": r"D:\Milestone"})
    root = ET.fromstring(text)
    assert [(e.tag, e.text) for e in root.find("Components")] == [("Mgmt", "false"), ("Rec", "true"),
                                                                 ("Mobile", "false")]
    assert root.find(".//Setting[@name='Path']").text == r"D:\Milestone"
    assert root.find(".//Setting[@name='Keep']").text == "yes"
    assert text == render_arguments(plan(["recorder", "data_collector"]), "x1", BASE, ELEMENTS,
                                    {".//Setting[@name='Path']": r"D:\Milestone"})  # byte-stable


def test_component_without_an_element_is_named():
    with pytest.raises(WindowsFirewallError, match="xprotect_mobile_server") as err:
        render_arguments(plan(["gateway"]), "x1", BASE, {"xprotect_recording_server": "Components/Rec"})
    assert "vms_win_xprotect_component_elements" in str(err.value)


@pytest.mark.parametrize("base,variable", [
    ("", "vms_win_xprotect_args_base"),
    ("<Arguments>", "vms_win_xprotect_args_base"),
])
def test_bad_base_file(base, variable):
    with pytest.raises(WindowsFirewallError, match=variable):
        render_arguments(plan(), "x1", base, ELEMENTS)


def test_element_path_that_matches_nothing_is_an_error_with_the_fix():
    with pytest.raises(WindowsFirewallError, match="matches no element") as err:
        render_arguments(plan(), "x1", BASE, ELEMENTS, {"Settings/Nope": 1})
    assert "--generateargsfile" in str(err.value)


def test_only_for_xprotect():
    with pytest.raises(WindowsFirewallError, match="vms_product"):
        render_arguments(plan(product="valerus"), "x1", BASE, ELEMENTS)
