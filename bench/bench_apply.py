#!/usr/bin/env python3
"""Apply benchmark (Linux): one owned nftables table against one task per rule, in one run.

On a lab container of its own (vmsbench-apply, image vms-deploy/lab-base:bookworm, --network none,
--cap-add NET_ADMIN; Ansible reaches it with community.docker.docker), one playbook run does:

1. vms_nft_table applies a recorder's host firewall (rendered from the plan of a synthetic site)
   as one owned table: one task, one `nft -c -f` and one `nft -f` transaction;
2. the same task again with nothing to change (the no-change re-run);
3. the baseline: the same rules applied one rule per task, as a loop of
   `ansible.builtin.command: nft add rule ...` (iptables is not in the lab image, and
   community.general has no per-rule nftables module, so this stands in for the
   ansible.builtin.iptables style). Without sets a rule is needed per (service, source).

Task durations come from the ansible.posix.json callback (start/end of each task on the host).
Module time alone: the no-change run's AnsiballZ file, kept in the container and run there
--module-runs times (wall and CPU seconds, CPU in 10 ms clock ticks; median/min/max), next to
ansible.builtin.ping timed the same way (the fixed cost of any Python module). Load averages at
start, module timing and end are recorded: the machine may be shared. The container is removed
at the end.

    python3 bench/bench_apply.py --runs 5 --clients 10
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import gen_site  # noqa: E402
from bench.common import BUILD, run, stats, write_result  # noqa: E402

CONTAINER = "vmsbench-apply"
IMAGE = "vms-deploy/lab-base:bookworm"
LOOP_TABLE = "vmsbench_loop"
HOST = "rec0001"


def plan_for(clients: int) -> dict:
    from vms_deploy.inventory import load_inventory
    from vms_deploy.pipeline import compile_plan

    out = BUILD / "apply" / "site"
    gen_site.write_site(out, *gen_site.plan_site(10, clients=clients, name="bench-apply"))
    return compile_plan(load_inventory(out))


def per_rule_commands(plan: dict, host: str) -> list[list[str]]:
    """The recorder's rules without sets: one `nft add rule` per (rule, source), plus the fixed ones."""
    h = plan["hosts"][host]
    rules = [["iif", "lo", "accept"], ["ct", "state", "established,related", "accept"],
             ["ct", "state", "invalid", "drop"]]
    from vms_deploy.ports import port_range

    # The plan holds the management rule (the compiler emits it for every host); nothing is added here.
    for rule in h["inbound"]:
        port = port_range(rule["ports"])
        for source in rule["sources"]:
            rules.append(["ip", "saddr", source, rule["protocol"], "dport", port, "accept"])
    rules.append(["icmp", "type", "echo-request", "accept"])
    return [["nft", "add", "rule", "inet", LOOP_TABLE, "input", *r] for r in rules]


def count_ruleset(text: str) -> dict:
    """Rules and set elements in a rendered table (rules = statement lines inside chains)."""
    rules, elements, in_chain = 0, 0, False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("chain "):
            in_chain = True
        elif s == "}":
            in_chain = False
        elif in_chain and s and not s.startswith(("type ", "policy ")):
            rules += 1
        if s.startswith("elements = {"):
            elements += len(s[len("elements = {"):].rstrip("}").split(","))
    return {"rules": rules, "set_elements": elements, "sets": len(re.findall(r"^\s*set ", text, re.M))}


