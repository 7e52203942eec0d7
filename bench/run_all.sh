#!/usr/bin/env bash
# Run every benchmark and write docs/BENCHMARKS.md. Sizes and runs are adjustable by environment:
#   VMS_BENCH_SIZES=1,10,100,500,1000   VMS_BENCH_RUNS=5        compiler sweep
#   VMS_BENCH_PRODUCTS=valerus,xprotect                             products of the compiler sweep
#   VMS_BENCH_PLAYBOOK="valerus:2,1000 xprotect:2,500"  VMS_BENCH_PLAYBOOK_RUNS=7   playbooks/plan.yml
#   VMS_BENCH_APPLY_RUNS=5              VMS_BENCH_APPLY_CLIENTS=10  apply (lab container)
#   VMS_BENCH_CONVERGE_SIZES=1,10       VMS_BENCH_RERUNS=3          converge (lab site)
#   VMS_BENCH_TUNING_RUNS=3                                         each tuning knob, off and on
#   VMS_BENCH_SKIP=converge,tuning      skip parts (plan, rules, apply, converge, tuning, rerun)
# Intermediate files and results go to build/bench/ (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
skip=",${VMS_BENCH_SKIP:-},"
export VMS_BENCH_QUIET=1
start=$(date +%s)

if [[ $skip != *,plan,* ]]; then
  playbook=()
  for site in ${VMS_BENCH_PLAYBOOK:-valerus:2,1000 xprotect:2,500}; do playbook+=(--playbook "$site"); done
  python3 bench/bench_plan.py --sizes "${VMS_BENCH_SIZES:-1,10,100,500,1000}" --runs "${VMS_BENCH_RUNS:-5}" \
    --products "${VMS_BENCH_PRODUCTS:-valerus,xprotect}" "${playbook[@]}" \
    --playbook-runs "${VMS_BENCH_PLAYBOOK_RUNS:-7}"
fi
if [[ $skip != *,rules,* ]]; then
  python3 bench/bench_rules.py --recorders "${VMS_BENCH_RULES_RECORDERS:-1000}"
fi
if [[ $skip != *,apply,* ]]; then
  python3 bench/bench_apply.py --runs "${VMS_BENCH_APPLY_RUNS:-5}" --clients "${VMS_BENCH_APPLY_CLIENTS:-10}"
fi
if [[ $skip != *,converge,* ]]; then
  tuning=--tuning
  [[ $skip == *,tuning,* ]] && tuning=
  python3 bench/bench_converge.py --sizes "${VMS_BENCH_CONVERGE_SIZES:-1,10}" --reruns "${VMS_BENCH_RERUNS:-3}" \
    --tuning-runs "${VMS_BENCH_TUNING_RUNS:-3}" $tuning
fi
if [[ $skip != *,rerun,* ]]; then
  python3 bench/bench_rerun.py --runs "${VMS_BENCH_RERUN_RUNS:-5}"
fi
python3 bench/report.py
echo "bench: done in $(( $(date +%s) - start )) s; results in build/bench/results, report in docs/BENCHMARKS.md"
