"""Issue 23, class 7: no message, warning, plan, diff or report ever carries a secret's value.

A canary is put in every secret variable (the secret variables of the spec and of Ansible's connection,
docs/security.md "Secrets"), in the positions where a message is about to quote it: a site-wide list that
differs between hosts (the detail used to repr both values), a misspelled secret name (the unknown-variable
message), an oversized value (the loader's preview), a wrong type, a secret inside a list of mappings, and the
same text reused in a variable that is shown. Every case runs through `vms-deploy plan` trusted and
`--untrusted`; the valid site with a vaulted canary in every secret variable also through diff and report.
Expectation (docs/security.md): "messages never show secret values".
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vms_deploy import cli
from vms_deploy.secrets import is_secret_variable
from vms_deploy.validate.spec import inventory_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "examples" / "xprotect_distributed_dmz"
CANARY = "CanaryQ7zx9"
# A WireGuard-shaped canary (44 characters of base64 ending in '='), so the key checks accept it.
WG_CANARY = (CANARY + "A" * 43)[:43] + "="
SPEC_SECRETS = sorted(n for n in inventory_spec() if is_secret_variable(n))
CONNECTION_SECRETS = ["ansible_password", "ansible_become_password", "ansible_winrm_password"]


def _site(tmp_path: Path, extra_all: str = "", host_vars: dict[str, str] | None = None) -> Path:
    inv = tmp_path / "site"
    shutil.copytree(EXAMPLE, inv)
    with (inv / "group_vars" / "all.yml").open("a") as f:
        f.write(extra_all)
    for host, text in (host_vars or {}).items():
        (inv / "host_vars").mkdir(exist_ok=True)
        (inv / "host_vars" / f"{host}.yml").write_text(text)
    return inv


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def _files_with(directory: Path, text: str) -> list[str]:
    if not directory.exists():
        return []
    return [str(p) for p in directory.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_the_spec_has_secret_variables():
    # The cases below cover every one of them; a new secret variable is covered by the parametrize.
    assert {"vms_tls_pfx_password", "vms_vpn_edge_private_key"} <= set(SPEC_SECRETS)


PEER = "{name: laptop, public_key: %s, private_key: %s}"
CASES = {
    # The reported leak: a site-wide list that differs between hosts quoted both values in the problem.
    "peers-differ-between-hosts": (
        f"vms_remote_access: vpn\nvms_vpn_network: 10.99.0.0/24\nvms_vpn_peers: [{PEER % (WG_CANARY, CANARY + '1')}]\n",
        {"xrec1": f"vms_vpn_peers: [{PEER % (WG_CANARY, CANARY + '2')}]\n"}),
    # A misspelled secret name: "did you mean vms_vpn_edge_private_key?" while printing the key.
    "misspelled-edge-key": (f"vms_vpn_edge_privat_key: {WG_CANARY}\n", {}),
    "misspelled-pfx-password": (f"vms_tls_pfx_passwrd: {CANARY}\n", {}),
    # Oversized: the loader's preview of the value.
    "oversized-secret": (f"vms_tls_pfx_password: '{CANARY}{'y' * 70000}'\n", {}),
    # The secret's text reused in a variable that is shown (a name, a site).
    "secret-reused-as-name": (f"vms_tls_key_passphrase: '{CANARY}..x'\nvms_tls_names: ['{CANARY}..x']\n", {}),
    "connection-password-reused": (f"ansible_password: 'x {CANARY}'\nvms_public_name: 'x {CANARY}'\n", {}),
}
CASES.update({f"{name}-wrong-type": (f"{name}: [{CANARY}]\n", {}) for name in SPEC_SECRETS})
CASES.update({f"{name}-differs": (f"{name}: {CANARY}-a-long-one\n", {"xrec1": f"{name}: [{CANARY}]\n"})
              for name in SPEC_SECRETS + CONNECTION_SECRETS})

# Per-host secrets may differ between hosts (each host its own password): those plan; every other case is refused.
ACCEPTED = {f"{name}-differs" for name in CONNECTION_SECRETS}


@pytest.mark.parametrize("untrusted", [False, True], ids=["trusted", "untrusted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_no_refusal_quotes_a_secret(tmp_path, capsys, case, untrusted):
    extra_all, host_vars = CASES[case]
    inv = _site(tmp_path, extra_all, host_vars)
    out = tmp_path / "plan"
    code, text = _run(capsys, "plan", str(inv), "--out", str(out), *(["--untrusted"] if untrusted else []))
    assert "Traceback" not in text
    assert CANARY not in text, text
    assert not _files_with(out, CANARY)
    assert code == (0 if case in ACCEPTED else 2), text


def _vaulted(value: str, password: str) -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret

    cipher = VaultLib([("default", VaultSecret(password.encode()))]).encrypt(value).decode()
    return "!vault |\n" + "\n".join("  " + line for line in cipher.splitlines())


def test_a_valid_site_with_a_vaulted_canary_in_every_secret_carries_none(tmp_path, capsys):
    """plan, diff and report of a site whose every secret variable holds the canary (vaulted and
    decrypted by the trusted run): no output and no written file holds it."""
    password = "vault-pass-for-the-test"
    (tmp_path / "vault-pass").write_text(password)
    values = {name: WG_CANARY if "private_key" in name else CANARY + "-Long!9" for name in SPEC_SECRETS}
    values.update({name: CANARY + "-Conn!9" for name in CONNECTION_SECRETS})
    values["vms_tls_mode"] = None  # keep auto: a passphrase without files is fine, a pfx password too
    extra = "".join(f"{k}: {_vaulted(v, password)}\n" for k, v in values.items() if v is not None)
    extra += "vms_remote_access: vpn\nvms_vpn_network: 10.99.0.0/24\n"
    inv = _site(tmp_path, extra)
    vault = ["--vault-password-file", str(tmp_path / "vault-pass")]
    plan_a, plan_b, report = tmp_path / "a", tmp_path / "b", tmp_path / "report"
    outputs = []
    for argv in (["plan", str(inv), "--out", str(plan_a), *vault],
                 ["plan", str(inv), "--out", str(plan_b), "--untrusted"],
                 ["diff", str(plan_a / "plan.json"), str(plan_b / "plan.json")],
                 ["report", str(inv), "--out", str(report), "--no-picture", *vault]):
        code, text = _run(capsys, *argv)
        assert "Traceback" not in text, (argv, text)
        outputs.append(text)
        assert code in (0, 1), (argv, text)
    assert (plan_a / "plan.json").is_file()
    for text in outputs:
        assert CANARY not in text
    for directory in (plan_a, plan_b, report):
        assert not _files_with(directory, CANARY), directory
