"""One closing line when a run stops on hosts that failed or went away (see DOCUMENTATION)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: vms_run_summary
type: aggregate
short_description: Say in one line what a stopped run changed and did not change
description:
  - When a run ends with hosts unreachable or failed, prints one line after the recap naming those hosts,
    the hosts this run changed (with the number of changed tasks) and the hosts it did not change, and
    what to do next (re-run once the hosts answer; every stage is idempotent).
  - A run where every host finished prints nothing more than the recap.
requirements:
  - none
"""

from ansible.plugins.callback import CallbackBase


def _names(hosts) -> str:
    return ", ".join(sorted(hosts)) or "none"


def summary_line(stats: dict[str, dict[str, int]]) -> str | None:
    """{host: {changed, failures, unreachable, ...}} (Ansible's per-host stats) -> the line, or None when
    every host finished."""
    unreachable = [h for h, s in stats.items() if s.get("unreachable")]
    failed = [h for h, s in stats.items() if s.get("failures") and h not in unreachable]
    if not unreachable and not failed:
        return None
    changed = {h: s["changed"] for h, s in stats.items() if s.get("changed")}
    unchanged = [h for h in stats if h not in changed]
    stopped = "; ".join(part for part in (f"unreachable: {_names(unreachable)}" if unreachable else "",
                                          f"failed: {_names(failed)}" if failed else "") if part)
    changed_text = ", ".join(f"{h} ({n} task{'s' if n != 1 else ''})" for h, n in sorted(changed.items())) or "none"
    return (f"vms-deploy: the run stopped ({stopped}). Changed: {changed_text}. Not changed: {_names(unchanged)}. "
            "Fix the hosts named and run the same command again (every stage is idempotent).")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vms_run_summary"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        line = summary_line({host: stats.summarize(host) for host in stats.processed})
        if line:
            self._display.display(line, color="bright red", stderr=False)
