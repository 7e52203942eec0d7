"""Issue 23: one sample per hostile-input class through `ansible-playbook playbooks/plan.yml` (the third entry
point; the CLI runs every case, trusted and --untrusted, in test_hostile_*.py). Each is refused before a plan
is written, naming the variable and a fix, with no traceback, in bounded time. About 6 s a sample."""
from __future__ import annotations

import os

import pytest
from hostile23 import playbook, site

CANARY = "CanaryQ7zx9"
PEER = "{name: laptop, public_key: %s, private_key: %s}"
SAMPLES = {
    # class 7: a site-wide list holding a secret differs between hosts; the message must not quote it
    "7-secret-differs": ("vms_remote_access: vpn\nvms_vpn_network: 10.99.0.0/24\n"
                         f"vms_vpn_peers: [{PEER % ('k', CANARY + '1')}]\n",
                         {"host_vars/xrec1.yml": f"vms_vpn_peers: [{PEER % ('k', CANARY + '2')}]\n"},
                         "vms_vpn_peers = (secret, not shown) differs between hosts"),
    # class 5: a FIFO in group_vars (the guard measured regular files only; Ansible then waited on it)
    "5-fifo-group-vars": ("", {"group_vars/vms_recorders.yml": os.mkfifo},
                          "is a FIFO (named pipe), not a regular file"),
    "5-dev-zero-host-vars": ("", {"host_vars/xrec1.yml": lambda p: os.symlink("/dev/zero", p)},
                             "is a character device, not a regular file"),
    # class 8: a hand-written (empty) vms_plan_hosts group made site.yml skip the grouping: no firewall applied
    "8-empty-plan-hosts": ("", {"extra.yml": "all:\n  children:\n    vms_plan_hosts:\n      hosts: {}\n"},
                           "site: vms_plan_hosts = [] is a group vms-deploy makes from the plan at run time"),
    # class 4: a second allow-list key in the same file (YAML keeps the last one without a word)
    "4-duplicate-allowlist": ("vms_remote_allowlist: [0.0.0.0/0]\n", {},
                              "has the key 'vms_remote_allowlist' twice in one mapping"),
    # class 1: event sources on the camera network (seed 001: cameras talk to recorders only)
    "1-events-from-cameras": ("vms_event_source_networks: [10.50.50.0/24]\n", {},
                              "vms_event_source_networks = '10.50.50.0/24' overlaps vms_camera_networks"),
    # class 2: a custom service on the Management Server's local-only port (seed 001: local connection only)
    "2-custom-on-local-only": ("", {"host_vars/xmgmt.yml":
                                    "vms_custom_services:\n  - {name: agent, protocol: tcp, port: 8080}\n"},
                               "vms_custom_services[0].port = 8080 is the local-only port of"),
    # class 3: a site-wide setting on one host only (the first host carrying it won for the whole site)
    "3-remote-access-on-one-host": ("", {"host_vars/xmobile.yml": "vms_remote_access: none\n"},
                                    "vms_remote_access = 'none' is set on 1 of 7 hosts only"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_plan_playbook_refuses_the_sample(tmp_path, name):
    extra_all, files, expected = SAMPLES[name]
    inv = site(tmp_path, extra_all, files)
    out = tmp_path / "plan"
    rc, text = playbook(inv, out)
    assert rc != 0, text
    assert expected in text, text
    assert "Fix: " in text and "Traceback" not in text
    assert CANARY not in text
    assert not out.exists()
