#!/usr/bin/env python3
"""Rule counts and Windows round trips, counted from the rendered plan (no timing, no hosts).

* Linux: render every host's nftables table (and the edge's) for the synthetic site and count rules
  (statements in chains) and set elements. With sets, rules grow with services; sources only add
  set elements. For comparison, the rules the same policy needs without sets (one per rule and source).
* Windows: the same site with vms_platform windows; WinRM module runs per host for the firewall:
  this toolkit's one script run (ansible.windows.win_powershell) against one
  community.windows.win_firewall_rule task per rule (bench/windows_round_trips.py).

    python3 bench/bench_rules.py --recorders 1000
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import gen_site  # noqa: E402
from bench.bench_apply import count_ruleset  # noqa: E402
from bench.common import BUILD, write_result  # noqa: E402


def compile_site_dir(recorders: int, platform: str) -> dict:
    from vms_deploy.inventory import load_inventory
    from vms_deploy.pipeline import compile_plan

    out = BUILD / "sites" / f"r{recorders}-{platform}"
    gen_site.write_site(out, *gen_site.plan_site(recorders, platform=platform))
    return compile_plan(load_inventory(out))


def linux_counts(plan: dict) -> dict:
    from vms_deploy.render.nftables_edge import render_edge_ruleset
    from vms_deploy.render.nftables_host import render_host_ruleset

    per_host = {}
    edge = (plan.get("edge") or {}).get("host")
    for host, h in sorted(plan["hosts"].items()):
        text = render_edge_ruleset(plan, host) if host == edge else render_host_ruleset(plan, host)
        counts = count_ruleset(text)
        # Without sets: one rule per (inbound rule, source), the per-rule/iptables style.
        counts["rules_without_sets"] = sum(len(r["sources"]) for r in h["inbound"])
        if host == edge:  # the edge also forwards: one rule per (flow, source, destination) without sets
            counts["rules_without_sets"] += sum(len(f["sources"]) * len(f["destinations"])
                                                for f in plan.get("zone_flows") or [] if f["from"] != f["to"])
            counts["rules_without_sets"] += sum(len(f["sources"]) for f in plan.get("forwards") or [])
        counts["bytes"] = len(text)
        per_host[host] = counts
    recorders = [c for host, c in per_host.items() if host.startswith("rec")]

    def summary(key: str) -> dict:
        values = [c[key] for c in recorders]
        return {"min": min(values), "median": statistics.median(values), "max": max(values)}

    return {"hosts": len(per_host),
            "named": {h: per_host[h] for h in ("app1", "gw1", "edge1", "rec0001") if h in per_host},
            "recorders": {k: summary(k) for k in ("rules", "set_elements", "sets", "rules_without_sets", "bytes")},
            "total_rules": sum(c["rules"] for c in per_host.values()),
            "total_set_elements": sum(c["set_elements"] for c in per_host.values()),
            "total_rules_without_sets": sum(c["rules_without_sets"] for c in per_host.values())}


def windows_counts(plan: dict) -> dict:
    from bench.windows_round_trips import round_trips

    trips = round_trips(plan)
    if not trips:
        return {"hosts": 0}
    rules = [t["rules"] for t in trips.values()]
    return {"hosts": len(trips), "script_runs_total": sum(t["script"] for t in trips.values()),
            "per_rule_tasks_total": sum(rules),
            "rules_per_host": {"min": min(rules), "median": statistics.median(rules), "max": max(rules)},
            "named": {h: trips[h] for h in ("app1", "gw1", "rec0001") if h in trips}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rule counts and Windows round trips (see module docstring)")
    parser.add_argument("--recorders", type=int, default=1000)
    args = parser.parse_args(argv)
    linux = linux_counts(compile_site_dir(args.recorders, "linux"))
    windows = windows_counts(compile_site_dir(args.recorders, "windows"))
    path = write_result("rules", {"recorders": args.recorders, "cameras": gen_site.default_cameras(args.recorders),
                                  "client_networks": gen_site.default_clients(args.recorders),
                                  "linux": linux, "windows": windows})
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
