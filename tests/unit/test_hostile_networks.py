"""Issue 23, class 1: networks that contradict each other or the seeds, refused through `vms-deploy plan`
trusted and --untrusted, naming the host, the variable, the network and a fix (validate.network_meaning).
Expectations from the seeds: only the gateway/mobile server is reachable from the Internet (000, 001), the
cameras talk only to the recording servers (001), the router forwards from its Internet side (000, 002)."""
from __future__ import annotations

import pytest
from hostile23 import EXAMPLE, plan, refused_line, site

ALL = (EXAMPLE / "group_vars" / "all.yml").read_text()
HOSTS = (EXAMPLE / "hosts.yml").read_text()


def _all(old: str, new: str) -> dict[str, str]:
    assert old in ALL
    return {"group_vars/all.yml": ALL.replace(old, new)}


MGMT = "vms_management_networks: [10.50.99.0/24]"
CASES = {
    "management-in-dmz": ("", _all(MGMT, "vms_management_networks: [10.50.9.0/24]"),
                          ["vms_management_networks = '10.50.9.0/24'", "open from the DMZ"]),
    "management-carrier-nat": ("", _all(MGMT, "vms_management_networks: [100.64.0.0/10]"),
                               ["vms_management_networks = '100.64.0.0/10'", "carrier-grade NAT"]),
    "events-from-cameras": ("vms_event_source_networks: [10.50.50.0/24]\n", {},
                            ["vms_event_source_networks = '10.50.50.0/24'", "from the cameras"]),
    "analytics-from-cameras": ("vms_analytics_source_networks: [10.50.50.128/25]\n", {},
                               ["vms_analytics_source_networks", "from the cameras"]),
    "onvif-clients-are-cameras": ("vms_onvif_client_networks: [10.50.0.0/16]\n", {},
                                  ["vms_onvif_client_networks = '10.50.0.0/16'", "from the cameras"]),
    "public-address-in-clients": ("", {"hosts.yml": HOSTS.replace("vms_public_address: 100.64.0.50",
                                                                  "vms_public_address: 10.50.2.77")},
                                  ["host xedge: vms_public_address = '10.50.2.77'", "inside vms_client_networks"]),
    "client-half-internet": ("", _all("vms_client_networks: [10.50.2.0/24]",
                                      "vms_client_networks: [10.50.2.0/24, 128.0.0.0/1]"),
                             ["vms_client_networks = '128.0.0.0/1'", "Internet addresses"]),
    "dmz-host-in-server-network": ("", {"hosts.yml": HOSTS.replace("xmobile: {ansible_host: 10.50.9.40}",
                                                                   "xmobile: {ansible_host: 10.50.1.40}")},
                                   ["host xmobile: ansible_host = '10.50.1.40'", "outside vms_dmz_networks"]),
}


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_contradicting_networks_are_refused(tmp_path, capsys, case, untrusted):
    extra, files, parts = CASES[case]
    inv = site(tmp_path, extra, files)
    out = tmp_path / "plan"
    code, text, _ = plan(capsys, inv, out, untrusted)
    assert "Traceback" not in text
    assert code == 2, text
    assert not out.exists()
    assert refused_line(text, *parts), text


def test_sources_of_their_own_and_a_small_shared_space_management_plan(tmp_path, capsys):
    inv = site(tmp_path, "vms_event_source_networks: [10.50.60.0/24]\n",
               _all(MGMT, "vms_management_networks: [10.50.99.0/24, 100.64.7.0/24]"))
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=False)
    assert code == 0, text
