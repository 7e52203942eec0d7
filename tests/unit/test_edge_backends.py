"""Edge backends behind one interface (vms_deploy.edge): the registry, the model, backend selection
and validation, and each backend's golden files (tests/golden/<backend>/).

Regenerate the golden files with VMS_UPDATE_GOLDEN=1 pytest tests/unit/test_edge_backends.py and
review the diff. Expectations come from the inventories (group vms_edge), the argument specs and
the edge contract (docstring of vms_deploy.edge), not from the backends.
"""
from __future__ import annotations

import copy
import ipaddress

import pytest
import yaml
from conftest import EXAMPLES, GOLDEN_PLANS, ROOT, compare_golden, load_json, nvr_home, plan_of, valerus_split
from edge_vendor_cases import cases as vendor_cases
from edge_vendor_cases import example_plan

from vms_deploy import edge
from vms_deploy.diff import diff_plans
from vms_deploy.edge.model import build
from vms_deploy.render import fortios, router_sheet
from vms_deploy.render.nft_common import RenderError
from vms_deploy.render.nftables_edge import render_edge_ruleset
from vms_deploy.validate import validate

GOLDEN = ROOT / "tests" / "golden"


def _spec(path: str, entry: str, option: str) -> dict:
    raw = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    return raw["argument_specs"][entry]["options"][option]


def _example_hosts(name: str) -> dict:
    return yaml.safe_load((ROOT / "inventories" / "examples" / name / "hosts.yml").read_text(encoding="utf-8"))


def _edge_members(inventory: dict) -> list[str]:
    """Hosts of group vms_edge in an example's hosts.yml, read as YAML (not through vms_deploy)."""
    def walk(node: dict, name: str | None) -> list[str]:
        found = list((node or {}).get("hosts") or {}) if name == "vms_edge" else []
        for child, sub in ((node or {}).get("children") or {}).items():
            found += walk(sub, child)
        return found
    return walk(inventory.get("all") or {}, "all")


# --- the interface ----------------------------------------------------------------------------

def test_the_registry_offers_exactly_the_documented_choices():
    inventory = _spec("roles/validate_inventory/meta/argument_specs.yml", "inventory", "vms_edge_backend")
    role = _spec("roles/edge_firewall/meta/argument_specs.yml", "main", "edge_firewall_backend")
    assert inventory["choices"] == role["choices"] == ["nftables", "router_sheet", "fortios", "routeros"]
    assert list(edge.BACKENDS) == inventory["choices"]


@pytest.mark.parametrize("name", ["nftables", "router_sheet", "fortios", "routeros"])
def test_every_backend_exposes_the_same_interface(name):
    module = edge.backend(name)
    assert module.NAME == name
    assert isinstance(module.MANAGED_EDGE, bool) and module.APPLIED.strip()
    assert callable(module.render)


def test_only_the_router_sheet_leaves_the_edge_unmanaged():
    """The FortiGate and the MikroTik are the site's vms_edge host: they filter between zones."""
    assert [n for n in edge.BACKENDS if not edge.backend(n).MANAGED_EDGE] == ["router_sheet"]


def test_an_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="'opnsense' is not one of nftables, router_sheet, fortios, routeros"):
        edge.backend("opnsense")


# --- selection: the default follows group vms_edge ----------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_the_default_backend_follows_group_vms_edge(name):
    want = "nftables" if _edge_members(_example_hosts(name)) else "router_sheet"
    plan = load_json(GOLDEN_PLANS / f"{name}.json")
    assert plan["edge"]["backend"] == want
    assert edge.backend_of(plan) == want


def test_a_plan_without_edge_backend_gets_the_default():
    with_edge = {"edge": {"host": "edge1", "public_address": "100.64.0.9"}}
    without = {"edge": {"host": None, "public_address": "100.64.0.9"}}
    assert (edge.backend_of(with_edge), edge.backend_of(without)) == ("nftables", "router_sheet")


def test_an_explicit_backend_is_recorded_in_the_plan():
    assert plan_of(valerus_split(vms_edge_backend="nftables"))["edge"]["backend"] == "nftables"
    assert plan_of(nvr_home(vms_edge_backend="router_sheet"))["edge"]["backend"] == "router_sheet"


# --- validation -------------------------------------------------------------------------------

def _errors(data, variable="vms_edge_backend"):
    return [e for e in validate(data) if e.variable == variable]


def test_nftables_without_an_edge_host_is_refused_with_the_fix():
    errors = _errors(nvr_home(vms_edge_backend="nftables"))
    assert len(errors) == 1
    err = errors[0]
    assert (err.host, err.value) == ("all", "nftables")
    assert "vms_edge is empty" in err.problem and "vms_edge_backend: router_sheet" in err.fix
    assert validate(nvr_home(vms_edge_backend="router_sheet")) == []  # the fix it names is accepted


