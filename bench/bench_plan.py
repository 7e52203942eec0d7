#!/usr/bin/env python3
"""Plan benchmark: compiler time and memory by site size, and playbooks/plan.yml end to end.

1. For each size (recorders), generate a synthetic site (bench/gen_site.py), load it once with
   Ansible's inventory loader and save the data dict as JSON. Then, in a fresh Python process per
   run (so no cache survives from one run to the next), time vms_deploy.pipeline.compile_plan
   (validation + compilation) on it; one more run measures its peak memory with tracemalloc.
2. Time `ansible-playbook -i SITE playbooks/plan.yml` (Ansible's own start-up included) for the
   small and the large site.

A size whose first run takes longer than --max-seconds ends the sweep (larger sizes are reported
as skipped), so the bench stays inside its time budget on a slow compiler.

    python3 bench/bench_plan.py --sizes 1,10,100,500,1000 --runs 5 --playbook-sizes 2,1000
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import gen_site  # noqa: E402
from bench.common import BUILD, ROOT, run, run_cpu, stats, write_result  # noqa: E402

WORKER = r"""
import json, sys, time, tracemalloc
from vms_deploy.pipeline import compile_plan
import vms_deploy
data = json.load(open(sys.argv[1]))
mode = sys.argv[2]
if mode == "memory":
    tracemalloc.start()
start, cpu = time.perf_counter(), time.process_time()
plan = compile_plan(data)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1] if mode == "memory" else None
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_bytes": peak, "package": vms_deploy.__file__,
                  "plan_bytes": len(json.dumps(plan, sort_keys=True)),
                  "rules": sum(len(h["inbound"]) for h in plan["hosts"].values()),
                  "rule_sources": sum(len(r["sources"]) for h in plan["hosts"].values() for r in h["inbound"]),
                  "zone_flows": len(plan["zone_flows"])}))
