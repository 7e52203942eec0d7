"""The edge stage on a FortiGate and on a MikroTik site: the tasks' module arguments are exactly the rendered data.

No device can run here, so the vendor modules are replaced, for this test only, by recording stand-ins
of the same names (fortinet.fortios.*, community.routeros.* in a collection directory that Ansible
searches before the installed collections), and the edge host's connection by a local one. The
stand-ins answer the read modules (fortios_configuration_fact, api_info) from a described device and
record every call's arguments; the test compares them with vms_deploy's rendering of the same plan.
What the real modules do with those arguments is judged elsewhere: test_edge_vendor_schemas.py (their
argument specs and schemas), test_edge_vendor_apply.py (api_modify's own code on a stand-in router).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap

import yaml
from conftest import ROOT

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.render import fortios, routeros

FAKE = textwrap.dedent('''\
    #!/usr/bin/python3
    # WANT_JSON
    # A recording stand-in for the vendor module of the same name (tests/unit/test_edge_vendor_playbook.py).
    import json, os, sys
    NAME = os.path.basename(__file__).rsplit(".", 1)[0].replace("AnsiballZ_", "")
    with open(sys.argv[1]) as f:
        args = json.load(f)
    check = bool(args.get("_ansible_check_mode"))
    args = {k: v for k, v in args.items() if not k.startswith("_ansible")}
    with open(os.environ["VMS_FAKE_RECORD"], "a") as f:
        f.write(json.dumps({"module": NAME, "check": check, "args": args}) + "\\n")
    with open(os.environ["VMS_FAKE_DEVICE"]) as f:
        device = json.load(f)
    if NAME == "fortios_configuration_fact":
        meta = []
        for sel in args["selectors"]:
            path, name = sel["selector"].split("_", 1)
            meta.append({"http_status": 200, "path": path, "name": name, "results": device.get(sel["selector"], [])})
        print(json.dumps({"changed": False, "meta": meta}))
    elif NAME == "api_info":
        print(json.dumps({"changed": False, "result": device.get(args["path"], [])}))
    else:
        print(json.dumps({"changed": os.environ.get("VMS_FAKE_CHANGED", "1") == "1"}))
''')
MODULES = {("fortinet", "fortios"): ["fortios_configuration_fact", "fortios_firewall_address",
                                     "fortios_firewall_addrgrp", "fortios_firewall_service_custom",
                                     "fortios_firewall_vip", "fortios_firewall_policy"],
           ("community", "routeros"): ["api_modify", "api_info", "api"]}
WIRING = {"fortios": {"internet": "port1", "servers": "port2", "clients": "port3", "cameras": "port4",
                      "management": "port5"},  # the controller (vms_win_controller_address) is outside every site LAN
          "routeros": {"internet": "ether1", "servers": "ether2", "clients": "ether3", "cameras": "ether4",
                       "management": "ether5"}}
SECRET = "s3cret-api-pw"


def _collections(tmp_path):
    root = tmp_path / "collections"
    for (namespace, name), modules in MODULES.items():
        base = root / "ansible_collections" / namespace / name
        (base / "plugins" / "modules").mkdir(parents=True)
        (base / "meta").mkdir()
        (base / "meta" / "runtime.yml").write_text("---\nrequires_ansible: '>=2.15'\n")
        for module in modules:
            (base / "plugins" / "modules" / f"{module}.py").write_text(FAKE)
    return root


def _inventory(tmp_path, backend):
    """The separate-recorders example, its vms_edge host made the customer's FortiGate or MikroTik."""
    inventory = tmp_path / "inventory"
    shutil.rmtree(inventory, ignore_errors=True)
    shutil.copytree(ROOT / "inventories" / "examples" / "valerus_separate_recorders", inventory)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    edge = hosts["all"]["children"]["vms_edge"]["hosts"]
    name = next(iter(edge))
    edge[name].update({"vms_edge_interfaces": WIRING[backend], "ansible_user": "vms-deploy",
                       "ansible_password": SECRET})
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    group_vars = inventory / "group_vars" / "all.yml"
    group_vars.write_text(group_vars.read_text() + f"\nvms_edge_backend: {backend}\n")
    return inventory, name


def _run(tmp_path, backend, device, *extra, playbooks=("stages/prechecks.yml", "stages/edge.yml"), changed=True):
    inventory, edge = _inventory(tmp_path, backend)
    record = tmp_path / f"record-{len(list(tmp_path.glob('record-*')))}.jsonl"
    (tmp_path / "device.json").write_text(json.dumps(device))
    collections = tmp_path / "collections"
    if not collections.exists():
        _collections(tmp_path)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections),
           "VMS_FAKE_RECORD": str(record), "VMS_FAKE_DEVICE": str(tmp_path / "device.json"),
           "VMS_FAKE_CHANGED": "1" if changed else "0",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    cmd = ["ansible-playbook", "-i", str(inventory), *(str(ROOT / "playbooks" / p) for p in playbooks),
           "-e", "ansible_connection=local", *extra]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False)
    calls = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    plan = compile_plan(load_inventory(inventory))
    return proc.returncode, proc.stdout + proc.stderr, calls, plan, edge


def _args(calls, module):
    return [c["args"] for c in calls if c["module"] == module]