def test_the_router_sheet_with_a_managed_edge_host_is_refused_with_the_fix():
    errors = _errors(valerus_split(vms_edge_backend="router_sheet"))
    assert len(errors) == 1
    err = errors[0]
    assert (err.host, err.value) == ("all", "router_sheet")
    assert "edge" in err.problem and "vms_edge_backend: nftables" in err.fix
    assert validate(valerus_split(vms_edge_backend="nftables")) == []


def test_an_unknown_backend_is_refused_with_the_choices():
    errors = _errors(valerus_split(vms_edge_backend="opnsense"))
    assert [e.value for e in errors] == ["opnsense"]
    assert "nftables, router_sheet, fortios, routeros" in errors[0].fix


def test_the_backend_is_site_wide():
    data = valerus_split()
    data["hosts"]["app"]["vms_edge_backend"] = "nftables"  # one host alone: named, not "all" (issue 23, class 3:
    errors = _errors(data)                                  # it would be taken for the whole site, so refused)
    assert {e.host for e in errors} == {"app"} and "hosts only" in errors[0].problem
    data["hosts"]["gw"]["vms_edge_backend"] = "router_sheet"
    assert {e.host for e in _errors(data)} == {"app", "gw"}


def test_a_changed_backend_is_a_reviewed_difference():
    old = load_json(GOLDEN_PLANS / "generic_nvr_home.json")
    legacy = copy.deepcopy(old)
    del legacy["edge"]["backend"]  # a plan written before edge.backend: same backend, no change
    assert not [c for c in diff_plans(legacy, old) if "backend" in c.text]
    new = copy.deepcopy(old)
    new["edge"]["backend"] = "nftables"
    assert [c.text for c in diff_plans(old, new) if "backend" in c.text] == ["~ edge backend: router_sheet -> nftables"]


# --- golden files per backend ---------------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_per_backend(name):
    plan = load_json(GOLDEN_PLANS / f"{name}.json")
    backend = plan["edge"]["backend"]
    files = edge.render(plan)
    assert files
    for filename, text in files.items():
        compare_golden(GOLDEN / backend / f"{name}.{filename}", text)


@pytest.mark.parametrize("name,backend", vendor_cases())
def test_golden_per_vendor_backend(name, backend):
    """Every example, wired to a FortiGate and to a MikroTik (tests/unit/edge_vendor_cases.py)."""
    files = edge.render(example_plan(name, backend))
    assert list(files) == [f"{backend}.yml"]
    for filename, text in files.items():
        compare_golden(GOLDEN / backend / f"{name}.{filename}", text)


@pytest.mark.parametrize("backend", ["fortios", "routeros"])
def test_a_vendor_edge_names_the_missing_interfaces(backend):
    plan = example_plan("xprotect_distributed_dmz", backend)
    del plan["edge"]["interfaces"]["cameras"], plan["edge"]["interfaces"]["dmz"]
    with pytest.raises(RenderError, match="interface of zone.s. cameras, dmz; set vms_edge_interfaces"):
        edge.render(plan)
    plan["edge"]["interfaces"] = {}
    with pytest.raises(RenderError, match="internet, servers, clients, cameras, dmz, management"):
        edge.render(plan)


@pytest.mark.parametrize("backend", ["fortios", "routeros"])
def test_a_vendor_edge_refuses_a_zone_on_the_internets_interface(backend):
    plan = example_plan("valerus_separate_recorders", backend)
    plan["edge"]["interfaces"]["clients"] = plan["edge"]["interfaces"]["internet"]
    with pytest.raises(RenderError, match="clients the Internet's interface"):
        edge.render(plan)


@pytest.mark.parametrize("backend", ["fortios", "routeros"])
def test_a_vendor_edge_refuses_the_wireguard_vpn(backend):
    plan = load_json(ROOT / "tests" / "fixtures" / "plans" / "valerus_vpn.json")
    plan["edge"]["interfaces"] = {"internet": "p1", "servers": "p2", "clients": "p3", "cameras": "p4", "dmz": "p5",
                                  "management": "p6", "vpn": "p7"}
    with pytest.raises(RenderError, match="vpn runs WireGuard on the Linux edge"):
        edge.render(plan, backend)