"""


def site_dir(recorders: int) -> Path:
    return BUILD / "sites" / f"r{recorders}"


def prepare(recorders: int) -> Path:
    """Generate the inventory and its loaded data dict (JSON); return the JSON path."""
    out = site_dir(recorders)
    gen_site.write_site(out, *gen_site.plan_site(recorders))
    data_path = BUILD / "data" / f"r{recorders}.json"
    data_path.parent.mkdir(parents=True, exist_ok=True)
    code = ("import json,sys; from vms_deploy.inventory import load_inventory; "
            "json.dump(load_inventory(sys.argv[1]), open(sys.argv[2], 'w'))")
    seconds, _ = run([sys.executable, "-c", code, str(out), str(data_path)])
    return data_path, seconds


def worker(data_path: Path, mode: str, timeout: float) -> dict:
    proc = subprocess.run([sys.executable, "-c", WORKER, str(data_path), mode], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"compile worker failed on {data_path}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compiler_sweep(sizes: list[int], runs: int, max_seconds: float) -> list[dict]:
    rows = []
    stop = None
    for n in sizes:
        if stop is not None:
            rows.append({"recorders": n, "skipped": f"size {stop} took more than {max_seconds} s"})
            continue
        data_path, load_seconds = prepare(n)
        try:
            first = worker(data_path, "time", timeout=max(max_seconds * 3, 60))
        except subprocess.TimeoutExpired:
            rows.append({"recorders": n, "skipped": f"first run exceeded {max(max_seconds * 3, 60)} s"})
            stop = n
            continue
        samples, cpu = [first["seconds"]], [first["cpu_seconds"]]
        if first["seconds"] > max_seconds:
            stop = n  # report this size from one run, skip the larger ones
        else:
            for _ in range(runs - 1):
                more = worker(data_path, "time", timeout=600)
                samples.append(more["seconds"])
                cpu.append(more["cpu_seconds"])
        mem = worker(data_path, "memory", timeout=1200) if first["seconds"] <= max_seconds else {"peak_bytes": None}
        print(f"compile r{n}: median {sorted(samples)[len(samples) // 2]:.3f} s over {len(samples)} run(s)",
              flush=True)
        rows.append({"recorders": n, "cameras": gen_site.default_cameras(n),
                     "client_networks": gen_site.default_clients(n), "compile_seconds": stats(samples),
                     "compile_cpu_seconds": stats(cpu),
                     "inventory_load_seconds": round(load_seconds, 3), "peak_bytes": mem["peak_bytes"],
                     "plan_bytes": first["plan_bytes"], "rules": first["rules"],
                     "rule_sources": first["rule_sources"], "zone_flows": first["zone_flows"],
                     "package": first["package"]})
    return rows


def growth(rows: list[dict]) -> dict | None:
    """Log-log slope of median compile time between the two largest measured sizes >= 100, and the
    same slope for n log n, so 'no worse than n log n' can be read off directly."""
    done = [r for r in rows if "compile_cpu_seconds" in r and r["recorders"] >= 100]
    if len(done) < 2:
        return None
    a, b = done[-2], done[-1]
    na, nb = a["recorders"], b["recorders"]
    # CPU time, not wall time: other work on a shared machine inflates wall time at random.
    ta, tb = a["compile_cpu_seconds"]["median"], b["compile_cpu_seconds"]["median"]
    slope = math.log(tb / ta) / math.log(nb / na)
    nlogn = math.log((nb * math.log(nb)) / (na * math.log(na))) / math.log(nb / na)
    return {"from": na, "to": nb, "time_ratio": round(tb / ta, 2), "size_ratio": round(nb / na, 2),
            "slope": round(slope, 2), "nlogn_slope": round(nlogn, 2), "met": slope <= nlogn + 0.05}


def playbook_sweep(sizes: list[int], runs: int, env: dict) -> list[dict]:
    """plan.yml per size, the sizes taken in turn in each round, so a change in machine load hits
    every size alike (the target is a ratio)."""
    cmds = {}
    for n in sizes:
        out = site_dir(n)
        gen_site.write_site(out, *gen_site.plan_site(n))
        cmds[n] = ["ansible-playbook", "-i", str(out), "playbooks/plan.yml",
                   "-e", f"vms_plan_dir={BUILD / 'plan' / f'r{n}'}"]
    measured: dict[int, list] = {n: [] for n in sizes}
    for _ in range(runs):
        for n in sizes:
            measured[n].append(run_cpu(cmds[n], env=env, timeout=1800))
    rows = []
    for n in sizes:
        samples, cpu = [m[0] for m in measured[n]], [m[1] for m in measured[n]]
        print(f"plan.yml r{n}: median {sorted(samples)[len(samples) // 2]:.2f} s", flush=True)
        rows.append({"recorders": n, "seconds": stats(samples), "cpu_seconds": stats(cpu)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="plan benchmark (see module docstring)")
    parser.add_argument("--sizes", default="1,10,100,500,1000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--playbook-sizes", default="2,1000")
    parser.add_argument("--playbook-runs", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="a size whose first compile takes longer ends the sweep")
    parser.add_argument("--label", default="plan", help="result name (e.g. plan_patched when PYTHONPATH points "
                                                        "at a patched copy of the package)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    pb_sizes = [int(s) for s in args.playbook_sizes.split(",") if s]
    env = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.null"} if os.environ.get("VMS_BENCH_QUIET") else {}
    rows = compiler_sweep(sizes, args.runs, args.max_seconds)
    playbook = playbook_sweep(pb_sizes, args.playbook_runs, env) if pb_sizes else []
    ratio = None
    if len(playbook) >= 2:
        small, large = playbook[0]["seconds"]["median"], playbook[-1]["seconds"]["median"]
        cpu_small, cpu_large = playbook[0]["cpu_seconds"]["median"], playbook[-1]["cpu_seconds"]["median"]
        ratio = {"small": playbook[0]["recorders"], "large": playbook[-1]["recorders"],
                 "ratio": round(large / small, 2), "cpu_ratio": round(cpu_large / cpu_small, 2),
                 "met": large / small < 2.0 and cpu_large / cpu_small < 2.0}
    path = write_result(args.label, {"loadavg_at_end": os.getloadavg(), "compiler": rows, "growth": growth(rows),
                                     "playbook": playbook, "playbook_ratio": ratio,
                                     "pythonpath": os.environ.get("PYTHONPATH", "")})
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
