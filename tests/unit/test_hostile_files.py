"""Issue 23, class 5: files that are not files, and names too long to echo.

A FIFO in group_vars or host_vars used to hang every entry point (the size guard measured regular files only,
then Ansible opened the FIFO and waited forever); a symlink to /dev/zero passed the guard the same way; a
2 GB certificate file was read whole; a 5 MB variable name was echoed whole. Each is refused before anything
is compiled or written, naming the file or variable, in bounded time, through `vms-deploy plan` trusted and
`--untrusted` (ansible-playbook plan.yml: test_hostile_meaning_playbook.py).
Rules: docs/security.md "Bounded" (every inventory file is measured before any parser reads it) and
"Hostile input" class 8 (values over the limits are refused; messages show a preview, never the value).
"""
from __future__ import annotations

import os

import pytest
from hostile23 import plan, refused_line, site

LONG = "vms_" + "x" * 5_000_000


def _fifo(path):
    os.mkfifo(path)


def _zero(path):
    os.symlink("/dev/zero", path)


def _sparse(size):
    def make(path):
        with open(path, "wb") as handle:
            handle.truncate(size)
    return make


TLS_FILES = "vms_tls_mode: provided\nvms_tls_cert_file: site.pem\nvms_tls_key_file: site.key\n"
CASES = {
    # name: (extra group_vars/all.yml, files, parts of the refusal line)
    "fifo-group-vars": ("", {"group_vars/vms_recorders.yml": _fifo}, ["vms_recorders.yml", "not a regular file"]),
    "fifo-host-vars": ("", {"host_vars/xrec1.yml": _fifo}, ["xrec1.yml", "not a regular file"]),
    "fifo-all-dir": ("", {"group_vars/vms_gateways/main.yml": _fifo}, ["main.yml", "not a regular file"]),
    "fifo-inventory-source": ("", {"more.yml": _fifo}, ["more.yml", "not a regular file"]),
    "dev-zero-group-vars": ("", {"group_vars/vms_recorders.yml": _zero}, ["vms_recorders.yml", "not a regular file"]),
    "dev-zero-host-vars": ("", {"host_vars/xrec1.yml": _zero}, ["xrec1.yml", "not a regular file"]),
    "cert-2-gb": (TLS_FILES, {"site.pem": _sparse(2 * 1024 ** 3), "site.key": _sparse(2 * 1024 ** 3)},
                  ["vms_tls_cert_file", "bytes, more than"]),
    "cert-fifo": (TLS_FILES, {"site.pem": _fifo, "site.key": _fifo}, ["vms_tls_cert_file", "not a regular file"]),
    "cert-dev-zero": ("vms_tls_mode: provided\nvms_tls_cert_file: /dev/zero\nvms_tls_key_file: /dev/zero\n", {},
                      ["vms_tls_cert_file", "not a regular file"]),
    # An explicit YAML key (`? KEY`) has no 1024-character limit: the name reaches the validator.
    "long-variable-name": (f"? {LONG}\n: 1\n", {}, ["vms_xxxx", "is not a vms-deploy variable"]),
    "long-variable-name-host": ("", {"host_vars/xrec1.yml": f"? {LONG}\n: 1\n"}, ["vms_xxxx", "not a vms-deploy"]),
    "long-variable-name-ini": ("", {"more.ini": f"[vms_recorders:vars]\n{LONG}=1\n"}, ["vms_xxxx", "not a vms-deploy"]),
}


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_file_that_is_not_a_file_is_refused_in_bounded_time(tmp_path, capsys, case, untrusted):
    extra_all, files, parts = CASES[case]
    inv = site(tmp_path, extra_all, files)
    out = tmp_path / "plan"
    code, text, elapsed = plan(capsys, inv, out, untrusted)
    assert "Traceback" not in text
    assert code == 2, text[-2000:]
    assert not out.exists()
    assert refused_line(text, *parts), text[-2000:]
    assert len(text) < 20_000, "a message must show a preview, never the whole name or value"
    assert elapsed < 20, f"{elapsed:.1f} s"


def test_a_certificate_of_normal_size_is_still_read(tmp_path, capsys):
    """The size limit is far above a real chain: a small PEM that is not a certificate is still judged
    as one (the existing check), not refused for its size."""
    inv = site(tmp_path, TLS_FILES, {"site.pem": "not a certificate\n", "site.key": "not a key\n"})
    code, text, _ = plan(capsys, inv, tmp_path / "plan", untrusted=False)
    assert code == 2
    assert "bytes, more than" not in text and "vms_tls_cert_file" in text
