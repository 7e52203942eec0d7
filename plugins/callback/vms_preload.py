"""Load the filter and test plugins once, in the controller process, before the first play (see DOCUMENTATION)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: vms_preload
type: aggregate
short_description: Load the filter and test plugins once, before the first play
description:
  - Ansible runs each task in a worker process forked from C(ansible-playbook). A worker that templates a
    filter or a test loads that plugin's directory itself (every file of it, and for the project's filters the
    C(vms_deploy) package behind them), then exits, so the next task's worker loads it all again. On the
    all-in-one demo site that was about 3 s of a 9 s no-change re-run (docs/BENCHMARKS.md).
  - When the playbook starts, after its plays, imports and static roles are loaded, this callback loads every
    filter and test plugin Ansible can find from there (its configured directories, the roles' own
    C(filter_plugins) and C(test_plugins), C(ansible.builtin)) in the controller process, once. Workers
    forked afterwards inherit them.
  - Changes nothing else and prints nothing. A plugin file that fails to load here is left alone; the task that
    uses it reports the error, as it would without this callback.
requirements:
  - Enabled in configuration (C(callbacks_enabled) in ansible.cfg)
"""

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, test_loader


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vms_preload"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        for loader in (filter_loader, test_loader):
            try:
                for _plugin in loader.all():
                    pass
            except Exception as exc:  # the task that needs the plugin will say what is wrong
                self._display.vvv(f"vms_preload: {loader.class_name} plugins not preloaded: {exc}")
