"""Hostile names in every renderer (issue 13, class 4): one test per output format.

The validator refuses these names, but renderers also run on plan.json files that did not come
through it (`vms-deploy report plan.json`, a reviewed plan file). Each test plants one hostile string
wherever the plan carries a name or free text (site, host names, services, purposes, forward and peer
names) and checks the output in the terms of its own format: no extra nftables statement (and `nft -c`
accepts the file), no extra nginx directive or refusal with a message, no extra WireGuard line, one
CSV row per forward with no formula, Markdown tables with their column count, HTML with no raw tag.
PowerShell renderers are tested in test_powershell_hostile.py (another helper's area).
"""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from vms_deploy.render import firewall_request, nginx, port_matrix, router_sheet, wireguard
from vms_deploy.render.nftables_edge import render_edge_ruleset
from vms_deploy.render.nftables_host import render_host_ruleset
from vms_deploy.report.graph import plan_to_dot
from vms_deploy.report.html import render_html

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "tests" / "fixtures" / "plans"
NGINX_PLAN = ROOT / "tests" / "golden" / "nginx" / "plan_valerus_dmz.json"
# Ends a quoted string, a statement and a block, starts a new table, a comment, raw HTML, a Markdown
# cell, a spreadsheet formula, a command substitution and a path climb, all at once.
HOSTILE = 'x"; }\n} table inet evil { chain c { accept; }\r\n# <script>alert(1)</script> | `id` $(id) ../../etc'
FORMULA = "=HYPERLINK(\"http://evil\")|x"
KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def _plan(name: str) -> dict:
    return json.loads((PLANS / name).read_text())


def _poison(plan: dict, host: str | None = None) -> dict:
    """The same plan with HOSTILE in every free-text and name field renderers copy into files."""
    plan = json.loads(json.dumps(plan))
    plan["site"] = HOSTILE
    for h in plan["hosts"].values():
        for rule in h.get("inbound", []):
            rule["purpose"] = HOSTILE
    for fwd in plan.get("forwards", []):
        fwd["name"] = FORMULA + HOSTILE
        fwd["purpose"] = HOSTILE
    for flow in plan.get("zone_flows", []):
        flow["purpose"] = HOSTILE
    plan["warnings"] = [HOSTILE]
    if host:  # rename a host everywhere the plan names it
        text = json.dumps(plan).replace(json.dumps(host)[1:-1], json.dumps(HOSTILE)[1:-1])
        plan = json.loads(text)
    return plan


