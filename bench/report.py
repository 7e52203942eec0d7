#!/usr/bin/env python3
"""Write docs/BENCHMARKS.md from build/bench/results/*.json (and bench/findings.md, hand-written).

Every number in the report comes from a result file; a bench that did not run is listed as not run.
Each target is stated with its measured value and whether it is met.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, machine, read_results  # noqa: E402

OUT = ROOT / "docs" / "BENCHMARKS.md"


def s(v: dict | None, unit: str = "s") -> str:
    """median (min-max, runs) of a stats dict."""
    if not v:
        return "n/a"
    return f"{v['median']:g} {unit} ({v['min']:g}-{v['max']:g}, n={v['runs']})"


def met(flag) -> str:
    return "n/a" if flag is None else ("**met**" if flag else "**missed**")


def mib(b) -> str:
    return "n/a" if b is None else f"{b / 1048576:.1f} MiB"


def plan_section(name: str, r: dict) -> list[str]:
    lines = [f"### Plan: `{name}`" + (f" (PYTHONPATH={r['pythonpath']})" if r.get("pythonpath") else
                                       " (the package as it is in the tree)"),
             "", f"Finished {r['finished']}; load average at the end "
                 f"{', '.join(f'{x:.1f}' for x in r['loadavg_at_end'])}.",
             "", "| product | recorders | cameras | client nets | compile wall | compile CPU | peak memory | plan JSON "
             "| rules | rule sources |", "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    for row in r["compiler"]:
        product = row.get("product", "valerus")
        if "skipped" in row:
            lines.append(f"| {product} | {row['recorders']} | | | skipped: {row['skipped']} | | | | | |")
            continue
        lines.append(f"| {product} | {row['recorders']} | {row['cameras']} | {row['client_networks']} | "
                     f"{s(row['compile_seconds'])} | {s(row.get('compile_cpu_seconds'))} | {mib(row['peak_bytes'])} | "
                     f"{row['plan_bytes'] / 1024:.0f} KiB | {row['rules']} | {row['rule_sources']} |")
    growths = r.get("growth")
    if not isinstance(growths, dict) or "slope" in growths:  # a result written before products were swept
        growths = {"valerus": growths}
    lines.append("")
    for product, g in growths.items():
        if g:
            lines.append(f"Growth ({product}) {g['from']} -> {g['to']} recorders (x{g['size_ratio']:g}): "
                         f"compile CPU x{g['time_ratio']:g}, "
                         f"log-log slope {g['slope']:g} against {g['nlogn_slope']:g} for n log n. "
                         f"Target *compiler no worse than n log n*: {met(g['met'])}.")
        else:
            lines.append(f"Growth ({product}): not enough sizes >= 100 were measured. "
                         "Target *compiler no worse than n log n*: not measured.")
    for t in r.get("compile_targets", []):
        lines += ["", f"Target *compile_plan for {t['recorders']} recorders ({t['cameras']} cameras) under "
                      f"{t['limit']:g} s* ({t['product']}, medians): wall {t['seconds']:.3g} s "
                      f"{met(t.get('wall_met'))}, CPU {t['cpu_seconds']:.3g} s {met(t.get('cpu_met'))}; "
                      f"both: {met(t['met'])}."]
    if r.get("playbook"):
        lines += ["", "| `playbooks/plan.yml` | wall (Ansible start-up included) | CPU (all processes) |",
                  "| ---: | --- | --- |"]
        lines += [f"| {p.get('product', 'valerus')} {p['recorders']} recorders | {s(p['seconds'])} | "
                  f"{s(p.get('cpu_seconds'))} |" for p in r["playbook"]]
        ratios = r.get("playbook_ratios") or ([r["playbook_ratio"]] if r.get("playbook_ratio") else [])
        for ratio in ratios:
            lines += ["", f"Target *{ratio.get('product', 'valerus')}: {ratio['large']} recorders plan in under 2x "
                          f"the time of {ratio['small']}*: wall x{ratio['ratio']:g}, "
                          f"CPU x{ratio.get('cpu_ratio', 0):g}, {met(ratio['met'])}."]
    return lines + [""]


def splice_plan_sections(text: str, sections: list[str]) -> str:
    """`text` (docs/BENCHMARKS.md) with its "### Plan: ..." sections replaced by `sections`, the rest kept: the
    plan bench can be re-run and reported alone, without the lab benches' result files."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("### Plan: ")]
    if not starts:
        raise SystemExit("report.py --only plan: no '### Plan:' section in docs/BENCHMARKS.md to replace")
    end = next(i for i in range(starts[-1] + 1, len(lines) + 1)
               if i == len(lines) or lines[i].startswith(("### ", "## ")))
    return "\n".join(lines[:starts[0]] + sections + lines[end:])


