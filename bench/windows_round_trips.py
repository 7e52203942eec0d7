#!/usr/bin/env python3
"""WinRM round trips of the Windows firewall stage: this toolkit's one script run per host against one
community.windows.win_firewall_rule task per rule (a bench measure, counted from the plan; the product
renders rules and never counts round trips).

    python3 bench/windows_round_trips.py INVENTORY...
"""
from __future__ import annotations

import sys
from pathlib import Path

from vms_deploy.errors import ValidationFailed, WindowsInputError
from vms_deploy.ports import WINRM_HTTPS_PORT
from vms_deploy.render.windows_firewall import rules_for_host


def round_trips(plan: dict, winrm_port: int = WINRM_HTTPS_PORT) -> dict:
    """host -> {rules, script, per_rule_module} for each Windows host. Hosts without a management
    source are counted as if the WinRM rule were present."""
    out = {}
    for host in sorted(plan.get("hosts", {})):
        if plan["hosts"][host].get("platform") != "windows":
            continue
        try:
            count = len(rules_for_host(plan, host, winrm_port))
        except WindowsInputError:
            count = len(rules_for_host(plan, host, winrm_port, ["0.0.0.0/32"]))
        out[host] = {"rules": count, "script": 1, "per_rule_module": count}
    return out


def main(argv=None) -> int:
    from vms_deploy.inventory import load_inventory
    from vms_deploy.pipeline import compile_plan

    paths = (argv if argv is not None else sys.argv[1:]) or []
    if not paths:
        print(f"usage: python3 {Path(__file__).name} INVENTORY...", file=sys.stderr)
        return 2
    print("| inventory | Windows host | rules | round trips (this script) | round trips (win_firewall_rule per rule) |")
    print("| --- | --- | --- | --- | --- |")
    for path in paths:
        try:
            plan = compile_plan(load_inventory(path))
        except ValidationFailed as exc:
            print(exc, file=sys.stderr)
            return 1
        for host, row in round_trips(plan).items():
            print(f"| {path} | {host} | {row['rules']} | {row['script']} | {row['per_rule_module']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
