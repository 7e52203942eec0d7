"""Issue 23, class 2: ports that land where they must not, refused through `vms-deploy plan` trusted and
--untrusted, naming the host, the variable, the value and a fix (validate.port_meaning, conflicts, vpn).
Expectations from the seeds: local-only ports are never opened to the network (seed 001, "local connection
only"); management (SSH 22, WinRM 5985/5986) only from vms_management_networks (docs/security.md); one external
port to one internal IP and port (seed 002)."""
from __future__ import annotations

import pytest
from hostile23 import EXAMPLE, ROOT, plan, refused_line, site

ALL = (EXAMPLE / "group_vars" / "all.yml").read_text()
NVR = ROOT / "inventories" / "examples" / "generic_nvr_home"
NVR_HOSTS = (NVR / "hosts.yml").read_text()
KEY = "hnb5S+5Ij0MU8K8uIzs6AwXJQD6MEIs2H5pJe3LBIWM="
VPN = ("vms_remote_access: vpn\nvms_vpn_network: 10.99.0.0/24\nvms_vpn_listen_port: 51820\nvms_vpn_peers:\n"
       f"  - {{name: anna, address: 10.99.0.10/32, public_key: {KEY}}}\n")


def _custom(host: str, protocol: str, port: int) -> dict[str, str]:
    return {f"host_vars/{host}.yml": f"vms_custom_services:\n  - {{name: agent, protocol: {protocol}, port: {port}}}\n"}


CASES = {
    "custom-on-local-only-8080": ("", _custom("xmgmt", "tcp", 8080),
                                  ["host xmgmt: vms_custom_services[0].port = 8080", "local-only"]),
    "custom-on-local-only-6473": ("", _custom("xmgmt", "tcp", 6473),
                                  ["host xmgmt: vms_custom_services[0].port = 6473", "local-only"]),
    "custom-on-local-only-8966": ("", _custom("xrec1", "tcp", 8966),
                                  ["host xrec1: vms_custom_services[0].port = 8966", "local-only"]),
    "custom-on-local-only-65101": ("", _custom("xrec1", "udp", 65101),
                                   ["host xrec1: vms_custom_services[0].port = 65101", "local-only"]),
    "override-onto-local-only": ("", {"host_vars/xrec1.yml": "vms_port_overrides: {rec_api: {port: 8966}}\n"},
                                 ["host xrec1: vms_port_overrides.rec_api.port = 8966", "local-only"]),
    "custom-on-winrm-5985": ("", _custom("xrec1", "tcp", 5985),
                             ["host xrec1: vms_custom_services[0].port = 5985", "WinRM"]),
    "custom-on-winrm-5986": ("", _custom("xrec1", "tcp", 5986), ["host xrec1", "5986"]),
    "custom-on-ssh": ("", _custom("xedge", "tcp", 22), ["host xedge", "tcp 22", "management"]),
    "custom-on-management-port": ("", {"host_vars/xedge.yml": "vms_management_port: 2222\nvms_custom_services:\n"
                                       "  - {name: agent, protocol: tcp, port: 2222}\n"}, ["host xedge", "2222"]),
    "forward-to-management-port": ("", {"host_vars/xmobile.yml": "vms_port_overrides: {mobile_https: {port: 5986}}\n"},
                                   ["host xmobile", "5986"]),
    "forward-loses-internet": ("", {"host_vars/xmobile.yml":
                                    "vms_port_overrides: {mobile_https: {connects_from: [clients]}}\n"},
                               ["host xmobile: vms_port_overrides.mobile_https.connects_from", "internet"]),
    "vpn-port-on-edge-service": (VPN, _custom("xedge", "udp", 51820),
                                 ["51820", "xedge"]),
    "vpn-peers-one-key": (VPN + f"  - {{name: bob, address: 10.99.0.11/32, public_key: {KEY}}}\n", {},
                          ["vms_vpn_peers[1].public_key", "anna"]),
}
NVR_CASES = {
    "forward-asked-twice": ("            - {service: nvr_https, external_port: 9443}\n",
                            ["host nvr: vms_forwarded_services[3]", "nvr_https"]),
}


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ports_that_land_where_they_must_not_are_refused(tmp_path, capsys, case, untrusted):
    extra, files, parts = CASES[case]
    inv = site(tmp_path, extra, files)
    out = tmp_path / "plan"
    code, text, _ = plan(capsys, inv, out, untrusted)
    assert "Traceback" not in text
    assert code == 2, text
    assert not out.exists()
    assert refused_line(text, *parts), text


def nvr_site(tmp_path, extra_hosts: str):
    import shutil
    inv = tmp_path / "site"
    shutil.copytree(NVR, inv)
    (inv / "hosts.yml").write_text(NVR_HOSTS.rstrip("\n") + "\n" + extra_hosts)
    return inv


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", sorted(NVR_CASES))
def test_nvr_forward_cases_are_refused(tmp_path, capsys, case, untrusted):
    extra, parts = NVR_CASES[case]
    inv = nvr_site(tmp_path, extra)
    out = tmp_path / "plan"
    code, text, _ = plan(capsys, inv, out, untrusted)
    assert "Traceback" not in text
    assert code == 2, text
    assert not out.exists()
    assert refused_line(text, *parts), text


def test_ports_of_their_own_plan(tmp_path, capsys):
    inv = site(tmp_path, VPN, {**_custom("xrec1", "tcp", 9100),
                               "host_vars/xmobile.yml": "vms_port_overrides: {mobile_https: {port: 8443}}\n"})
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=False)
    assert code == 0, text
