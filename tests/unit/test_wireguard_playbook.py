"""The vpn_wireguard role's controller part (keys.yml, action vms_wireguard) run by ansible-playbook.

Keys and client files are made once (0600), a re-run changes nothing, check mode writes nothing,
a given public key is used as is, and a peer leaving the plan loses its files.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAN = json.loads((ROOT / "tests" / "fixtures" / "plans" / "valerus_vpn.json").read_text())
BOB_PUB = "hnb5S+5Ij0MU8K8uIzs6AwXJQD6MEIs2H5pJe3LBIWM="


def run(tmp_path, plan, peers, *extra):
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    play = [{"name": "keys", "hosts": "localhost", "gather_facts": False,
             "vars": {"vpn_wireguard_plan": "{{ lookup('ansible.builtin.file', plan_file) | from_json }}",
                      "vms_vpn_dir": str(tmp_path / "vpn"), "vms_vpn_peers": peers,
                      "vms_public_name": "vpn.example.test",
                      "ansible_python_interpreter": sys.executable},
             "tasks": [{"name": "controller part", "ansible.builtin.include_role": {"name": "vpn_wireguard",
                                                                                    "tasks_from": "keys.yml"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_ROLES_PATH=str(ROOT / "roles"))
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml"),
                           "-e", f"plan_file={tmp_path / 'plan.json'}", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env, check=False)
    out = proc.stdout + proc.stderr
    m = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", out)
    return proc.returncode, (int(m.group(1)) if m else -1), out


def mode(path):
    return oct(path.stat().st_mode & 0o777)


def test_keys_and_client_files(tmp_path):
    peers = [{"name": "alice-laptop", "address": "10.40.8.10/32"},
             {"name": "bob-phone", "address": "10.40.8.11/32", "public_key": BOB_PUB}]
    rc, changed, out = run(tmp_path, PLAN, peers, "--check")
    assert rc == 0 and changed == 1, out
    assert not (tmp_path / "vpn").exists()  # check mode wrote nothing

    rc, changed, out = run(tmp_path, PLAN, peers)
    assert rc == 0 and changed == 1, out
    vpn = tmp_path / "vpn"
    assert sorted(p.name for p in vpn.iterdir()) == ["alice-laptop.conf", "bob-phone.conf", "keys"]
    assert sorted(p.name for p in (vpn / "keys").iterdir()) == ["alice-laptop.key", "edge.key"]
    for path in [vpn / "alice-laptop.conf", vpn / "bob-phone.conf", vpn / "keys" / "edge.key"]:
        assert mode(path) == "0o600", path
    assert mode(vpn) == "0o700" and mode(vpn / "keys") == "0o700"
    alice = (vpn / "alice-laptop.conf").read_text()
    assert (vpn / "keys" / "alice-laptop.key").read_text().strip() in alice
    assert "Endpoint = vpn.example.test:51820" in alice
    assert "<this peer's private key" in (vpn / "bob-phone.conf").read_text()
    assert (vpn / "keys" / "edge.key").read_text().strip() not in out  # no key material in the output

    rc, changed, out = run(tmp_path, PLAN, peers)
    assert rc == 0 and changed == 0, out  # idempotent

    plan = json.loads(json.dumps(PLAN))
    plan["vpn"]["peers"] = [p for p in plan["vpn"]["peers"] if p["name"] != "alice-laptop"]
    rc, changed, out = run(tmp_path, plan, peers[1:])
    assert rc == 0 and changed == 1, out
    assert sorted(p.name for p in vpn.iterdir()) == ["bob-phone.conf", "keys"]
    assert sorted(p.name for p in (vpn / "keys").iterdir()) == ["edge.key"]


def test_bad_given_key_is_named(tmp_path):
    peers = [{"name": "alice-laptop", "address": "10.40.8.10/32", "public_key": "nope"}]
    rc, _changed, out = run(tmp_path, PLAN, peers)
    assert rc != 0
    assert "vms_vpn_peers[alice-laptop].public_key is not a WireGuard key" in out
    assert "Traceback" not in out
