"""VPN lab proof (molecule/vpn, inventories/lab/vpn_site).

The "peer" vantage on the Internet brings up the client file the vpn_wireguard role wrote for
alice-laptop and reaches the application server's client ports through the tunnel; the
"stranger" vantage (no key) reaches nothing; the edge has no port forward (no DNAT) at all.
"""
from pathlib import Path

import pytest
import testinfra

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "build" / "vpn" / "vpn"
APP = "172.30.32.10"
PUBLIC = "172.30.30.2"
testinfra_hosts = ["edge1"]


def connect(box, address, port):
    """Banner of the stand-in when the TCP connection gets through; '' when it does not."""
    return box.run(f"timeout 8 nc -w 3 {address} {port} </dev/null").stdout


@pytest.fixture(scope="module")
def peer():
    box = testinfra.get_host("docker://vmsvpn-peer")
    conf = (CLIENTS / "alice-laptop.conf").read_text()
    box.run("mkdir -p /etc/wireguard /dev/net; test -e /dev/net/tun || mknod -m 0600 /dev/net/tun c 10 200")
    box.run(f"umask 077; cat > /etc/wireguard/wg0.conf <<'EOF'\n{conf}EOF")
    up = box.run("wg-quick down wg0 >/dev/null 2>&1; wg-quick up wg0")
    assert up.rc == 0, up.stderr
    yield box
    box.run("wg-quick down wg0")


@pytest.fixture(scope="module")
def stranger():
    return testinfra.get_host("docker://vmsvpn-stranger")


@pytest.mark.parametrize("port,service", [(80, "app_web_http"), (443, "app_web_https"), (554, "recorder_streaming")])
def test_peer_reaches_client_ports_through_the_tunnel(peer, port, service):
    assert f"/{service} on tcp/{port}" in connect(peer, APP, port)


def test_peer_traffic_really_uses_the_tunnel(peer, host):
    connect(peer, APP, 80)
    route = peer.run(f"ip route get {APP}").stdout
    assert "dev wg0" in route and "src 172.30.39.10" in route, route
    handshakes = host.run("wg show wg0 latest-handshakes").stdout
    assert any(line.split()[1] != "0" for line in handshakes.splitlines() if line.strip()), handshakes


@pytest.mark.parametrize("port", [22, 8080])
def test_peer_gets_only_client_ports(peer, port):
    # Management (22) and recorder control (8080) are not for VPN clients.
    assert connect(peer, APP, port) == ""


@pytest.mark.parametrize("port", [80, 443, 554])
def test_stranger_reaches_nothing(stranger, port):
    assert connect(stranger, APP, port) == ""


@pytest.mark.parametrize("port", [80, 443, 554, 9080, 9443, 9081])
def test_no_forward_on_the_public_address(stranger, port):
    assert connect(stranger, PUBLIC, port) == ""


def test_edge_has_no_port_forward(host):
    ruleset = host.run("nft list ruleset").stdout
    assert "udp dport 51820 accept" in ruleset
    assert "dnat" not in ruleset


def test_edge_interface(host):
    out = host.run("wg show wg0").stdout
    assert "listening port: 51820" in out
    assert out.count("peer: ") == 2
    conf = host.file("/etc/wireguard/wg0.conf")
    assert conf.mode == 0o600 and conf.user == "root"


def test_client_files_are_private():
    for name in ("alice-laptop.conf", "bob-phone.conf"):
        assert (CLIENTS / name).stat().st_mode & 0o777 == 0o600
    assert "<this peer's private key" in (CLIENTS / "bob-phone.conf").read_text()
    assert f"Endpoint = {PUBLIC}:51820" in (CLIENTS / "alice-laptop.conf").read_text()
