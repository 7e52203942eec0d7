"""Issue 23, class 4: YAML and names that change meaning.

A duplicate key that widens an allow-list (YAML keeps the last one without an error), host names that differ
only by case, `localhost` as a site host, NUL bytes, very long host names, non-string keys where a variable
name belongs (a traceback in the loader before), an integer host name. Each is refused before anything is
compiled or written, naming the file or host and a fix, through `vms-deploy plan` trusted and --untrusted
(plan.yml: test_hostile_meaning_playbook.py). Rule: docs/security.md, Hostile input class 4 (names are data).
"""
from __future__ import annotations

import pytest
from hostile23 import EXAMPLE, plan, refused_line, site

HOSTS = (EXAMPLE / "hosts.yml").read_text()
REC1 = "xrec1: {ansible_host: 10.50.1.21}"


def _hosts(new: str) -> dict[str, str]:
    assert REC1 in HOSTS
    return {"hosts.yml": HOSTS.replace(REC1, new)}


CASES = {
    "duplicate-allowlist": ("vms_remote_allowlist: [0.0.0.0/0]\n", {},
                            ["all.yml", "has the key 'vms_remote_allowlist' twice", "keep the key once"]),
    "duplicate-host": ("", _hosts(f"{REC1}\n        xrec1: {{ansible_host: 10.50.1.29}}"),
                       ["hosts.yml", "has the key 'xrec1' twice"]),
    "duplicate-in-host-vars": ("", {"host_vars/xrec1.yml": "vms_recorder_instances: 1\nvms_recorder_instances: 3\n"},
                               ["xrec1.yml", "twice in one mapping"]),
    "case-only-host-names": ("", _hosts(f"{REC1}\n        XRec1: {{ansible_host: 10.50.1.29}}"),
                             ["host XRec1: inventory_hostname", "only by case"]),
    "localhost-as-recorder": ("", _hosts("localhost: {ansible_host: 10.50.1.21}"),
                              ["host localhost: inventory_hostname", "controller's own name"]),
    "integer-host-name": ("", _hosts("12345: {ansible_host: 10.50.1.21}"), ["12345", "string"]),
    "nul-in-host-name": ("", _hosts('"xr\\0ec1": {ansible_host: 10.50.1.21}'), ["hosts.yml", "NUL byte"]),
    "nul-in-value": ('vms_public_name: "vms.example.com\\0.evil"\n', {}, ["all.yml", "NUL byte"]),
    "long-host-name": ("", _hosts("? " + "h" * 200_000 + "\n        : {ansible_host: 10.50.1.21}"),
                       ["hosts.yml", "names a host with 200000 characters"]),
    "integer-key-in-vars": ("5: 1\n", {}, ["variable name = 5", "is not a string"]),
    "boolean-key-in-vars": ("true: 1\n", {}, ["variable name = True", "is not a string"]),
    "null-key-in-vars": ("null: 1\n", {}, ["variable name = None", "is not a string"]),
}


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_yaml_that_changes_meaning_is_refused(tmp_path, capsys, case, untrusted):
    extra, files, parts = CASES[case]
    inv = site(tmp_path, extra, files)
    out = tmp_path / "plan"
    code, text, elapsed = plan(capsys, inv, out, untrusted)
    assert "Traceback" not in text
    assert code == 2, text[-3000:]
    assert not out.exists()
    assert len(text) < 20_000 and elapsed < 20
    if case == "integer-host-name":  # Ansible's own refusal (the yaml plugin), before vms-deploy reads a value
        assert all(p in text for p in parts), text
    else:
        assert refused_line(text, *parts), text[-3000:]


def test_keys_repeated_in_different_mappings_are_fine(tmp_path, capsys):
    """The same key in two mappings (ansible_host of every host) is what every inventory does."""
    inv = site(tmp_path, files={"host_vars/xrec1.yml": "vms_recorder_instances: 2\n",
                                "host_vars/xrec2.yml": "vms_recorder_instances: 2\n"})
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=False)
    assert code == 0, text
