#!/usr/bin/env python3
"""Plan benchmark: compiler time and memory by site size, and playbooks/plan.yml end to end.

1. For each product and size (recorders), generate a synthetic site (bench/gen_site.py), load it
   once with Ansible's inventory loader and save the data dict as JSON. Then, in a fresh Python
   process per run (so no cache survives from one run to the next), time
   vms_deploy.pipeline.compile_plan (validation + compilation) on it; one more run measures its peak
   memory with tracemalloc. Target: compile_plan of 1000 recorders (20,000 cameras) under
   COMPILE_LIMIT seconds, wall and CPU (issue 23).
2. Time `ansible-playbook -i SITE playbooks/plan.yml` (Ansible's own start-up included) for each
   product's small and large site, the sizes taken in turn. Target: the large site under 2x the small.

A size whose first run takes longer than --max-seconds ends the sweep (larger sizes are reported
as skipped), so the bench stays inside its time budget on a slow compiler.

    python3 bench/bench_plan.py --sizes 1,10,100,500,1000 --runs 5 \
        --playbook valerus:2,1000 --playbook xprotect:2,500
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


COMPILE_LIMIT = 0.5  # seconds: compile_plan for 1000 recorders with 20,000 cameras (issue 23)
COMPILE_TARGET_RECORDERS = 1000


def _tag(recorders: int, product: str) -> str:
    return f"r{recorders}" if product == "valerus" else f"{product}-r{recorders}"


def site_dir(recorders: int, product: str = "valerus") -> Path:
    return BUILD / "sites" / _tag(recorders, product)


def prepare(recorders: int, product: str = "valerus") -> Path:
    """Generate the inventory and its loaded data dict (JSON); return the JSON path."""
    out = site_dir(recorders, product)
    gen_site.write_site(out, *gen_site.plan_site(recorders, product=product))
    data_path = BUILD / "data" / f"{_tag(recorders, product)}.json"
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


def compiler_sweep(sizes: list[int], runs: int, max_seconds: float, product: str = "valerus") -> list[dict]:
    rows = []
    stop = None
    for n in sizes:
        if stop is not None:
            rows.append({"product": product, "recorders": n, "skipped": f"size {stop} took more than {max_seconds} s"})
            continue
        data_path, load_seconds = prepare(n, product)
        try:
            first = worker(data_path, "time", timeout=max(max_seconds * 3, 60))
        except subprocess.TimeoutExpired:
            rows.append({"product": product, "recorders": n,
                         "skipped": f"first run exceeded {max(max_seconds * 3, 60)} s"})
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
        print(f"compile {_tag(n, product)}: median {sorted(samples)[len(samples) // 2]:.3f} s over "
              f"{len(samples)} run(s)", flush=True)
        rows.append({"product": product, "recorders": n, "cameras": gen_site.default_cameras(n),
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


def compile_target(rows: list[dict]) -> dict | None:
    """compile_plan of the 1000-recorder site against COMPILE_LIMIT (median wall and CPU over fresh processes)."""
    done = [r for r in rows if r.get("recorders") == COMPILE_TARGET_RECORDERS and "compile_seconds" in r]
    if not done:
        return None
    row = done[0]
    wall, cpu = row["compile_seconds"]["median"], row["compile_cpu_seconds"]["median"]
    return {"product": row.get("product", "valerus"), "recorders": row["recorders"], "cameras": row["cameras"],
            "limit": COMPILE_LIMIT, "seconds": wall, "cpu_seconds": cpu,
            "met": wall < COMPILE_LIMIT and cpu < COMPILE_LIMIT, "wall_met": wall < COMPILE_LIMIT,
            "cpu_met": cpu < COMPILE_LIMIT}


def playbook_sweep(sites: list[tuple[str, int]], runs: int, env: dict) -> list[dict]:
    """plan.yml per (product, size), all of them taken in turn in each round, so a change in machine load
    hits every size alike (the targets are ratios)."""
    cmds = {}
    for product, n in sites:
        out = site_dir(n, product)
        gen_site.write_site(out, *gen_site.plan_site(n, product=product))
        cmds[product, n] = ["ansible-playbook", "-i", str(out), "playbooks/plan.yml",
                            "-e", f"vms_plan_dir={BUILD / 'plan' / _tag(n, product)}"]
    measured: dict[tuple, list] = {site: [] for site in sites}
    for _ in range(runs):
        for site in sites:
            measured[site].append(run_cpu(cmds[site], env=env, timeout=1800))
    rows = []
    for product, n in sites:
        samples, cpu = [m[0] for m in measured[product, n]], [m[1] for m in measured[product, n]]
        print(f"plan.yml {_tag(n, product)}: median {sorted(samples)[len(samples) // 2]:.2f} s", flush=True)
        rows.append({"product": product, "recorders": n, "seconds": stats(samples), "cpu_seconds": stats(cpu)})
    return rows


def playbook_ratios(rows: list[dict]) -> list[dict]:
    """Per product: its largest site against its smallest, wall and CPU (target: under 2x)."""
    out = []
    for product in dict.fromkeys(r.get("product", "valerus") for r in rows):
        mine = sorted((r for r in rows if r.get("product", "valerus") == product), key=lambda r: r["recorders"])
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        wall = large["seconds"]["median"] / small["seconds"]["median"]
        cpu = large["cpu_seconds"]["median"] / small["cpu_seconds"]["median"]
        out.append({"product": product, "small": small["recorders"], "large": large["recorders"],
                    "ratio": round(wall, 2), "cpu_ratio": round(cpu, 2), "met": wall < 2.0 and cpu < 2.0})
    return out


def parse_playbook_sites(specs: list[str]) -> list[tuple[str, int]]:
    """["valerus:2,1000", "xprotect:2,500"] -> [("valerus", 2), ("valerus", 1000), ("xprotect", 2), ...]."""
    sites = []
    for spec in specs:
        product, _, sizes = spec.rpartition(":")
        sites += [(product or "valerus", int(n)) for n in sizes.split(",") if n]
    return sites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="plan benchmark (see module docstring)")
    parser.add_argument("--sizes", default="1,10,100,500,1000")
    parser.add_argument("--products", default="valerus,xprotect", help="products of the compiler sweep")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--playbook", action="append", metavar="PRODUCT:SIZES",
                        help="plan.yml sites, e.g. valerus:2,1000 (repeat; default valerus:2,1000 and xprotect:2,500)")
    parser.add_argument("--playbook-runs", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="a size whose first compile takes longer ends the sweep")
    parser.add_argument("--label", default="plan", help="result name (e.g. plan_patched when PYTHONPATH points "
                                                        "at a patched copy of the package)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    products = [p for p in args.products.split(",") if p]
    sites = parse_playbook_sites(args.playbook if args.playbook is not None else ["valerus:2,1000", "xprotect:2,500"])
    env = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.null"} if os.environ.get("VMS_BENCH_QUIET") else {}
    sweeps = {product: compiler_sweep(sizes, args.runs, args.max_seconds, product) for product in products}
    rows = [row for product in products for row in sweeps[product]]
    playbook = playbook_sweep(sites, args.playbook_runs, env) if sites else []
    path = write_result(args.label, {"loadavg_at_end": os.getloadavg(), "compiler": rows,
                                     "growth": {p: growth(sweeps[p]) for p in products},
                                     "compile_targets": [t for t in (compile_target(sweeps[p]) for p in products) if t],
                                     "playbook": playbook, "playbook_ratios": playbook_ratios(playbook),
                                     "pythonpath": os.environ.get("PYTHONPATH", "")})
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