def test_the_plan_records_the_devices_wiring_only_when_set():
    interfaces = {"internet": "port1", "servers": "port2", "clients": "port3", "cameras": "port4", "dmz": "port5"}
    data = valerus_split(vms_edge_backend="fortios")
    data["hosts"]["edge"].update(vms_edge_interfaces=interfaces, vms_edge_policy_id_base=5000)
    plan = plan_of(data)
    assert plan["edge"] == {"host": "edge", "public_address": "100.64.0.9", "backend": "fortios",
                            "interfaces": interfaces, "policy_id_base": 5000}
    assert fortios.plan_data(plan)["policy_ids"] == [5000, 5999]
    assert "interfaces" not in plan_of(valerus_split())["edge"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_site_gets_a_router_sheet(name):
    """plan.yml writes the sheet for every site (a managed edge's forwards, documented): the rows the
    router_sheet backend renders; where a managed edge applies them, the sheet says nothing is typed."""
    plan = load_json(GOLDEN_PLANS / f"{name}.json")
    files = edge.render(plan, "router_sheet")
    assert files["router.csv"] == router_sheet.to_csv(plan)
    sheet = router_sheet.to_markdown(plan)
    if plan["edge"]["backend"] == "router_sheet":
        assert files["router.md"] == sheet
    else:
        assert f"Nothing to type: the managed edge host {plan['edge']['host']} applies these forwards" in sheet
        assert "Nothing to type" not in files["router.md"]
    compare_golden(GOLDEN / "router_sheet" / f"{name}.router.md", sheet)
    compare_golden(GOLDEN / "router_sheet" / f"{name}.router.csv", files["router.csv"])


def test_the_nftables_backend_is_the_edge_filter():
    plan = load_json(ROOT / "tests" / "unit" / "fixtures" / "nftables" / "plan_valerus_aio.json")
    files = edge.render(plan)
    assert files == {"edge1.nft": render_edge_ruleset(plan, "edge1")}
    assert files["edge1.nft"] == (GOLDEN / "nftables" / "plan_valerus_aio.edge1.nft").read_text(encoding="utf-8")


def test_the_nftables_backend_refuses_a_site_without_an_edge_host():
    plan = load_json(GOLDEN_PLANS / "generic_nvr_home.json")
    with pytest.raises(RenderError, match="needs the edge host.*vms_edge_backend: router_sheet"):
        edge.render(plan, "nftables")


# --- the model --------------------------------------------------------------------------------------

def test_the_model_holds_what_a_backend_needs():
    plan = load_json(GOLDEN_PLANS / "valerus_separate_recorders.json")
    model = build(plan, plan["edge"]["host"])
    names = [s.name for s in model.sets]
    assert len(names) == len(set(names))
    assert model.address_set(model.internal).cidrs  # every zone but the internet
    for flow in model.flows:
        assert model.address_set(flow.sources).cidrs == flow.source_cidrs
        assert model.address_set(flow.destinations).cidrs == flow.destination_cidrs
        assert flow.from_zone != flow.to_zone
    assert {f.name for f in model.forwards} == {f["name"] for f in plan["forwards"]}
    for fwd in model.forwards:
        assert fwd.to_host in plan["hosts"] and model.address_set(fwd.sources).cidrs
    # The edge's own ports: management (SSH) from the management networks, first, so nothing shadows it.
    managed = load_json(GOLDEN_PLANS / "valerus_separate_app_server.json")
    assert managed["zones"]["management"]
    services = build(managed, managed["edge"]["host"]).input_services
    assert [(s.kind, s.protocol, s.ports) for s in services][:1] == [("management", "tcp", (22, 22))]
    # The router sheet's model has no edge host of its own: no input services.
    assert build(plan, None).input_services == ()


def test_recorder_flows_become_one_flow_per_service():
    plan = load_json(GOLDEN_PLANS / "valerus_separate_recorders.json")
    model = build(plan, plan["edge"]["host"])
    recorders = sorted(n for n, h in plan["hosts"].items() if "recorder" in h["components"])
    assert len(recorders) > 1
    keys = [(f.from_zone, f.to_zone, f.component, f.service, f.protocol, f.ports, f.source_cidrs) for f in model.flows]
    assert len(keys) == len(set(keys))


def _aio_plan():
    return load_json(ROOT / "tests" / "unit" / "fixtures" / "nftables" / "plan_valerus_aio.json")


def test_the_model_refuses_an_internet_flow_to_a_host_that_is_not_routed_public():
    plan = _aio_plan()
    host, entry = next((n, h) for n, h in plan["hosts"].items() if h["zone"] != "edge")
    assert not entry.get("routed_public")
    plan["zone_flows"].append({"from": "internet", "to": entry["zone"], "sources": ["0.0.0.0/0"],
                               "destinations": [entry["address"] + "/32"], "to_host": host, "protocol": "tcp",
                               "ports": [3389, 3389], "component": "x", "service": "rdp", "purpose": "test"})
    with pytest.raises(RenderError, match="vms_routed_public"):
        build(plan, plan["edge"]["host"])
    entry["routed_public"] = True  # the one exception the contract allows
    model = build(plan, plan["edge"]["host"])
    assert [f.outside_only for f in model.flows if f.service == "rdp"] == [True]
    assert model.routed_public == (host,)


def test_the_model_refuses_a_camera_flow_from_anything_but_a_recorder():
    plan = _aio_plan()
    cameras = plan["zones"]["cameras"]
    assert cameras
    client = str(next(ipaddress.ip_network(plan["zones"]["clients"][0]).hosts())) + "/32"
    plan["zone_flows"].append({"from": "clients", "to": "cameras", "sources": [client], "destinations": cameras,
                               "to_host": None, "protocol": "tcp", "ports": [554, 554], "component": "recorder",
                               "service": "rtsp", "purpose": "test"})
    with pytest.raises(RenderError, match="only recorders may reach the camera networks"):
        build(plan, plan["edge"]["host"])


def test_the_filter_renders_through_the_interface():
    import importlib.util

    from ansible.errors import AnsibleFilterError

    path = ROOT / "plugins" / "filter" / "vms_nftables.py"
    spec = importlib.util.spec_from_file_location("vms_nftables_filter_edge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.FilterModule().filters()["vms_edge_files"]
    plan = load_json(GOLDEN_PLANS / "generic_nvr_home.json")
    assert files({"plan": plan}, "router_sheet") == edge.render(plan, "router_sheet")
    assert files(plan) == edge.render(plan)
    with pytest.raises(AnsibleFilterError, match="vms_edge_files: .*needs the edge host"):
        files(plan, "nftables")



# --- the edge stage ---------------------------------------------------------------------------------

def _edge_stage(inventory, *extra):
    import os
    import subprocess

    cmd = ["ansible-playbook", "-i", str(inventory), str(ROOT / "playbooks/stages/prechecks.yml"),
           str(ROOT / "playbooks/stages/edge.yml"), *extra]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_edge_stage_writes_the_router_sheet_on_the_controller(tmp_path):
    """A site without a vms_edge host: the edge stage touches no host, writes the sheet where plan.yml
    does and says the forwards are typed by hand; a second run changes nothing."""
    inventory = ROOT / "inventories" / "examples" / "generic_nvr_home"
    rc, out = _edge_stage(inventory, "-e", f"vms_plan_dir={tmp_path}")
    assert rc == 0, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["firewall-rules.csv", "firewall-rules.md", "router.csv",
                                                          "router.md"]
    for name in ("router.csv", "router.md"):
        # router.md ends with its provenance (tests/unit/test_provenance.py); the sheet before it is the golden one
        written = (tmp_path / name).read_text().partition("\n## Provenance and approval\n")[0].rstrip("\n") + "\n"
        assert written == (GOLDEN / "router_sheet" / f"generic_nvr_home.{name}").read_text()
    for name in ("firewall-rules.csv", "firewall-rules.md"):
        assert (tmp_path / name).read_text() == (GOLDEN / "firewall_request" / f"generic_nvr_home.{name}").read_text()
    said = out.replace("\n", " ").replace("        ", "").replace("''", "'")
    assert "type its 4 port forward(s) by hand" in said and "to the customer's firewall team" in said
    # Only the site's backend is included: the nftables backend's tasks do not run, nothing is applied anywhere.
    assert "Tasks of the site's edge backend" in out and "Apply the edge firewall table" not in out, out
    rc, out = _edge_stage(inventory, "-e", f"vms_plan_dir={tmp_path}")
    assert rc == 0, out
    assert "localhost                  : ok=" in out and "changed=0" in out.split("localhost ")[-1].splitlines()[0]


def test_a_changed_device_wiring_is_a_reviewed_difference():
    old = example_plan("valerus_separate_recorders", "fortios")
    new = copy.deepcopy(old)
    new["edge"]["interfaces"]["clients"] = "port7"
    new["edge"]["policy_id_base"] = 5000
    texts = [c.text for c in diff_plans(old, new) if c.text.startswith("~ edge")]
    assert texts == ["~ edge interfaces: cameras=port4, clients=port3, dmz=port5, internet=port1, management=port6, "
                     "servers=port2 -> cameras=port4, clients=port7, dmz=port5, internet=port1, management=port6, "
                     "servers=port2", "~ edge first policy id: none -> 5000"]


def test_nat_reflection_needs_the_nftables_edge_and_is_a_bool():
    """Issue 21 item 6: vms_nat_reflection is validated (type, backend) before anything is touched."""
    assert validate(valerus_split(vms_nat_reflection=True)) == []
    assert plan_of(valerus_split(vms_nat_reflection=True))["edge"].get("nat_reflection") is True
    assert "nat_reflection" not in plan_of(valerus_split())["edge"]
    errors = _errors(nvr_home(vms_nat_reflection=True), "vms_nat_reflection")
    assert len(errors) == 1 and "router_sheet" in errors[0].problem and "split DNS" in errors[0].fix
    typed = _errors(valerus_split(vms_nat_reflection="sometimes"), "vms_nat_reflection")
    assert len(typed) == 1 and "true or false" in typed[0].fix
