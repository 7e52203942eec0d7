"""`vms-deploy cameras INVENTORY`: validates first (exit 2, nothing sent), audits, writes JSON + Markdown, exits 1
on a finding; the fake devices on loopback stand where cameras would (tests/unit/camera_fakes.py)."""
from __future__ import annotations

import json
from pathlib import Path

from camera_fakes import Device, Responder
from test_cameras_audit import free_udp_port

from vms_deploy import cli
from vms_deploy.cameras import discovery

HOSTS = """all:
  children:
    vms_recorders:
      hosts:
        nvr: {ansible_host: 10.60.0.20}
"""


def inventory(tmp_path, cameras: str, extra: str = "") -> str:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "hosts.yml").write_text(HOSTS)
    (tmp_path / "group_vars" / "all.yml").write_text(
        "vms_product: generic_nvr\nvms_site: camtest\nvms_client_networks: [10.60.0.0/25]\n"
        f"vms_camera_networks: [127.77.1.0/29]\nvms_camera_username: recorder\n"
        f"vms_camera_password: S3cure-Camera-Pass\nvms_cameras: {cameras}\n{extra}")
    return str(tmp_path)


def test_bad_camera_list_exits_2_before_any_probe(tmp_path, capsys, monkeypatch):
    sent = []
    monkeypatch.setattr(discovery, "sweep", lambda *a, **k: sent.append(a))
    code = cli.main(["cameras", inventory(tmp_path, "[{address: 10.1.1.1}]")])
    err = capsys.readouterr().err
    assert code == 2 and "outside every camera network" in err and "Traceback" not in err
    assert sent == []


def test_audit_writes_json_and_markdown_and_exits_1_on_the_stranger(tmp_path, capsys, monkeypatch):
    port = free_udp_port()
    good = Device("127.77.1.2")
    stranger = Device("127.77.1.3", mode="open")
    responders = [Responder(d.address, port, d.url) for d in (good, stranger)]
    real = discovery.sweep
    monkeypatch.setattr("vms_deploy.cameras.audit.sweep", lambda nets, budget: real(nets, budget, port=port))
    try:
        inv = inventory(tmp_path / "inv" if (tmp_path / "inv").mkdir() is None else None,
                        f"[{{address: 127.77.1.2, name: cam-good, onvif_port: {good.port}}}]")
        out = tmp_path / "out"
        code = cli.main(["cameras", inv, "--out", str(out), "--discovery-seconds", "1"])
    finally:
        for thing in (good, stranger, *responders):
            thing.close()
    captured = capsys.readouterr()
    assert code == 1, captured.err
    result = json.loads((out / "cameras.json").read_text())
    found = {d["address"]: [f["check"] for f in d["findings"] if f["severity"] == "finding"]
             for d in result["devices"]}
    assert found == {"127.77.1.2": [], "127.77.1.3": ["allow_list", "authentication"]}
    markdown = (out / "cameras.md").read_text()
    assert "| 127.77.1.3 | - | NO | yes |" in markdown and "S3cure-Camera-Pass" not in markdown + captured.out


def test_report_shows_the_camera_table(tmp_path, capsys):
    result = {"devices": [{"address": "10.60.1.9", "name": "", "named": False, "discovered": True,
                           "facts": {"unauthenticated": "answered", "info": {"Manufacturer": "PythonCam",
                                                                              "Model": "VirtualCam-1"}},
                           "findings": [{"check": "allow_list", "severity": "finding", "seed": "seed 001",
                                         "text": "is on a camera network but not in the inventory (vms_cameras)"}]}],
              "findings": [], "discovery": {}}
    (tmp_path / "cameras.json").write_text(json.dumps(result))
    inv = str(Path(__file__).resolve().parents[2] / "inventories" / "examples" / "generic_nvr_home")
    code = cli.main(["report", inv, "--out", str(tmp_path / "r"), "--no-picture", "--cameras",
                     str(tmp_path / "cameras.json")])
    assert code == 0, capsys.readouterr().err
    page = (tmp_path / "r" / "index.html").read_text()
    assert 'id="cameras"' in page and "<td class=\"num\">10.60.1.9</td><td>-</td><td>NO</td>" in page
    assert "PythonCam VirtualCam-1" in page and "not in the inventory" in page
