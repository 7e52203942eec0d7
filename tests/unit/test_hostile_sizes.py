"""Bounded (issue 13, class 8): huge or alias-expanded values are refused in seconds with bounded
memory, and a message shows a truncated value, never megabytes of it. Also the reserved runtime
groups (class 5) when the data comes from a playbook run instead of files.
"""
from __future__ import annotations

import time

from conftest import valerus_split

from vms_deploy.checks import MAX_NODES
from vms_deploy.errors import show_value
from vms_deploy.inventory import MAX_EXPANDED_NODES, load_inventory
from vms_deploy.validate import validate


def _timed_errors(data):
    started = time.monotonic()
    errors = validate(data)
    return errors, time.monotonic() - started


def test_a_huge_list_is_refused_quickly_with_a_short_message():
    data = valerus_split(vms_client_networks=[f"10.{i // 256 % 256}.{i % 256}.0/24" for i in range(MAX_NODES + 5)])
    errors, took = _timed_errors(data)
    assert took < 5
    err = next(e for e in errors if e.variable == "vms_client_networks")
    assert "too large" in err.problem and err.host == "all"
    assert len(str(err)) < 600


def test_a_megabyte_string_is_refused_and_shown_truncated():
    data = valerus_split(vms_site="x" * 1_000_000)
    errors, took = _timed_errors(data)
    err = next(e for e in errors if e.variable == "vms_site")
    assert "too large" in err.problem and took < 5
    assert len(show_value(err.value)) <= 120 and len(str(err)) < 600


def test_shared_aliases_in_memory_are_counted_expanded():
    """A value built from shared references (what YAML aliases produce) is measured as expanded."""
    leaf = ["10.9.2.0/24"] * 10
    for _ in range(7):
        leaf = [leaf] * 10  # 10^8 items once expanded, a few hundred objects in memory
    data = valerus_split(vms_port_overrides={"gateway_http": {"connects_from": leaf}})
    errors, took = _timed_errors(data)
    assert took < 5
    assert any(e.variable == "vms_port_overrides" and "too large" in e.problem for e in errors), errors


def test_an_alias_bomb_file_is_refused_before_ansible_parses_it(tmp_path):
    lines = ["all:", "  vars:", "    vms_product: valerus", "    vms_site: t",
             "    vms_camera_ports: &b0 [{port: 554}, {port: 554}, {port: 554}, {port: 554}, {port: 554}]"]
    for i in range(1, 9):
        lines.append(f"    vms_note_{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]")
    lines += ["  hosts:", "    a: {ansible_host: 10.9.1.10}"]
    inv = tmp_path / "hosts.yml"
    inv.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    try:
        load_inventory(inv)
    except Exception as exc:  # noqa: BLE001 - the type and message are asserted below
        errors = exc.errors
    else:
        raise AssertionError("the alias bomb was loaded")
    assert time.monotonic() - started < 10
    assert errors[0].variable == "inventory file" and str(MAX_EXPANDED_NODES) in errors[0].problem


def test_runtime_platform_groups_must_match_the_platform():
    """In a playbook run prechecks.yml makes vms_platform_linux/windows; a group that moves a host to the
    other platform's stages (or any other vms_platform_* name) is refused there too."""
    data = valerus_split()
    data["groups"]["vms_platform_linux"] = ["app"]  # app is a Windows host in a Valerus site
    errors = validate(data)
    assert [(e.host, e.variable) for e in errors] == [("app", "vms_platform_linux")], errors
    data = valerus_split()
    data["groups"]["vms_platform_macos"] = ["rec1"]
    assert [e.variable for e in validate(data)] == ["vms_platform_macos"]
    data = valerus_split()
    data["groups"]["vms_platform_windows"] = ["app"]  # what group_by makes (with --limit app)
    assert validate(data) == []
    data["groups_from_files"] = True  # the same group written in the inventory files
    assert [e.variable for e in validate(data)] == ["vms_platform_windows"]
