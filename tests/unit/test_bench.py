"""The benchmark generators and scripts work at a tiny size (functional only: nothing is timed)."""
from __future__ import annotations

import importlib.util
import ipaddress
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # bench/ is a directory of scripts at the top of the checkout, not installed

from bench import bench_apply, bench_plan, bench_rules, common, gen_site, report  # noqa: E402
from vms_deploy.inventory import load_inventory  # noqa: E402
from vms_deploy.pipeline import compile_plan  # noqa: E402


def _site(tmp_path, recorders=3, clients=2, platform="linux"):
    out = gen_site.write_site(tmp_path / "site", *gen_site.plan_site(recorders, clients=clients, platform=platform))
    return compile_plan(load_inventory(out))


def test_plan_site_compiles_with_the_requested_sizes(tmp_path):
    plan = _site(tmp_path, recorders=3, clients=2)
    recorders = sorted(h for h in plan["hosts"] if h.startswith("rec"))
    assert recorders == ["rec0001", "rec0002", "rec0003"]
    assert set(plan["hosts"]) == {"app1", "gw1", "edge1", *recorders}
    assert plan["topology"] == "separate_app_server"  # app1 records nothing itself
    assert plan["zones"]["clients"] == ["10.64.0.0/24", "10.64.1.0/24"]
    assert len(plan["zones"]["cameras"]) == 1  # 60 cameras fit one /24
    assert plan["forwards"], "the synthetic site forwards the gateway ports"


def test_defaults_follow_the_issue_sizes():
    assert gen_site.default_cameras(1000) == 20_000
    assert gen_site.default_cameras(5000) == 20_000
    assert gen_site.default_clients(1) == gen_site.default_clients(1000) == 200
    assert len(gen_site.camera_networks(20_000)) == 80
    addresses = {gen_site.recorder_address(i) for i in range(1, 1001)}
    assert len(addresses) == 1000
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.1.0.0/16") for a in addresses)


