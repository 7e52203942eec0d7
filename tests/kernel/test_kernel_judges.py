"""The kernel, running the rendered rulesets, is the independent judge of every plan.

For each example and lab inventory, and for generated sites (hypothesis, VMS_KERNEL_EXAMPLES of
them, default 12), the host and edge rulesets are loaded into network namespaces (netns.py) and
probed with the invariants' tuples plus random ones (sampling.py). Two claims:

- the evaluator (vms_deploy.evaluate), which check/explain/report/verify use, gives the kernel's
  verdict on every tuple;
- the invariants (vms_deploy.invariants) hold with the kernel as judge.

A mismatch is re-probed with a longer timeout before it counts, so a slow machine cannot fake one.
The failure message names the tuple, both verdicts, the evaluator's reasoning and the ruleset
lines that mention the port.
"""
from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from netns import KernelSite
from sampling import INVENTORIES, random_tuples
from strategies import sites

from vms_deploy import invariants
from vms_deploy.evaluate import evaluate
from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan

KERNEL_EXAMPLES = int(os.environ.get("VMS_KERNEL_EXAMPLES", "12"))
RANDOM_TUPLES = int(os.environ.get("VMS_KERNEL_RANDOM_TUPLES", "400"))


class CachedJudge:
    """judge(source, destination, protocol, port) for invariants.violations: the kernel's verdicts,
    probed in one parallel batch beforehand (one by one would cost a timeout per denied probe)."""

    def __init__(self, kernel: KernelSite, verdicts: dict):
        self.kernel, self.verdicts, self.misses = kernel, dict(verdicts), 0

    def __call__(self, source, destination, protocol, port) -> bool:
        key = (source, destination, protocol, port)
        if key not in self.verdicts:
            self.misses += 1
            self.verdicts[key] = self.kernel.judge(*key)
        return self.verdicts[key]


def _ports_in(expr: str) -> list[tuple[int, int]]:
    out = []
    for part in re.split(r"[,{} ]+", expr):
        if re.fullmatch(r"\d+(-\d+)?", part):
            first, _, last = part.partition("-")
            out.append((int(first), int(last or first)))
    return out


def rules_for(ruleset: str, protocol: str, port: int) -> list[str]:
    """The lines of a ruleset that can match protocol/port (what a reviewer reads first)."""
    hits = []
    for line in ruleset.splitlines():
        m = re.search(rf"\b{protocol} dport ([0-9{{}}, -]+)", line)
        if m and any(a <= port <= b for a, b in _ports_in(m.group(1))):
            hits.append(line.strip())
    return hits


def explain_mismatch(plan: dict, kernel: KernelSite, t: tuple, got: bool) -> str:
    src, dst, proto, port = t
    verdict = evaluate(plan, src, dst, port, proto)
    lines = [(f"{src} -> {dst} {proto}/{port}: kernel {'ALLOWED' if got else 'DENIED'}, evaluator "
              f"{'ALLOWED' if verdict.allowed else 'DENIED'} ({verdict.summary})")]
    lines += [f"    evaluator: {step}" for step in verdict.steps]
    dst_host = next((h for h, v in plan["hosts"].items() if dst in (h, v.get("address"))), None)
    edge = "edge" if kernel.edge_host else "router stand-in"
    for where, host in ((edge, None), (dst_host, dst_host)):
        if where is None or (host and host not in kernel.host_ns) or (host and host == kernel.edge_host):
            continue
        lines += [f"    {where} ruleset: {r}" for r in rules_for(kernel.ruleset(host), proto, port)] or \
                 [f"    {where} ruleset: no rule names {proto}/{port}"]
    return "\n".join(lines)


def judge_plan(plan: dict, label: str) -> None:
    with KernelSite(plan, label=label) as kernel:
        probes = invariants.probes(plan)
        tuples = [(p["source"], p["destination"], p["protocol"], p["port"]) for p in probes]
        tuples += random_tuples(plan, [kernel.internet_address(100), kernel.internet_address(201)], RANDOM_TUPLES)
        verdicts = kernel.judge_many(tuples)
        expected = {t: evaluate(plan, t[0], t[1], t[3], t[2]).allowed for t in verdicts}
        differ = [t for t in verdicts if verdicts[t] != expected[t]]
        if differ:  # a slow answer must not pass for a drop: once more, with time to spare
            again = kernel.judge_many(differ, timeout=4 * kernel.timeout)
            differ = [t for t in differ if again[t] != expected[t]]
        report = [explain_mismatch(plan, kernel, t, verdicts[t]) for t in sorted(differ, key=str)[:15]]
        broken = invariants.violations(plan, judge=CachedJudge(kernel, verdicts))
    assert not differ, (f"{label}: the kernel and the evaluator disagree on {len(differ)} of {len(verdicts)} "
                        "tuples:\n" + "\n".join(report))
    assert broken == [], f"{label}: invariants broken with the kernel as judge:\n" + "\n".join(broken[:30])


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_inventory_in_kernel(inventory):
    judge_plan(compile_plan(load_inventory(inventory)), f"{inventory.parent.name}/{inventory.name}")


@settings(max_examples=KERNEL_EXAMPLES, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=sites())
def test_generated_site_in_kernel(data):
    plan = compile_plan(data)
    judge_plan(plan, f"generated {plan['site']} ({plan['product']}, {plan['topology']}, {plan['remote_access']})")
