"""Issue 23, class 3: site-wide settings set on one host, refused through `vms-deploy plan` trusted and
--untrusted, naming the host, the variable, the value and a fix (validate.site_wide). Expectations from
docs/inventory.md (site-wide variables belong in group_vars/all; vms_zone: edge is the edge's zone) and seed 001
(the recorders sit in the server network, the cameras talk only to them). Generated group names used by hand:
tests/unit/test_hostile_reserved.py."""
from __future__ import annotations

import pytest
from hostile23 import plan, refused_line, site

CASES = {
    "management-networks-on-one-host": ({"host_vars/xrec1.yml": "vms_management_networks: [10.50.98.0/24]\n"},
                                        ["host xrec1: vms_management_networks", "site-wide"]),
    "tls-off-on-one-host": ({"host_vars/xmobile.yml": "vms_tls_enabled: false\n"},
                            ["host xmobile: vms_tls_enabled", "site-wide"]),
    "remote-access-on-one-host": ({"host_vars/xmobile.yml": "vms_remote_access: none\n"},
                                  ["host xmobile: vms_remote_access", "site-wide"]),
    "recorder-in-edge-zone": ({"host_vars/xrec1.yml": "vms_zone: edge\n"},
                              ["host xrec1: vms_zone = 'edge'", "recorder"]),
    "app-server-in-edge-zone": ({"host_vars/xmgmt.yml": "vms_zone: edge\n"},
                                ["host xmgmt: vms_zone = 'edge'"]),
}


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_site_wide_settings_on_one_host_are_refused(tmp_path, capsys, case, untrusted):
    files, parts = CASES[case]
    inv = site(tmp_path, "", files)
    out = tmp_path / "plan"
    code, text, _ = plan(capsys, inv, out, untrusted)
    assert "Traceback" not in text
    assert code == 2, text
    assert not out.exists()
    assert refused_line(text, *parts), text


def test_site_wide_settings_set_once_and_a_dmz_zone_plan(tmp_path, capsys):
    inv = site(tmp_path, "vms_tls_enabled: true\n", {"host_vars/xedge.yml": "vms_zone: edge\n"})
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=False)
    assert code == 0, text