def _nft_ok(text: str, tmp_path: Path) -> None:
    """Structure: every comment is one quoted token; `table` only where the renderer writes one; and
    the real nft parser accepts the file when this machine can run it in a scratch namespace."""
    code = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]  # '#' lines are comments
    assert "table inet evil" not in re.sub(r'comment "[^"\n]*"', "", "\n".join(code))
    for line in code:
        assert line.count('"') % 2 == 0, line
    tables = [ln for ln in code if re.match(r"\s*table\s", ln)]
    assert len(tables) == 1, tables
    if subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode != 0:
        return
    path = tmp_path / "rules.nft"
    path.write_text(text)
    res = subprocess.run(["unshare", "-n", "nft", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_nftables_host_ruleset_keeps_hostile_text_inside_comments(tmp_path):
    plan = _poison(_plan("valerus_base.json"))
    host = min(h for h, v in plan["hosts"].items() if v.get("inbound"))
    _nft_ok(render_host_ruleset(plan, host), tmp_path)


def test_nftables_edge_ruleset_keeps_hostile_text_inside_comments(tmp_path):
    plan = _poison(_plan("valerus_base.json"))
    _nft_ok(render_edge_ruleset(plan, plan["edge"]["host"]), tmp_path)


def test_nginx_refuses_a_hostile_server_name_and_keeps_comments_on_one_line():
    plan = json.loads(NGINX_PLAN.read_text())
    with pytest.raises(nginx.ProxyError, match="cannot be written into nginx.conf"):
        nginx.render_nginx_conf(plan, "gw1", nginx.ProxySettings(extra_server_names=["vms.example.com; return 200"]))
    with pytest.raises(nginx.ProxyError, match="public name"):
        nginx.render_nginx_conf(plan, "gw1", nginx.ProxySettings(public_host="a.example.com/$request_uri;"))
    poisoned = json.loads(json.dumps(plan))
    poisoned["site"] = HOSTILE
    text = nginx.render_nginx_conf(poisoned, "gw1")
    clean = nginx.render_nginx_conf(plan, "gw1")
    assert len(text.splitlines()) == len(clean.splitlines())
    assert all("evil" not in ln or ln.lstrip().startswith("#") for ln in text.splitlines())


def test_nginx_refuses_a_hostile_upstream_host_name():
    plan = json.loads(NGINX_PLAN.read_text())
    upstream = next(h for h, v in plan["hosts"].items() if "app_server" in v.get("components", []))
    renamed = json.loads(json.dumps(plan).replace(f'"{upstream}"', json.dumps("app;\n include /etc/shadow")))
    with pytest.raises(nginx.ProxyError, match="upstream host name"):
        nginx.render_nginx_conf(renamed, "gw1")


def test_wireguard_refuses_hostile_peer_names_and_keys():
    plan = _plan("valerus_vpn.json")
    peer = plan["vpn"]["peers"][0]["name"]
    keys = {p["name"]: KEY for p in plan["vpn"]["peers"]}
    for bad in ("../../etc/cron.d/x", "anna\n[Peer]", "anna\n"):
        renamed = json.loads(json.dumps(plan))
        renamed["vpn"]["peers"][0]["name"] = bad
        with pytest.raises(wireguard.WireGuardError, match="peer name"):
            wireguard.server_config(renamed, KEY, {**keys, bad: KEY})
    with pytest.raises(wireguard.WireGuardError, match="not a WireGuard key"):
        wireguard.server_config(plan, KEY, {**keys, peer: KEY + "\nAllowedIPs = 0.0.0.0/0"})
    with pytest.raises(wireguard.WireGuardError, match="endpoint"):
        wireguard.peer_config(plan, peer, KEY, KEY, "vpn.example.com\nPostUp = id")
    poisoned = json.loads(json.dumps(plan))
    poisoned["site"] = HOSTILE
    text = wireguard.server_config(poisoned, KEY, keys)
    assert len(text.splitlines()) == len(wireguard.server_config(plan, KEY, keys).splitlines())
    client = wireguard.peer_config(poisoned, peer, KEY, KEY, "vpn.example.com")
    assert all("evil" not in ln or ln.startswith("#") for ln in (text + client).splitlines())


def test_router_csv_has_one_row_per_forward_and_no_formula():
    plan = _poison(_plan("valerus_base.json"))
    rows = list(csv.reader(io.StringIO(router_sheet.to_csv(plan))))
    assert len(rows) == 1 + len(plan["forwards"]) and len(plan["forwards"]) > 0
    for row in rows[1:]:
        assert len(row) == len(router_sheet.COLUMNS)
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


def _tables_keep_their_columns(text: str) -> None:
    widths = []
    for line in text.splitlines():
        if line.startswith("|"):
            widths.append(len(re.findall(r"(?<!\\)\|", line)))
        else:
            assert not re.search(r"(?<!\\)<script", line), line
    assert widths and len(set(widths)) == 1, widths


def test_router_markdown_tables_keep_their_columns():
    plan = _poison(_plan("valerus_base.json"))
    text = router_sheet.to_markdown(plan)
    _tables_keep_their_columns(text)
    assert text.splitlines()[0].startswith("# Router port forwards: site x")
    clean = router_sheet.to_markdown(_plan("valerus_base.json"))
    headings = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert len(headings) == len([ln for ln in clean.splitlines() if ln.startswith("#")])  # no heading planted


def test_firewall_request_keeps_its_tables_and_one_csv_row_per_rule():
    plan = _poison(_plan("valerus_base.json"))
    text = firewall_request.to_markdown(plan)
    clean = firewall_request.to_markdown(_plan("valerus_base.json"))
    assert len([ln for ln in text.splitlines() if ln.startswith("#")]) == len(
        [ln for ln in clean.splitlines() if ln.startswith("#")])
    for section in re.split(r"\n#+ ", text):
        if "\n| rule |" in section:
            _tables_keep_their_columns(section[section.index("\n| rule |") + 1:].split("\n\n")[0])
    assert not re.search(r"(?<!\\)<script", text)
    rows = list(csv.reader(io.StringIO(firewall_request.to_csv(plan))))
    assert len(rows) == len(list(csv.reader(io.StringIO(firewall_request.to_csv(_plan("valerus_base.json"))))))
    for row in rows[1:]:
        assert len(row) == len(firewall_request.COLUMNS)
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


def test_port_matrix_tables_keep_their_columns():
    plan = _poison(_plan("valerus_base.json"), host="rec1")
    text = port_matrix.render(plan)
    for section in text.split("\n## ")[1:]:
        if "| protocol |" in section:
            _tables_keep_their_columns(section)
    assert not re.search(r"(?<!\\)<script", text)
    assert "\n} table inet evil" not in text


def test_report_html_and_dot_escape_hostile_names():
    plan = _poison(_plan("valerus_base.json"), host="rec1")
    html = render_html(plan, None)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    dot = plan_to_dot(plan)
    clean = plan_to_dot(_plan("valerus_base.json"))
    assert len(dot.splitlines()) == len(clean.splitlines())
    for line in dot.splitlines():
        assert len(re.findall(r'(?<!\\)"', line)) % 2 == 0, line