def test_the_fortigate_gets_exactly_the_rendered_objects_stale_ones_removed_block_first(tmp_path):
    probe = compile_plan(load_inventory(_inventory(tmp_path / "probe", "fortios")[0]))
    data = fortios.plan_data(probe)
    first, last = data["policy_ids"]
    device = {"firewall_policy": [{"policyid": 1, "name": "lan-out", "comments": ""},
                                  {"policyid": first + 900, "name": "x", "comments": data["owner"] + "old"}],
              "firewall_vip": [{"name": data["prefix"] + "fwd-old", "comment": data["owner"] + "old forward"},
                               {"name": data["prefix"] + "theirs", "comment": "the customer's"}]}
    rc, out, calls, plan, edge = _run(tmp_path, "fortios", device)
    assert rc == 0, out
    assert fortios.plan_data(plan) == data
    for key in ("firewall_address", "firewall_addrgrp", "firewall_service_custom", "firewall_vip", "firewall_policy"):
        present = [a for a in _args(calls, f"fortios_{key}") if a.get("state") == "present"]
        assert present == [{"vdom": "root", "state": "present", key: entry} for entry in data[key]], key
    removed = [(c["module"], c["args"]) for c in calls if c["args"].get("state") == "absent"]
    assert removed == [("fortios_firewall_policy", {"vdom": "root", "state": "absent",
                                                    "firewall_policy": {"policyid": first + 900}}),
                       ("fortios_firewall_vip", {"vdom": "root", "state": "absent",
                                                 "firewall_vip": {"name": data["prefix"] + "fwd-old"}})]
    moves = [a for a in _args(calls, "fortios_firewall_policy") if a.get("action") == "move"]
    order = [p["policyid"] for p in device["firewall_policy"]]
    assert moves == [{"vdom": "root", "action": "move", **m} for m in fortios.moves(data, order)]
    assert moves[0] == {"vdom": "root", "action": "move", "self": str(first), "before": "1"}
    assert SECRET not in out

    # --check: the modules compare (check mode), nothing is moved, the moves are listed.
    rc, out, calls, plan, edge = _run(tmp_path, "fortios", device, "--check", "--diff")
    assert rc == 0, out
    changing = [c for c in calls if c["module"] != "fortios_configuration_fact"]
    assert changing and all(c["check"] for c in changing)
    assert not [c for c in changing if c["args"].get("action") == "move"]
    assert "would move policy" in out


def test_a_collision_stops_the_fortigate_run_before_anything_changes(tmp_path):
    probe = compile_plan(load_inventory(_inventory(tmp_path / "probe", "fortios")[0]))
    data = fortios.plan_data(probe)
    device = {"firewall_policy": [{"policyid": data["policy_ids"][0] + 3, "name": "hand-made", "comments": "ops"}]}
    rc, out, calls, _, _ = _run(tmp_path, "fortios", device)
    assert rc != 0
    assert "Nothing was changed on the FortiGate" in out and "set vms_edge_policy_id_base" in out
    assert [c["module"] for c in calls] == ["fortios_configuration_fact"]


def test_the_mikrotik_gets_exactly_the_rendered_calls_and_the_jump_first(tmp_path):
    probe = compile_plan(load_inventory(_inventory(tmp_path / "probe", "routeros")[0]))
    data = routeros.plan_data(probe)
    device = {"ip firewall filter": [
        {".id": "*1", "chain": "forward", "action": "accept", "ipsec-policy": "in,ipsec", "comment": "defconf"},
        {".id": "*2A", "chain": "forward", "action": "jump", "jump-target": data["chain"],
         "out-interface-list": "x", "comment": data["owner"] + "to the rules of the site"}]}
    rc, out, calls, plan, edge = _run(tmp_path, "routeros", device)
    assert rc == 0, out
    assert routeros.plan_data(plan) == data
    inventory_host = yaml.safe_load((tmp_path / "inventory" / "hosts.yml").read_text())
    address = inventory_host["all"]["children"]["vms_edge"]["hosts"][edge]["ansible_host"]
    connection = {"hostname": address, "username": "vms-deploy", "password": SECRET, "tls": True,
                  "validate_certs": True}
    assert _args(calls, "api_modify") == [{**connection, "ensure_order": False, **call} for call in data["calls"]]
    assert _args(calls, "api_info") == [{**connection, "path": "ip firewall filter"}]
    move = {**connection, "path": "ip firewall filter", "cmd": "move numbers=*2A destination=*1"}
    assert _args(calls, "api") == [move]
    assert SECRET not in out

    rc, out, calls, _, _ = _run(tmp_path, "routeros", device, "--check")
    assert rc == 0, out
    assert all(c["check"] for c in calls) and not _args(calls, "api")
    assert "would move the site's jump ahead of forward rule *1" in out


def test_the_audit_reports_the_vendor_edge_from_check_mode(tmp_path):
    """audit.yml on a FortiGate site: the edge's finding comes from the modules' check-mode comparison
    (the Windows hosts are left out with --limit; they are not audited here)."""
    limit = ("--limit", "vedge:localhost")
    rc, out, calls, _, _ = _run(tmp_path, "fortios", {}, *limit, playbooks=("audit.yml",), changed=True)
    assert rc == 2, out
    assert "DRIFT   vedge: edge firewall and forwards (fortios): differs from the plan:" in out
    changing = [c for c in calls if c["module"] != "fortios_configuration_fact"]  # the reads run for real
    assert changing and all(c["check"] for c in changing)
    rc, out, calls, _, _ = _run(tmp_path, "fortios", {}, *limit, playbooks=("audit.yml",), changed=False)
    assert "OK      vedge: edge firewall and forwards (fortios): every object of the site matches" in out, out
