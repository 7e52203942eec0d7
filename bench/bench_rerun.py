#!/usr/bin/env python3
"""No-change re-run of the all-in-one demo site against `ansible all -m ping`, side by side (issue 12).

Brings up the demo lab (inventories/lab/all_in_one, the lab bin/demo uses), converges it once with
playbooks/site.yml, then alternates, --runs times: `ansible all -m ping` on the same inventory (the
floor: one connection and one module per host) and a no-change `site.yml` re-run. Each re-run's
changed count is recorded (a re-run that changes something is reported, not hidden), with the number
of times the plan was compiled in it (tasks that ran the vms_plan action), the seconds its tasks
spent in the certificates role, the tasks run and skipped, the seconds per role (tasks outside a role:
per play) and the machine's load average. The lab is torn down at the end unless --keep.

With --baseline-root DIR (a checkout of an earlier revision, e.g. `git worktree add DIR REV`), the same
re-run is timed from that checkout first, on the same lab, so old and new stand side by side too.

    flock /tmp/vms-lab.lock python3 bench/bench_rerun.py --runs 5
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, run, run_cpu, stats, write_result

INVENTORY = ROOT / "inventories" / "lab" / "all_in_one"
JSON_CB = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_DEPRECATION_WARNINGS": "0"}


def _seconds(duration: dict) -> float:
    start, end = (dt.datetime.fromisoformat(duration[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return (end - start).total_seconds()


def _part(play: str, task: str) -> str:
    """Where a task's seconds are booked: its role ("reverse_proxy"), else its play ("play: Verify ...")."""
    role, sep, _ = task.partition(" : ")
    return role if sep and " " not in role else "play: " + play


def analyse(output: str) -> dict:
    """changed count, compiles (vms_plan task runs), certificates-role seconds, tasks and the seconds of
    each role (or play, for tasks outside a role) of one json-callback run. Skipped tasks are counted
    apart: each still costs Ansible's per-task overhead."""
    data = json.loads(output[output.index("{"):])
    compiles, cert_seconds, tasks, skipped = 0, 0.0, 0, 0
    parts: dict[str, float] = {}
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            name, duration = task["task"]["name"], task["task"].get("duration", {})
            if duration.get("end"):
                key = _part(play.get("play", {}).get("name", ""), name)
                parts[key] = parts.get(key, 0.0) + _seconds(duration)
            results = [r for r in task.get("hosts", {}).values() if not r.get("skipped")]
            if not results:
                skipped += 1
                continue
            tasks += 1
            # vms_plan's result is the only one with a plan summary and warnings_list.
            if any(isinstance(r.get("summary"), dict) and "zone_flows" in r["summary"] for r in results):
                compiles += 1
            if name.startswith("certificates : ") and duration.get("end"):
                cert_seconds += _seconds(duration)
    changed = sum(s.get("changed", 0) for s in data.get("stats", {}).values())
    return {"changed": changed, "compiles": compiles, "certificates_seconds": round(cert_seconds, 2),
            "tasks_run": tasks, "tasks_skipped": skipped,
            "parts": {k: round(v, 3) for k, v in sorted(parts.items(), key=lambda kv: -kv[1])}}


def site(root: Path) -> tuple[float, float, dict]:
    # An earlier checkout brings its own vms_deploy (src/ first on the path), not the installed one.
    env = JSON_CB if root == ROOT else {**JSON_CB, "PYTHONPATH": str(root / "src")}
    wall, cpu, out = run_cpu(["ansible-playbook", "-i", str(INVENTORY), "playbooks/site.yml"], env=env,
                             cwd=root, timeout=1800)
    return wall, cpu, analyse(out)


def ping() -> tuple[float, float]:
    wall, cpu, _ = run_cpu(["ansible", "-i", str(INVENTORY), "all", "-m", "ansible.builtin.ping"], cwd=ROOT,
                           timeout=300)
    return wall, cpu


def reruns(root: Path, runs: int, with_ping: bool) -> dict:
    site(root)  # settle: the first run from this checkout may rewrite what another one left
    rows = []
    for i in range(runs):
        row = {}
        if with_ping:
            row["ping_seconds"], row["ping_cpu"] = ping()
        row["rerun_seconds"], row["rerun_cpu"], facts = site(root)
        row["load_average"] = round(os.getloadavg()[0], 2)  # 1-minute load average when the re-run ended
        row.update(facts)
        rows.append(row)
        print(f"run {i + 1}: " + ", ".join(f"{k} {round(v, 2) if isinstance(v, float) else v}"
                                            for k, v in row.items() if k != "parts"), flush=True)
    out = {"runs": rows, "rerun_seconds": stats([r["rerun_seconds"] for r in rows]),
           "rerun_cpu": stats([r["rerun_cpu"] for r in rows]),
           "changed": [r["changed"] for r in rows], "compiles": [r["compiles"] for r in rows],
           "certificates_seconds": stats([r["certificates_seconds"] for r in rows]),
           "tasks_run": [r["tasks_run"] for r in rows], "tasks_skipped": [r["tasks_skipped"] for r in rows],
           "load_average": [r["load_average"] for r in rows],
           # Median seconds per role (or play) over the runs, largest first: where a re-run's time goes.
           "parts": dict(sorted(((k, round(statistics.median(r["parts"].get(k, 0.0) for r in rows), 2))
                                 for k in {k for r in rows for k in r["parts"]}), key=lambda kv: -kv[1]))}
    if with_ping:
        out["ping_seconds"] = stats([r["ping_seconds"] for r in rows])
        out["ratio"] = round(out["rerun_seconds"]["median"] / out["ping_seconds"]["median"], 1)
        # Per run, so a load spike on the shared machine hits both sides of one pair.
        out["ratio_per_run"] = [round(r["rerun_seconds"] / r["ping_seconds"], 1) for r in rows]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="no-change re-run against ping (see module docstring)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-root", type=Path, help="an earlier checkout to time the same re-run from")
    parser.add_argument("--baseline-label", default="baseline")
    parser.add_argument("--keep", action="store_true", help="leave the lab running")
    args = parser.parse_args(argv)
    run(["ansible-playbook", "-i", str(INVENTORY), "playbooks/lab_down.yml"], timeout=600)
    up, _ = run(["ansible-playbook", "-i", str(INVENTORY), "playbooks/lab_up.yml"], timeout=900)
    result = {"inventory": str(INVENTORY.relative_to(ROOT)), "lab_up_seconds": round(up, 1)}
    try:
        first, _, facts = site(ROOT)
        result["first_run"] = {"seconds": round(first, 1), **facts}
        print(f"first run {first:.1f} s: {facts}", flush=True)
        if args.baseline_root:
            result["baseline"] = {"label": args.baseline_label, **reruns(args.baseline_root, args.runs, False)}
            print(f"{args.baseline_label}: re-run median {result['baseline']['rerun_seconds']['median']} s", flush=True)
        result["current"] = reruns(ROOT, args.runs, True)
        cur = result["current"]
        print(f"current: re-run median {cur['rerun_seconds']['median']} s, ping median "
              f"{cur['ping_seconds']['median']} s, ratio x{cur['ratio']}, changed {cur['changed']}, "
              f"compiles {cur['compiles']}", flush=True)
    finally:
        if not args.keep:
            run(["ansible-playbook", "-i", str(INVENTORY), "playbooks/lab_down.yml"], timeout=600)
    print(write_result("rerun", result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