def rules_section(r: dict) -> list[str]:
    lin, win = r["linux"], r["windows"]
    lines = [f"### Rules on the hosts ({r['recorders']} recorders, {r['cameras']} cameras, "
             f"{r['client_networks']} client networks)", "",
             "| host | nft rules | sets | set elements | rules without sets (one per source) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for host, c in lin["named"].items():
        lines.append(f"| {host} | {c['rules']} | {c['sets']} | {c['set_elements']} | {c['rules_without_sets']} |")
    rec = lin["recorders"]
    lines.append(f"| every recorder (median) | {rec['rules']['median']:g} | {rec['sets']['median']:g} | "
                 f"{rec['set_elements']['median']:g} | {rec['rules_without_sets']['median']:g} |")
    lines += ["", f"Whole site ({lin['hosts']} Linux hosts): {lin['total_rules']} rules and "
                  f"{lin['total_set_elements']} "
                  f"set elements, against {lin['total_rules_without_sets']} rules without sets.", ""]
    if win.get("hosts"):
        lines += [f"### Windows, on paper ({win['hosts']} Windows hosts, same site with vms_platform windows)", "",
                  "| host | firewall rules | WinRM module runs: one script | one task per rule |",
                  "| --- | ---: | ---: | ---: |"]
        for host, t in win["named"].items():
            lines.append(f"| {host} | {t['rules']} | {t['script']} | {t['per_rule_module']} |")
        lines += ["", f"Site total: {win['script_runs_total']} script runs against "
                      f"{win['per_rule_tasks_total']} per-rule "
                      "tasks. Counted from the rendered plan; each module run is itself several WinRM HTTP exchanges "
                      "(shell open, command, output, close), the same for both, so the ratio holds for round trips. "
                      "Nothing here ran against a Windows host.", ""]
    return lines


def apply_section(r: dict) -> list[str]:
    o = r["owned_table"]
    return [
        "### Apply, Linux (one lab container, one playbook run per sample)", "",
        f"Recorder {r['host']} of a synthetic site with {r['client_networks']} client networks: owned table "
        f"{o['rules']} rules, {o['sets']} sets, {o['set_elements']} set elements; the per-rule baseline is "
        f"{r['per_rule_tasks']} tasks (`ansible.builtin.command: nft add rule ...` in a loop; "
        "iptables is not in the lab "
        f"image, so this stands in for `ansible.builtin.iptables`), {r['per_rule_live_rules']} live rules.", "",
        "| what | task time |", "| --- | --- |",
        f"| vms_nft_table, first apply | {s(r['owned_apply_seconds'])} |",
        f"| vms_nft_table, no-change re-run (task) | {s(r['owned_rerun_seconds'])} |",
        f"| vms_nft_table, no-change re-run (module alone, in the container) | {s(r.get('rerun_module_seconds'))} |",
        f"| one task per rule | {s(r['per_rule_seconds'])} |", "",
        f"Target *at least 10x faster*: x{r['speedup']:g}, {met(r['speedup_met'])}. "
        f"Target *no-change re-run under 1 s of module time*: {met(r['rerun_met'])}.", ""]


def converge_section(r: dict) -> list[str]:
    lines = ["### Converge (lab site, `playbooks/site.yml`)", ""]
    if r.get("from_log"):
        lines += [f"The run stopped before writing its result; rows rebuilt from the progress lines it printed "
                  f"({r['from_log']}).", ""]
    lines += [
             "| recorders | hosts | first run | changed | no-change re-run | changed on re-run |",
             "| ---: | ---: | ---: | ---: | --- | --- |"]
    for row in r["sizes"]:
        lines.append(f"| {row['recorders']} | {row['hosts']} | {row['first_seconds']:g} s | {row['first_changed']} | "
                     f"{s(row['rerun_seconds'])} | {row['rerun_changed']} |")
    ratio = r.get("ratio")
    if ratio:
        rerun = "not measured" if ratio["rerun_ratio"] is None else f"x{ratio['rerun_ratio']:g}"
        lines += ["", f"Target *{ratio['large']} recorders cost under 2x one*: first run x{ratio['first_ratio']:g}, "
                      f"re-run {rerun}, {met(ratio['met'])}."]
    tuning = next((row["tuning"] for row in r["sizes"] if row.get("tuning")), None)
    if tuning:
        lines += ["", "#### Ansible tuning the toolkit ships (largest lab)", "",
                  "pipelining and forks: re-run of `site.yml --tags firewall`; "
                  "fact gathering and fact caching: a probe "
                  "play that gathers facts (the toolkit's own plays all set `gather_facts: false`, so these settings "
                  "only matter to plays users add).", "",
                  "| setting | off | on (shipped) |", "| --- | --- | --- |"]
        lines += [f"| {k} | {s(v['off'])} | {s(v['on'])} |" for k, v in tuning.items()]
    return lines + [""]


def rerun_section(r: dict) -> list[str]:
    """bench_rerun.py: a no-change re-run of the demo site against `ansible all -m ping`, same session."""
    cur = r["current"]
    lines = ["### No-change re-run against ping (demo site, `inventories/lab/all_in_one`)", "",
             ("`bench/bench_rerun.py`: the lab is converged once, then `ansible all -m ping` and a no-change "
              "`playbooks/site.yml` run alternate, so both see the same load."), "",
             "| | wall | CPU (incl. children) | changed | plan compiles | certificates role |",
             "| --- | --- | --- | --- | --- | --- |",
             f"| `ansible all -m ping` | {s(cur['ping_seconds'])} | | | | |",
             (f"| no-change `site.yml` | {s(cur['rerun_seconds'])} | {s(cur['rerun_cpu'])} | {cur['changed']} | "
              f"{cur['compiles']} | {s(cur['certificates_seconds'])} |")]
    base = r.get("baseline")
    if base:
        lines.append(f"| no-change `site.yml`, {base['label']} | {s(base['rerun_seconds'])} | {s(base['rerun_cpu'])} | "
                     f"{base['changed']} | {base['compiles']} | {s(base['certificates_seconds'])} |")
    lines += ["", f"Re-run / ping: **x{cur['ratio']:g}** (median over median; per pair {cur['ratio_per_run']})."]
    if base:
        lines.append(f"Before: x{round(base['rerun_seconds']['median'] / cur['ping_seconds']['median'], 1):g} "
                     "against the same ping median.")
    if cur.get("load_average"):
        lines.append(f"1-minute load average after each re-run: {cur['load_average']}; tasks run per re-run "
                     f"{cur.get('tasks_run')}, skipped {cur.get('tasks_skipped')}.")
    if cur.get("parts"):
        rows = [(k, v, (base or {}).get("parts", {}).get(k))
                for k, v in sorted(cur["parts"].items(), key=lambda kv: -kv[1])]
        rows += [(k, None, v) for k, v in (base or {}).get("parts", {}).items() if k not in cur["parts"]]
        lines += ["", "Where a re-run's seconds go (median task seconds per role; tasks outside a role per play):", "",
                  "| role or play | now | " + (f"{base['label']} |" if base else ""),
                  "| --- | ---: | " + ("---: |" if base else "")]
        for key, now, before in rows:
            cells = [key, "" if now is None else f"{now:g} s"]
            cells += ["" if before is None else f"{before:g} s"] if base else []
            lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def main(argv: list[str] = ()) -> int:
    if list(argv) == ["--only", "plan"]:
        return only_plan()
    if argv:
        raise SystemExit("usage: report.py [--only plan]")
    results = read_results()
    m = machine()
    lines = ["# Benchmarks", "",
             "Generated by `bench/report.py` from `build/bench/results/*.json`; run `bench/run_all.sh` to measure "
             "again (see `bench/README.md`). Times are medians with (min-max, number of runs). No test asserts "
             "on time.", "", "## Machine", "",
             "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in m.items() if k != "nft_in_lab_image"]
    lines += ["", "A shared 2-CPU virtual machine: the load average is given per bench, and wall times move by "
                  "10-30% between runs even when it is low; CPU times and counts are steadier. The lab's "
                  "containers share the same two CPUs.", "",
              "## Results", ""]
    for name in sorted(k for k in results if k.startswith("plan") and k != "plan_smoke"):
        lines += plan_section(name, results[name])
    lines += rules_section(results["rules"]) if "rules" in results else ["### Rules: not run", ""]
    lines += apply_section(results["apply"]) if "apply" in results else ["### Apply: not run", ""]
    lines += converge_section(results["converge"]) if "converge" in results else ["### Converge: not run", ""]
    lines += (rerun_section(results["rerun"]) if "rerun" in results
              else ["### No-change re-run against ping: not run", ""])
    findings = ROOT / "bench" / "findings.md"
    if findings.exists():
        lines += [findings.read_text(encoding="utf-8").rstrip(), ""]
    OUT.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(OUT)
    return 0


def only_plan() -> int:
    """Rewrite only the plan sections and the findings of docs/BENCHMARKS.md (from the plan results and
    bench/findings.md), keeping the other benches' sections as they are."""
    results = read_results()
    sections = [line for name in sorted(k for k in results if k.startswith("plan") and k != "plan_smoke")
                for line in plan_section(name, results[name])]
    if not sections:
        raise SystemExit("report.py --only plan: no plan result in build/bench/results (run bench/bench_plan.py)")
    text = splice_plan_sections(OUT.read_text(encoding="utf-8"), sections)
    findings = (ROOT / "bench" / "findings.md").read_text(encoding="utf-8").rstrip()
    head = findings.split("\n", 1)[0]
    if head in text:
        text = text[:text.index(head)] + findings + "\n"
    OUT.write_text(text.rstrip() + "\n", encoding="utf-8")
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
