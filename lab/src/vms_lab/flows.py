"""The lab's flow checks: what each vantage point should try, and what it must see (playbooks/verify.yml,
the lab's verify, and the Molecule verifier tests/verify/flows).

A vantage is a machine on one of the site's networks or outside it (the lab's Internet, operator
and camera containers; on a real site, hosts in the inventory group `vms_vantages`). It tries:
- every port of every site host's plan rules, and every forward on the public address (the plan's
  promises: allowed ones must connect);
- every tuple the security invariants care about from its address (vms_deploy.invariants.probes):
  every private address of every site host on every catalog, management and camera port, and the
  public address on every port (what must never answer).
Each check's `expect_open` is the one evaluator's verdict (vms_deploy.evaluate); `forbidden` and
`invariant` come from the invariants, which do not read the plan's rules, so a wrong plan cannot
prove itself right: verify fails on any reachable forbidden tuple whatever the plan says.
"""
from __future__ import annotations

from vms_deploy.evaluate import evaluate
from vms_deploy.invariants import probes


def _target(plan: dict, address: str, protocol: str, port: int) -> str:
    public = (plan.get("edge") or {}).get("public_address")
    if address == public:
        fwd = next((f for f in plan.get("forwards") or [] if f["protocol"] == protocol
                    and f["external_ports"][0] <= port <= f["external_ports"][1]), None)
        return (f"{fwd['to_host']}:{fwd['to_ports'][0] + port - fwd['external_ports'][0]} via forward {fwd['name']}"
                if fwd else "edge public address (no forward)")
    host = next((name for name, h in (plan.get("hosts") or {}).items() if h.get("address") == address), None)
    if host is None:
        return address
    rule = next((r for r in plan["hosts"][host].get("inbound") or [] if r["protocol"] == protocol
                 and r["ports"][0] <= port <= r["ports"][1]), None)
    return f"{host} {rule['component']}/{rule['service']}" if rule else f"{host} (no rule)"


def vantage_checks(plan: dict, vantages: list[dict]) -> list[dict]:
    """[{vantage, source, address, protocol, port, expect_open, forbidden, invariant, target, why}]."""
    checks: dict[tuple, dict] = {}
    public = (plan.get("edge") or {}).get("public_address")
    edge_host = (plan.get("edge") or {}).get("host")
    for v in sorted(vantages, key=lambda x: x["name"]):
        src = v["address"]
        wanted: dict[tuple, dict] = {}
        for host, h in sorted((plan.get("hosts") or {}).items()):
            if host == edge_host or not h.get("address"):
                continue
            for rule in h.get("inbound") or []:
                wanted.setdefault((h["address"], rule["protocol"], rule["ports"][0]), {})
        if public:
            for fwd in plan.get("forwards") or []:
                wanted.setdefault((public, fwd["protocol"], fwd["external_ports"][0]), {})
        for probe in probes(plan, [v]):
            if probe["destination"] == (plan["hosts"].get(edge_host) or {}).get("address"):
                continue  # the edge's own addresses are the edge's business (its input chain, management)
            key = (probe["destination"], probe["protocol"], probe["port"])
            wanted[key] = probe
        for (address, protocol, port), probe in sorted(wanted.items()):
            verdict = evaluate(plan, src, address, port, protocol)
            forbidden = bool(probe.get("forbidden"))
            checks[(v["name"], address, protocol, port)] = {
                "vantage": v["name"], "source": src, "address": address, "protocol": protocol, "port": port,
                "expect_open": verdict.allowed, "forbidden": forbidden, "invariant": probe.get("invariant", ""),
                "target": _target(plan, address, protocol, port),
                "why": verdict.steps[-1] if verdict.steps else verdict.summary}
    return [checks[k] for k in sorted(checks)]


def wrong(results: list[dict]) -> list[dict]:
    """Results that differ from the evaluator, or reach what an invariant forbids."""
    out = []
    for r in results:
        reached = bool(r.get("open") or r.get("reached"))
        if reached != bool(r["expect_open"]) or (reached and r.get("forbidden")):
            out.append(r)
    return out


def line(check: dict) -> str:
    want = "open" if check.get("expect_open") else "closed"
    got = ""
    if "open" in check:
        got = " got " + ("open" if check["open"] else "reached (refused by the host)" if check.get("reached")
                         else "closed")
    rule = f"; INVARIANT {check['invariant']}" if check.get("forbidden") else ""
    return (f'{check["vantage"]} ({check["source"]}) -> {check["address"]} {check["protocol"]}/{check["port"]} '
            f'[{check["target"]}]: expect {want}{got} ({check["why"]}{rule})')
