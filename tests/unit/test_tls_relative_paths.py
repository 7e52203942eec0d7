"""One rule for a relative TLS file path (issue 20 item 3): relative to the inventory directory, for the plan's
check and for the certificates role alike; the working directory is never looked at."""
from __future__ import annotations

from pathlib import Path

import yaml

from vms_deploy import certs

ROOT = Path(__file__).resolve().parents[2]


def test_a_relative_path_is_the_inventory_directorys_even_when_the_working_directory_has_the_file(tmp_path,
                                                                                                  monkeypatch):
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    (elsewhere / "tls").mkdir(parents=True)
    (elsewhere / "tls" / "site.pem").write_text("not the site's")
    site.mkdir()
    monkeypatch.chdir(elsewhere)
    # Before: a file missing beside the inventory was taken from the working directory, which the role's
    # lookup never reads, so the check passed on one file and the run used another (or failed).
    assert certs.resolve_path("tls/site.pem", str(site)) == str(site / "tls" / "site.pem")
    assert certs.resolve_path("/abs/site.pem", str(site)) == "/abs/site.pem"


def test_the_certificates_role_joins_relative_paths_to_inventory_dir():
    defaults = yaml.safe_load((ROOT / "roles/certificates/defaults/main.yml").read_text(encoding="utf-8"))
    for var in ("cert_file", "key_file", "chain_file", "pfx_file", "trust_file"):
        text = defaults[f"certificates_{var}"]
        assert f"vms_tls_{var} is abs" in text and f"inventory_dir ~ '/' ~ vms_tls_{var}" in text, var
