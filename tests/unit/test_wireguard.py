"""vms_deploy.render.wireguard: keys, the edge's wg0.conf and the client files (golden files).

Regenerate the golden files with VMS_UPDATE_GOLDEN=1 after a deliberate change.
"""
import json
from pathlib import Path

import pytest
from conftest import compare_golden

from vms_deploy.render import wireguard as wg

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "wireguard"
PLAN = json.loads((ROOT / "tests" / "fixtures" / "plans" / "valerus_vpn.json").read_text())
# Fixed test keys (never used anywhere else) so the golden files are stable.
EDGE = "QEwWb8RmBm3f8JhPd7BOdHdLSpBnTHMu3dE5YKGwlF4="
ALICE = "SHmk0ZCq8W3mJRgRBS+Q4FsEK1XD/nYP0HVoQ7BHZ1o="


def golden(name, text):
    compare_golden(GOLDEN / name, text)


def test_public_key_matches_wg_tool():
    """Known vector: `echo AQEB...AQE= | wg pubkey` (wireguard-tools 1.0.20210914 in the lab image)."""
    assert (wg.public_key("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
            == "pOCSkrZRwni5dyxWn1+puxPZBrRqtoyd+dwrRAn4ogk=")


def test_generated_keys_are_wireguard_keys():
    a, b = wg.generate_private_key(), wg.generate_private_key()
    assert a != b and len(a) == 44 and a.endswith("=")
    assert len(wg.public_key(a)) == 44


@pytest.mark.parametrize("bad", ["", "short", "A" * 44, "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!"])
def test_bad_keys_are_named(bad):
    with pytest.raises(wg.WireGuardError, match="vms_vpn_peers\\[bob\\].public_key is not a WireGuard key"):
        wg.check_public_key(bad, "vms_vpn_peers[bob].public_key")


def test_allowed_ips_are_the_vpn_flow_destinations_only():
    assert wg.allowed_destinations(PLAN) == ["10.40.1.10/32", "10.40.1.21/32", "10.40.1.22/32"]


def test_server_config_golden():
    pubs = {"alice-laptop": wg.public_key(ALICE), "bob-phone": wg.public_key(EDGE)}
    text = wg.server_config(PLAN, EDGE, pubs)
    assert "ListenPort = 51820" in text and "Address = 10.40.8.1/24" in text
    assert "AllowedIPs = 10.40.8.10/32" in text and "AllowedIPs = 10.40.8.11/32" in text
    golden("remote.edge.wg0.conf", text)


def test_peer_config_golden():
    text = wg.peer_config(PLAN, "alice-laptop", ALICE, wg.public_key(EDGE), "vpn.example.test")
    assert "Endpoint = vpn.example.test:51820" in text
    assert "0.0.0.0/0" not in text  # never a full tunnel: only the VMS hosts
    golden("remote.alice-laptop.conf", text)


def test_peer_with_only_a_public_key_gets_a_placeholder():
    text = wg.peer_config(PLAN, "bob-phone", None, wg.public_key(EDGE), "100.64.0.10")
    assert wg.PLACEHOLDER in text


def test_missing_endpoint_and_unknown_peer():
    with pytest.raises(wg.WireGuardError, match="vms_public_address"):
        wg.peer_config(PLAN, "alice-laptop", ALICE, wg.public_key(EDGE), "")
    with pytest.raises(wg.WireGuardError, match="no peer named 'carol'"):
        wg.peer_config(PLAN, "carol", ALICE, wg.public_key(EDGE), "x")


def test_no_vpn_in_plan():
    with pytest.raises(wg.WireGuardError, match="vms_remote_access: vpn"):
        wg.peer_names({"vpn": None})


def test_bad_peer_name():
    plan = json.loads(json.dumps(PLAN))
    plan["vpn"]["peers"][0]["name"] = "../evil"
    with pytest.raises(wg.WireGuardError, match="peer name"):
        wg.peer_names(plan)


def test_edge_tunnel_address_falls_back_to_first_host():
    plan = json.loads(json.dumps(PLAN))
    plan["vpn"]["edge_address"] = "100.64.0.10"  # the public address is not a tunnel address
    assert wg.interface_address(plan) == "10.40.8.1/24"
    plan["vpn"]["peers"][0]["address"] = "10.40.8.1/32"
    with pytest.raises(wg.WireGuardError, match="edge's own tunnel address"):
        wg.interface_address(plan)
