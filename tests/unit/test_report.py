"""HTML report and network picture: golden DOT/HTML, a real Graphviz render, self-containment.

Regenerate golden files after an intended change: VMS_UPDATE_GOLDEN=1 pytest tests/unit/test_report.py
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import compare_golden

from vms_deploy import cli
from vms_deploy.provenance.facts import collect
from vms_deploy.report.graph import plan_to_dot, render_svg
from vms_deploy.report.html import render_html

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "tests" / "fixtures" / "plans"
GOLDEN = ROOT / "tests" / "golden" / "report"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
SVG_STUB = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>picture</text></svg>\n"


def load(name: str) -> dict:
    return json.loads((PLANS / f"{name}.json").read_text())


def check_golden(name: str, text: str) -> None:
    compare_golden(GOLDEN / name, text)


@pytest.mark.parametrize("name", ["valerus_base", "valerus_vpn"])
def test_dot_golden(name):
    check_golden(f"{name}.dot", plan_to_dot(load(name)))


@pytest.mark.parametrize("name", ["valerus_base", "valerus_vpn"])
def test_html_golden(name):
    # the SVG itself comes from the installed Graphviz version, so the golden page uses a stub picture;
    # the provenance has a fixed clock, user and version
    plan = load(name)
    prov = collect(plan, stamped=True, now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
                   user="integrator@controller", version="0.0-test")
    check_golden(f"{name}.html", render_html(plan, SVG_STUB, prov))


def test_dot_shows_zones_flows_and_forwards():
    dot = plan_to_dot(load("valerus_base"))
    for zone in ("internet", "servers", "clients", "cameras", "edge", "management"):
        assert f"  zone_{zone} [label=" in dot
    assert 'zone_servers [label="servers\\n10.40.1.0/24\\n3 hosts\\n1 app_server, 1 gateway, 2 recorder' in dot
    assert 'zone_clients -> zone_servers [label="80 web_http\\n443 web_https\\n3000 web_player_http' in dot
    assert 'zone_servers -> zone_cameras [label="80 camera_http\\n554 camera_rtsp"];' in dot
    assert "80 > app1:9080" in dot and 'color="#b00020"' in dot
    assert "administers every host: 22" in dot  # SSH/WinRM to every host: in the management box, not 4 arrows
    assert plan_to_dot(load("valerus_base")) == dot  # deterministic


def test_vpn_picture_has_wireguard_and_no_forwards():
    dot = plan_to_dot(load("valerus_vpn"))
    # the edge rule for the WireGuard port and the VPN itself make one label, not two
    assert 'zone_internet -> zone_edge [label="51820/udp WireGuard"];' in dot
    assert "forward" not in dot
    assert "zone_vpn -> zone_servers" in dot


def test_html_has_the_sheets():
    page = render_html(load("valerus_base"), SVG_STUB)
    assert page.count("<table") >= 6
    for needle in ("Router sheet", "valerus-gateway-http", "Host details", "video streams to clients",
                   "port forwards expose the gateway", "<svg", "Hosts by zone", "What vms-deploy owns"):
        assert needle in page
    # well-formed enough for a browser: every opened element closed
    parser = _TagBalance()
    parser.feed(page)
    assert parser.stack == []


def test_html_escapes_plan_text():
    plan = load("valerus_base")
    plan["warnings"] = ["<script>alert(1)</script>"]
    page = render_html(plan, None)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Picture not generated" in page


@needs_dot
def test_real_svg_render_is_inline_xml():
    svg = render_svg(plan_to_dot(load("valerus_base")))
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    root = ET.fromstring(svg)
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"servers", "10.40.1.0/24", "3 hosts", "80 web_http", "80 > app1:9080"} <= texts


@needs_dot
def test_cli_report_writes_a_self_contained_page(tmp_path, capsys):
    out = tmp_path / "report"
    assert cli.main(["report", str(PLANS / "valerus_base.json"), "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    assert "<svg" in page and "<style>" in page
    # nothing is fetched from elsewhere: no external scripts, stylesheets or images
    assert not re.search(r"<(script|link|img)\b", page)
    assert not re.search(r"(src|href)=\"https?://", page)
    png = tmp_path / "network.png"
    subprocess.run(["dot", "-Tpng", str(out / "network.dot"), "-o", str(png)], check=True, timeout=60)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"index.html", "network.dot", "network.svg", "plan.json"} <= {p.name for p in out.iterdir()}


def test_cli_report_without_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert cli.main(["report", str(PLANS / "valerus_base.json"), "--out", str(tmp_path)]) == 2
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert cli.main(["report", str(PLANS / "valerus_base.json"), "--out", str(tmp_path), "--no-picture"]) == 0
    assert "Picture not generated" in (tmp_path / "index.html").read_text()


class _TagBalance(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input", "path", "polygon", "ellipse", "polyline"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