def write_playbook(workdir: Path, ruleset: str, commands: list[list[str]]) -> Path:
    (workdir / "ruleset.nft").write_text(ruleset, encoding="utf-8")
    (workdir / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {CONTAINER: {
        "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    play = [{
        "name": "Apply benchmark", "hosts": CONTAINER, "gather_facts": False,
        "vars": {"bench_ruleset": "{{ lookup('ansible.builtin.file', 'ruleset.nft') }}", "bench_commands": commands},
        "tasks": [
            {"name": "reset: remove the owned table", "vms_nft_table": {
                "state": "absent", "state_dir": "/var/lib/vmsbench"}},
            {"name": "reset: remove the loop table", "ansible.builtin.command": {
                "argv": ["sh", "-c", f"nft delete table inet {LOOP_TABLE} 2>/dev/null || true"]},
             "changed_when": False},
            {"name": "owned table: apply", "vms_nft_table": {
                "content": "{{ bench_ruleset }}", "state_dir": "/var/lib/vmsbench",
                "keep_management_connection": False}, "register": "bench_first"},
            {"name": "owned table: no-change re-run", "vms_nft_table": {
                "content": "{{ bench_ruleset }}", "state_dir": "/var/lib/vmsbench",
                "keep_management_connection": False}, "register": "bench_again"},
            {"name": "owned table: the re-run changed nothing", "ansible.builtin.assert": {
                "that": ["bench_first is changed", "bench_again is not changed"]}},
            {"name": "per rule: create table and chain", "ansible.builtin.command": {"argv": [
                "sh", "-c", f"nft add table inet {LOOP_TABLE} && nft add chain inet {LOOP_TABLE} input "
                            "'{ type filter hook input priority filter; policy drop; }'"]}, "changed_when": True},
            {"name": "per rule: one task per rule", "ansible.builtin.command": {"argv": "{{ item }}"},
             "loop": "{{ bench_commands }}", "changed_when": True},
            {"name": "per rule: count the rules", "ansible.builtin.command": {
                "argv": ["nft", "-a", "list", "chain", "inet", LOOP_TABLE, "input"]},
             "register": "bench_loop_list", "changed_when": False},
        ],
    }]
    path = workdir / "apply.yml"
    path.write_text("---\n" + yaml.safe_dump(play, sort_keys=False, width=200))
    return path


def _seconds(duration: dict) -> float:
    start = datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def task_times(output: str) -> dict[str, float]:
    data = json.loads(output[output.index("{"):])
    times = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            times[task["task"]["name"]] = _seconds(task["task"]["duration"])
    return times


MODULE_TIMER = r"""
import glob, os, subprocess, sys, time
pattern, expect, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
paths = sorted(glob.glob('/root/.ansible/tmp/ansible-tmp-*/' + pattern))
if not paths:
    sys.exit('no kept %s found' % pattern)
wall, cpu = [], []
for i in range(runs + 1):  # the first run only warms the page cache; it is not counted
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, paths[-1]], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = os.times()
    if expect not in proc.stdout:
        sys.exit('the kept %s run did not print %r: %s' % (pattern, expect, proc.stdout[-500:] + proc.stderr[-500:]))
    if i:
        wall.append(elapsed)
        cpu.append(after.children_user - before.children_user + after.children_system - before.children_system)
print(' '.join('%.4f' % s for s in wall))
print(' '.join('%.4f' % s for s in cpu))
"""


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def module_seconds(workdir: Path, runs: int) -> dict[str, list[float]]:
    """Module time of the no-change re-run without the connection: keep the module files Ansible sends
    (ANSIBLE_KEEP_REMOTE_FILES, no pipelining), then time running them inside the container: wall and CPU
    (user + system) seconds of the whole process (Python start-up, AnsiballZ unpacking and imports, the
    module, its nft call). ansible.builtin.ping, kept and timed the same way, is the floor every Python
    module pays on this host; on a loaded machine wall time grows with the load, CPU time much less."""
    play = [{"name": "Keep the module files", "hosts": CONTAINER, "gather_facts": False, "tasks": [
        {"name": "owned table: no-change run", "vms_nft_table": {
            "content": "{{ lookup('ansible.builtin.file', 'ruleset.nft') }}", "state_dir": "/var/lib/vmsbench",
            "keep_management_connection": False}},
        {"name": "floor: the smallest Python module", "ansible.builtin.ping": {}}]}]
    path = workdir / "keep.yml"
    path.write_text("---\n" + yaml.safe_dump(play, sort_keys=False, width=200))
    subprocess.run(["docker", "exec", CONTAINER, "rm", "-rf", "/root/.ansible/tmp"], capture_output=True, timeout=60)
    run(["ansible-playbook", "-i", str(workdir / "inventory.yml"), str(path)],
        env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_PIPELINING": "0"}, timeout=600)
    out = {}
    for key, pattern, expect in (("module", "AnsiballZ_vms_nft_table.py", '"changed": false'),
                                 ("floor", "AnsiballZ_ping.py", '"ping": "pong"')):
        proc = subprocess.run(["docker", "exec", CONTAINER, "python3", "-c", MODULE_TIMER, pattern, expect, str(runs)],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"module timing failed: {proc.stderr or proc.stdout}")
        wall, cpu = proc.stdout.splitlines()[-2:]
        out[key] = [float(s) for s in wall.split()]
        out[key + "_cpu"] = [float(s) for s in cpu.split()]
    return out


def container(up: bool) -> None:
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, timeout=60)
    if up:
        subprocess.run(["docker", "run", "-d", "--name", CONTAINER, "--network", "none", "--cap-add", "NET_ADMIN",
                        "--label", "vms-bench=apply", IMAGE, "sleep", "infinity"],
                       check=True, capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="apply benchmark (see module docstring)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--module-runs", type=int, default=10,
                        help="timed runs of the kept module file inside the container (at least 5)")
    parser.add_argument("--clients", type=int, default=10,
                        help="client networks of the synthetic site (the per-rule baseline needs a task per source)")
    args = parser.parse_args(argv)
    plan = plan_for(args.clients)
    from vms_deploy.render.nftables_host import render_host_ruleset

    ruleset = render_host_ruleset(plan, HOST)
    commands = per_rule_commands(plan, HOST)
    workdir = BUILD / "apply"
    playbook = write_playbook(workdir, ruleset, commands)
    # Run from the checkout so its ansible.cfg (library = ./plugins/modules) applies.
    env = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    samples: dict[str, list[float]] = {}
    walls = []
    load = {"start": _loadavg()}
    container(True)
    try:
        for i in range(args.runs):
            wall, out = run(["ansible-playbook", "-i", str(workdir / "inventory.yml"), str(playbook)], env=env,
                            timeout=1800)
            walls.append(wall)
            for name, secs in task_times(out).items():
                samples.setdefault(name, []).append(secs)
            print(f"apply run {i + 1}: {wall:.1f} s", flush=True)
        load["module_timing"] = _loadavg()
        module = module_seconds(workdir, max(args.module_runs, 5))
        load["end"] = _loadavg()
        listed = subprocess.run(["docker", "exec", CONTAINER, "nft", "list", "table", "inet", LOOP_TABLE],
                                capture_output=True, text=True, timeout=60).stdout
    finally:
        container(False)
    owned = samples["owned table: apply"]
    loop = [a + b for a, b in zip(samples["per rule: create table and chain"],
                                          samples["per rule: one task per rule"], strict=False)]
    ratio = sorted(loop)[len(loop) // 2] / sorted(owned)[len(owned) // 2]
    rerun = stats(samples["owned table: no-change re-run"])
    module_stats = stats(module["module"])
    write_result("apply", {
        "host": HOST, "client_networks": args.clients, "owned_table": count_ruleset(ruleset),
        "per_rule_tasks": len(commands) + 1, "per_rule_live_rules": listed.count(" accept") + listed.count(" drop"),
        "owned_apply_seconds": stats(owned), "owned_rerun_seconds": rerun, "per_rule_seconds": stats(loop),
        "speedup": round(ratio, 1), "speedup_met": ratio >= 10, "rerun_module_seconds": module_stats,
        "rerun_met": module_stats["median"] < 1.0, "rerun_module_cpu_seconds": stats(module["module_cpu"]),
        "module_floor_seconds": stats(module["floor"]), "module_floor_cpu_seconds": stats(module["floor_cpu"]),
        "load_average_1_5_15": load,
        "playbook_wall_seconds": stats(walls), "tasks": {k: stats(v) for k, v in samples.items()}})
    print(f"owned table {stats(owned)['median']} s, per rule {stats(loop)['median']} s, x{ratio:.1f}; "
          f"re-run {rerun['median']} s (module alone {module_stats['median']} s, "
          f"CPU {stats(module['module_cpu'])['median']} s; ansible.builtin.ping {stats(module['floor'])['median']} s); "
          f"load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
