#!/usr/bin/env python3
"""Converge benchmark: a whole lab site, first run and no-change re-run, 1 recorder against N.

For each size, generate a lab inventory (bench/gen_site.py lab: app1 + N recorders + edge1, Linux
containers on the bench's own 172.29.200.0/24), bring it up with playbooks/lab_up.yml, then time
playbooks/site.yml: the first run, and --reruns no-change re-runs (their changed count is recorded:
a re-run that changes something is reported, not hidden). The lab is torn down after each size.

With --tuning (on the largest size, while its lab is up) each Ansible setting the toolkit ships in
ansible.cfg is measured on and off: pipelining and forks (20 against Ansible's default 5) on a
re-run of `playbooks/site.yml --tags firewall` (every host, the stage that reaches them all).
No play of the toolkit gathers facts (every play sets gather_facts: false), so the fact settings are
measured on a probe play that does gather (build/bench/lab/facts.yml, one debug task): the shipped
minimal gather_subset against all facts, and jsonfile fact caching with `gathering = smart` (a
second run reuses the cache) against in-memory caching.

    python3 bench/bench_converge.py --sizes 1,10 --reruns 2 --tuning
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import gen_site  # noqa: E402
from bench.common import BUILD, run, stats, write_result  # noqa: E402

JSON_CB = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}

# name -> (setting off, setting on as shipped). Each pair differs in one knob only.
TUNING = {
    "pipelining": ("site", {"ANSIBLE_PIPELINING": "False"}, {"ANSIBLE_PIPELINING": "True"}),
    "forks": ("site", {"ANSIBLE_FORKS": "5"}, {"ANSIBLE_FORKS": "20"}),
    "fact_gathering": ("facts", {"ANSIBLE_GATHER_SUBSET": "all", "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.memory"},
                       {"ANSIBLE_GATHER_SUBSET": "!all,!min,network",
                        "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.memory"}),
    # inject_facts_as_vars = False: facts only under ansible_facts, not copied into top-level variables.
    "fact_injection": ("facts", {"ANSIBLE_INJECT_FACT_VARS": "True", "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.memory"},
                       {"ANSIBLE_INJECT_FACT_VARS": "False", "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.memory"}),
    "fact_caching": ("facts", {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.memory"},
                     {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
                      "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(BUILD / "lab" / "facts-cache")}),
}
FACTS_PLAY = """---
- name: Fact settings probe (the toolkit's own plays gather no facts)
  hosts: all
  gather_facts: true
  tasks:
    - name: Use one fact
      ansible.builtin.debug:
        msg: "{{ ansible_facts.get('default_ipv4', {}).get('address', 'none') }}"
"""


def tuning_run(kind: str, inventory: Path, env: dict) -> float:
    if kind == "site":
        seconds, _ = run(["ansible-playbook", "-i", str(inventory), "playbooks/site.yml", "--tags", "firewall"],
                         env={**JSON_CB, **env}, timeout=1800)
        return seconds
    facts = BUILD / "lab" / "facts.yml"
    facts.write_text(FACTS_PLAY, encoding="utf-8")
    return run(["ansible-playbook", "-i", str(inventory), str(facts)], env={**JSON_CB, **env}, timeout=900)[0]


def changed_count(output: str) -> int:
    data = json.loads(output[output.index("{"):])
    return sum(s.get("changed", 0) for s in data.get("stats", {}).values())


def site_run(inventory: Path, env: dict | None = None) -> tuple[float, int]:
    seconds, out = run(["ansible-playbook", "-i", str(inventory), "playbooks/site.yml"],
                       env={**JSON_CB, **(env or {})}, timeout=1800)
    return seconds, changed_count(out)


def converge(n: int, reruns: int, tuning: bool, tuning_runs: int) -> dict:
    inventory = gen_site.write_site(BUILD / "lab" / f"r{n}", *gen_site.lab_site(n))
    run(["ansible-playbook", "-i", str(inventory), "playbooks/lab_down.yml"], timeout=600)
    up, _ = run(["ansible-playbook", "-i", str(inventory), "playbooks/lab_up.yml"], timeout=900)
    try:
        first, first_changed = site_run(inventory)
        print(f"converge r{n}: first run {first:.1f} s ({first_changed} changed)", flush=True)
        again = [site_run(inventory) for _ in range(reruns)]
        print(f"converge r{n}: re-runs {[round(s, 1) for s, _ in again]} changed {[c for _, c in again]}", flush=True)
        result = {"recorders": n, "hosts": n + 2, "lab_up_seconds": round(up, 2), "first_seconds": round(first, 2),
                  "first_changed": first_changed, "rerun_seconds": stats([s for s, _ in again]),
                  "rerun_changed": [c for _, c in again]}
        if tuning:
            result["tuning"] = {}
            for name, (kind, off, on) in TUNING.items():
                if name == "fact_caching":
                    tuning_run(kind, inventory, on)  # fill the cache; the timed runs then reuse it
                samples = {"off": [tuning_run(kind, inventory, off) for _ in range(tuning_runs)],
                           "on": [tuning_run(kind, inventory, on) for _ in range(tuning_runs)]}
                result["tuning"][name] = {k: stats(v) for k, v in samples.items()}
                print(f"tuning {name}: {result['tuning'][name]['off']['median']} s off, "
                      f"{result['tuning'][name]['on']['median']} s on", flush=True)
        return result
    finally:
        run(["ansible-playbook", "-i", str(inventory), "playbooks/lab_down.yml"], timeout=600)


def rows_from_log(text: str) -> list[dict]:
    """Rebuild result rows from this script's own progress lines (an interrupted run writes no JSON:
    what it printed is what it measured). Sizes without a first run are left out."""
    import re

    rows: dict[int, dict] = {}
    for m in re.finditer(r"converge r(\d+): first run ([\d.]+) s \((\d+) changed\)", text):
        n = int(m.group(1))
        rows[n] = {"recorders": n, "hosts": n + 2, "lab_up_seconds": None, "first_seconds": float(m.group(2)),
                   "first_changed": int(m.group(3)), "rerun_seconds": None, "rerun_changed": "not recorded"}
    for m in re.finditer(r"converge r(\d+): re-runs \[([\d., ]*)\](?: changed \[([\d, ]*)\])?", text):
        n = int(m.group(1))
        values = [float(v) for v in m.group(2).split(",") if v.strip()]
        if n in rows and values:
            rows[n]["rerun_seconds"] = stats(values)
            if m.group(3) is not None:
                rows[n]["rerun_changed"] = [int(v) for v in m.group(3).split(",") if v.strip()]
    tuning = {m.group(1): {"off": stats([float(m.group(2))]), "on": stats([float(m.group(3))])}
              for m in re.finditer(r"tuning (\w+): ([\d.]+) s off, ([\d.]+) s on", text)}
    if tuning and rows:
        rows[max(rows)]["tuning"] = tuning  # --tuning runs on the largest size
    return [rows[n] for n in sorted(rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="converge benchmark (see module docstring)")
    parser.add_argument("--sizes", default="1,10")
    parser.add_argument("--reruns", type=int, default=2)
    parser.add_argument("--tuning", action="store_true")
    parser.add_argument("--tuning-runs", type=int, default=1)
    parser.add_argument("--from-log", type=Path, help="write the result from the progress lines of an interrupted run")
    args = parser.parse_args(argv)
    if args.from_log:
        rows = rows_from_log(args.from_log.read_text(encoding="utf-8"))
        ratio = None
        if len(rows) >= 2:
            first_ratio = rows[-1]["first_seconds"] / rows[0]["first_seconds"]
            reruns = [r["rerun_seconds"]["median"] if r["rerun_seconds"] else None for r in (rows[0], rows[-1])]
            rerun_ratio = round(reruns[1] / reruns[0], 2) if None not in reruns else None
            ratio = {"small": rows[0]["recorders"], "large": rows[-1]["recorders"], "rerun_ratio": rerun_ratio,
                     "first_ratio": round(first_ratio, 2),
                     "met": first_ratio < 2 and (rerun_ratio is None or rerun_ratio < 2)}
        print(write_result("converge", {"sizes": rows, "ratio": ratio, "from_log": str(args.from_log)}))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows = []
    for n in sizes:
        rows.append(converge(n, args.reruns, args.tuning and n == sizes[-1], args.tuning_runs))
        write_result("converge", {"sizes": rows, "ratio": None})  # partial results survive an interrupted run
    ratio = None
    if len(rows) >= 2:
        small, large = rows[0]["rerun_seconds"]["median"], rows[-1]["rerun_seconds"]["median"]
        first_ratio = rows[-1]["first_seconds"] / rows[0]["first_seconds"]
        ratio = {"small": rows[0]["recorders"], "large": rows[-1]["recorders"], "rerun_ratio": round(large / small, 2),
                 "first_ratio": round(first_ratio, 2), "met": first_ratio < 2 and large / small < 2}
    print(write_result("converge", {"sizes": rows, "ratio": ratio}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