def test_lab_site_stays_on_the_bench_subnet_and_builds_a_lab_spec(tmp_path):
    hosts, group_vars = gen_site.lab_site(3)
    out = gen_site.write_site(tmp_path / "lab", hosts, group_vars)
    data = load_inventory(out)
    plan = compile_plan(data)
    assert sorted(plan["hosts"]) == ["app1", "edge1", "rec0001", "rec0002", "rec0003"]
    subnet = ipaddress.ip_network("172.29.200.0/24")
    for host, hvars in data["hosts"].items():
        assert ipaddress.ip_address(hvars["vms_address"]) in subnet, host
    spec_path = ROOT / "lab" / "roles" / "lab" / "filter_plugins" / "vms_lab.py"
    spec = importlib.util.spec_from_file_location("vms_lab_filter", spec_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    members = [{"host": h, "container": v["ansible_host"], "interfaces": v["vms_lab_interfaces"]}
               for h, v in data["hosts"].items()]
    lab = module.vms_lab_spec(members, group_vars["vms_lab_name"], group_vars["vms_lab_networks"], "edge1", [])
    assert [n["subnet"] for n in lab["networks"]] == ["172.29.200.0/24"]
    assert len(lab["containers"]) == 5


def test_generator_cli_refuses_bad_sizes(tmp_path, capsys):
    assert gen_site.main(["plan", "--recorders", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--recorders must be at least 1, got 0" in capsys.readouterr().err
    assert gen_site.main(["lab", "--recorders", "500", "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert gen_site.main(["plan", "--recorders", "2", "--clients", "1", "--out", str(tmp_path / "z")]) == 0
    assert (tmp_path / "z" / "group_vars" / "all.yml").is_file()


def test_per_rule_baseline_has_a_rule_per_source_and_sets_do_not(tmp_path):
    plan = _site(tmp_path, recorders=2, clients=5)
    commands = bench_apply.per_rule_commands(plan, "rec0001")
    sources = sum(len(r["sources"]) for r in plan["hosts"]["rec0001"]["inbound"])
    assert len(commands) == sources + 4  # lo, established, invalid, icmp
    assert all(c[:6] == ["nft", "add", "rule", "inet", bench_apply.LOOP_TABLE, "input"] for c in commands)
    from vms_deploy.render.nftables_host import render_host_ruleset
    counts = bench_apply.count_ruleset(render_host_ruleset(plan, "rec0001"))
    assert counts["rules"] < len(commands)
    assert counts["set_elements"] >= 5


def test_count_ruleset_counts_chain_statements_and_elements():
    text = ("table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
            "\t\telements = { 10.0.0.0/24, 10.0.1.0/24, 10.0.2.5 }\n\t}\n"
            "\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
            "\t\tiif \"lo\" accept\n\t\tip saddr @s tcp dport 22 accept\n\t}\n}\n")
    assert bench_apply.count_ruleset(text) == {"rules": 2, "set_elements": 3, "sets": 1}


def test_task_times_reads_the_json_callback():
    out = "warning text\n" + json.dumps({"plays": [{"tasks": [{"task": {"name": "a", "duration": {
        "start": "2026-01-01T00:00:00.000000Z", "end": "2026-01-01T00:00:01.500000Z"}}}]}], "stats": {}})
    assert bench_apply.task_times(out) == {"a": 1.5}


def test_rule_counts_and_windows_round_trips(tmp_path):
    linux = bench_rules.linux_counts(_site(tmp_path / "l", recorders=3, clients=20))
    assert linux["hosts"] == 6
    assert linux["recorders"]["rules"]["max"] < linux["recorders"]["rules_without_sets"]["min"]
    windows = bench_rules.windows_counts(_site(tmp_path / "w", recorders=3, clients=2, platform="windows"))
    assert windows["hosts"] == 5  # every host but the edge
    assert windows["script_runs_total"] == 5
    assert windows["per_rule_tasks_total"] > windows["script_runs_total"]


def test_growth_compares_with_n_log_n():
    def row(n, cpu):
        return {"recorders": n, "compile_cpu_seconds": {"median": cpu}}
    linear = bench_plan.growth([row(10, 0.1), row(500, 5.0), row(1000, 10.0)])
    assert linear["from"] == 500 and linear["slope"] == 1.0 and linear["met"] is True
    quadratic = bench_plan.growth([row(500, 5.0), row(1000, 20.0)])
    assert quadratic["slope"] == 2.0 and quadratic["met"] is False
    assert bench_plan.growth([row(10, 1.0), row(100, 2.0)]) is None


def test_compiler_sweep_runs_a_tiny_size(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_plan, "BUILD", tmp_path)
    monkeypatch.setattr(gen_site, "default_clients", lambda recorders: 2)
    rows = bench_plan.compiler_sweep([1], runs=2, max_seconds=600)
    assert rows[0]["recorders"] == 1 and rows[0]["compile_seconds"]["runs"] == 2
    assert rows[0]["rules"] > 0 and rows[0]["peak_bytes"] > 0


def test_report_writes_every_section_from_results(tmp_path, monkeypatch):
    results = tmp_path / "results"
    monkeypatch.setattr(common, "RESULTS", results)
    monkeypatch.setattr(report, "OUT", tmp_path / "BENCHMARKS.md")
    stat = common.stats([1.0, 2.0, 3.0])
    common.write_result("plan", {"loadavg_at_end": [1.0, 1.0, 1.0], "pythonpath": "", "compiler": [
        {"recorders": 1, "cameras": 20, "client_networks": 2, "compile_seconds": stat, "compile_cpu_seconds": stat,
         "peak_bytes": 1048576, "plan_bytes": 2048, "rules": 5, "rule_sources": 9},
        {"recorders": 1000, "skipped": "size 1 took more than 1 s"}], "growth": None,
        "playbook": [{"recorders": 2, "seconds": stat, "cpu_seconds": stat}],
        "playbook_ratio": None})
    monkeypatch.setattr(report, "read_results", common.read_results)
    assert report.main() == 0
    text = (tmp_path / "BENCHMARKS.md").read_text()
    assert "| 1 | 20 | 2 | 2 s (1-3, n=3)" in text
    assert "skipped: size 1 took more than 1 s" in text
    assert "### Apply: not run" in text and "### Converge: not run" in text


def test_converge_rows_from_an_interrupted_log():
    from bench import bench_converge
    text = ("converge r1: first run 262.2 s (9 changed)\nconverge r1: re-runs [200.5, 190.0] changed [0, 0]\n"
            "converge r10: first run 400.0 s (30 changed)\ntuning pipelining: 50.5 s off, 40.25 s on\n")
    rows = bench_converge.rows_from_log(text)
    assert [r["recorders"] for r in rows] == [1, 10]
    assert rows[0]["first_seconds"] == 262.2 and rows[0]["first_changed"] == 9
    assert rows[0]["rerun_seconds"]["median"] == 195.25
    assert rows[0]["rerun_changed"] == [0, 0]
    assert rows[1]["rerun_seconds"] is None
    assert rows[1]["tuning"]["pipelining"]["on"]["median"] == 40.25 and "tuning" not in rows[0]


def test_xprotect_plan_site_has_the_mobile_server_alone_in_the_dmz(tmp_path):
    out = gen_site.write_site(tmp_path / "x", *gen_site.plan_site(3, clients=2, product="xprotect"))
    plan = compile_plan(load_inventory(out))
    assert plan["product"] == "xprotect" and plan["hosts"]["gw1"]["zone"] == "dmz"
    assert {f["to_host"] for f in plan["forwards"]} == {"gw1"}  # only the Mobile Server is forwarded (seed 001)


def test_plan_targets_from_rows():
    stat = common.stats
    assert bench_plan.parse_playbook_sites(["valerus:2,1000", "xprotect:2,500"]) == [
        ("valerus", 2), ("valerus", 1000), ("xprotect", 2), ("xprotect", 500)]
    rows = [{"product": p, "recorders": n, "seconds": stat([w]), "cpu_seconds": stat([c])}
            for p, n, w, c in [("valerus", 2, 1.0, 1.0), ("valerus", 1000, 1.5, 1.9), ("xprotect", 2, 1.0, 1.0),
                               ("xprotect", 500, 2.4, 1.5)]]
    ratios = {r["product"]: r for r in bench_plan.playbook_ratios(rows)}
    assert ratios["valerus"]["met"] is True and ratios["xprotect"]["met"] is False
    assert (ratios["xprotect"]["small"], ratios["xprotect"]["large"], ratios["xprotect"]["ratio"]) == (2, 500, 2.4)
    row = {"product": "valerus", "recorders": 1000, "cameras": 20000, "compile_seconds": stat([0.4, 0.45]),
           "compile_cpu_seconds": stat([0.52])}
    target = bench_plan.compile_target([{"product": "valerus", "recorders": 10}, row])
    assert target["limit"] == 0.5 and target["met"] is False  # the CPU median is over the limit
    assert target["wall_met"] is True and target["cpu_met"] is False
    assert bench_plan.compile_target([{"recorders": 1000, "skipped": "x"}]) is None


def test_report_can_rewrite_only_the_plan_sections():
    text = "# B\n\n## Results\n\n### Plan: `plan` (old)\n\nold rows\n\n### Rules (x)\n\nrules stay\n\n## Targets\n"
    out = report.splice_plan_sections(text, ["### Plan: `plan` (new)", "", "new rows", ""])
    assert out == text.replace("(old)\n\nold rows", "(new)\n\nnew rows")
