"""Properties of every plan compiled from a valid site (hypothesis draws the sites: strategies.py).

- every drawn site compiles (a ValidationFailed is a generator bug or a validator finding);
- the compiled plan satisfies the security invariants (vms_deploy.invariants), judged by the
  evaluator; tests/kernel judges the same invariants with the rendered rulesets in the kernel;
- compiling is deterministic and the renderers accept every plan (no RenderError).

VMS_PROPERTY_EXAMPLES sets the number of sites (default 150).
"""
from __future__ import annotations

import copy
import os

from hypothesis import HealthCheck, given, settings
from strategies import sites

from vms_deploy import invariants
from vms_deploy.pipeline import compile_plan
from vms_deploy.render.nftables_edge import render_edge_ruleset
from vms_deploy.render.nftables_host import render_host_ruleset

EXAMPLES = int(os.environ.get("VMS_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(data=sites())
def test_every_plan_satisfies_the_invariants(data):
    plan = compile_plan(data)
    assert invariants.violations(plan) == []


@SETTINGS
@given(data=sites())
def test_compiling_is_deterministic_and_renderable(data):
    plan = compile_plan(copy.deepcopy(data))
    assert compile_plan(copy.deepcopy(data)) == plan
    edge = (plan.get("edge") or {}).get("host")
    for host in plan["hosts"]:
        text = render_edge_ruleset(plan, host) if host == edge else render_host_ruleset(plan, host)
        assert "table inet vms_deploy {" in text
