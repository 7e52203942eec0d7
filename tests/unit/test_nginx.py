"""vms_deploy.render.nginx: gateway config from the plan (golden files) and its rules.

Golden files live in tests/golden/nginx/; regenerate with VMS_UPDATE_GOLDEN=1 after a deliberate change.
"""
import copy
import json
from pathlib import Path

import pytest
from conftest import compare_golden

from vms_deploy.render import nginx

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "nginx"
CASES = [
    ("plan_valerus_dmz", "gw1", {}),
    ("plan_valerus_aio", "aio1", {}),
    ("plan_valerus_dmz", "gw1", {"upstream_tls": True, "upstream_ca_file": "/etc/nginx/vms-tls/ca.crt",
                                 "public_host": "vms.example.test"}),
]


def plan(name):
    return json.loads((GOLDEN / f"{name}.json").read_text())


def golden_name(name, host, settings):
    return f"{name}.{host}{'.custom' if settings else ''}.conf"


@pytest.mark.parametrize("name,host,settings", CASES)
def test_golden(name, host, settings):
    text = nginx.render_nginx_conf(plan(name), host, nginx.ProxySettings(**settings))
    compare_golden(GOLDEN / golden_name(name, host, settings), text)


def test_tls_policy_and_headers():
    text = nginx.render_nginx_conf(plan("plan_valerus_dmz"), "gw1")
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
    assert "TLSv1 " not in text and "TLSv1.1" not in text and "SSLv3" not in text
    assert ":RC4" not in text and "CBC" not in text
    for header in ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                   "Content-Security-Policy"):
        assert text.count(f"add_header {header} ") == 2  # both HTTPS servers (9443, 3001)
    assert "server_tokens off;" in text


def test_redirects_go_to_the_external_https_port():
    text = nginx.render_nginx_conf(plan("plan_valerus_dmz"), "gw1", nginx.ProxySettings(public_host="vms.example.test"))
    assert "return 301 https://vms.example.test:9443$request_uri;" in text
    assert "return 301 https://vms.example.test:3001$request_uri;" in text
    p = plan("plan_valerus_dmz")
    for fwd in p["forwards"]:
        if fwd["service"] == "gateway_https":
            fwd["external_ports"] = [443, 443]
    text = nginx.render_nginx_conf(p, "gw1", nginx.ProxySettings(public_host="vms.example.test"))
    assert "return 301 https://vms.example.test$request_uri;" in text


def test_upstreams_come_from_the_plan():
    routes = {r.service: r for r in nginx.routes(plan("plan_valerus_dmz"), "gw1", nginx.ProxySettings())}
    assert routes["gateway_https"].upstream == "10.30.1.10:80"  # Linux app server: plain HTTP upstream
    assert routes["gateway_streaming"].upstream == "10.30.1.21:554"
    p = plan("plan_valerus_dmz")
    p["hosts"]["app1"]["platform"] = "windows"  # real Valerus IIS: re-encrypt to 443
    routes = {r.service: r for r in nginx.routes(p, "gw1", nginx.ProxySettings())}
    assert (routes["gateway_https"].scheme, routes["gateway_https"].upstream) == ("https", "10.30.1.10:443")


def test_port_override_is_followed():
    p = plan("plan_valerus_dmz")
    for rule in p["hosts"]["rec1"]["inbound"]:
        if rule["service"] == "recorder_streaming":
            rule["ports"] = [7554, 7554]
    assert "proxy_pass 10.30.1.21:7554;" in nginx.render_nginx_conf(p, "gw1")


def test_unreachable_upstream_is_an_error():
    p = plan("plan_valerus_dmz")
    for rule in p["hosts"]["app1"]["inbound"]:
        rule["sources"] = ["10.30.2.0/24"]  # the gateway may no longer reach the app server
    with pytest.raises(nginx.ProxyError, match="reach no application server web port"):
        nginx.routes(p, "gw1", nginx.ProxySettings())


def test_not_a_gateway():
    with pytest.raises(nginx.ProxyError, match="no gateway component"):
        nginx.routes(plan("plan_valerus_dmz"), "app1", nginx.ProxySettings())


def test_no_web_player_no_3001():
    p = plan("plan_valerus_dmz")
    p["hosts"]["gw1"]["inbound"] = [r for r in p["hosts"]["gw1"]["inbound"]
                                    if not r["service"].startswith("web_player")]
    assert nginx.owned_ports(p, "gw1") == ["tcp/9080", "tcp/9081", "tcp/9443"]
    assert nginx.owned_ports(plan("plan_valerus_dmz"), "gw1") == ["tcp/3000", "tcp/3001", "tcp/9080", "tcp/9081",
                                                                  "tcp/9443"]


def test_deterministic():
    p = plan("plan_valerus_dmz")
    shuffled = copy.deepcopy(p)
    shuffled["hosts"]["gw1"]["inbound"].reverse()
    assert nginx.render_nginx_conf(p, "gw1") == nginx.render_nginx_conf(shuffled, "gw1")
