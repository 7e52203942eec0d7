"""The real Windows roles and playbooks/stages/windows_hosts.yml, run here against a stand-in Windows host.

There is no Windows, WinRM or PowerShell on this machine. This test writes throw-away collections
``ansible.windows`` and ``microsoft.iis`` whose modules are small Python programs: each records the exact
arguments the role passed (one JSON line per call) and answers from a JSON state file that plays the host
(services, features, firewall rules, certificates, IIS bindings). The playbook runs with
ansible_connection=local. The firewall script is answered with the Python mirror of its decision
(vms_deploy.render.windows_firewall.reconcile), the other scripts with theirs.

Fidelity (issue 14): the fake modules reproduce the real modules' preconditions and failure modes, taken
from their sources in the installed collections (each behaviour names the source it comes from):
win_copy fails when a file's parent folder is missing, win_package downloads a URL without product_id
before its idempotence check (also in check mode) and sets reboot_required only for 3010, win_reboot
fails on a shutdown already in progress (1115), win_powershell skips a script without
SupportsShouldProcess in check mode, microsoft.iis.website leaves http.sys' certificate entry behind and
then fails with 0x800700B7, and calls AddSslCertificate in check mode.

What it proves: every Jinja expression and filter in the Windows roles evaluates on real plans; the
module parameters the roles send (golden files tests/golden/windows/dryrun/*.json); the control flow
(check mode changes nothing, a second run changes nothing, drift is repaired, prechecks stop the run,
manual steps stop with their message). What it cannot prove: how the real Windows modules, the
PowerShell scripts and the vendors' installers behave (docs/windows.md).

Regenerate the call goldens with VMS_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from vms_deploy.inventory import load_inventory
from vms_deploy.pipeline import compile_plan
from vms_deploy.plan_io import host_digest
from vms_deploy.render import windows_install

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "windows"
SETTINGS = yaml.safe_load((GOLDEN / "settings.yml").read_text(encoding="utf-8"))
UPDATE = os.environ.get("VMS_UPDATE_GOLDEN") == "1"
TIMEOUT = 300
PFX_PASSWORD = "dry-run-pfx-password"

MODULES = {
    "ansible.windows": ["setup", "win_ping", "win_powershell", "win_feature", "win_package", "win_service",
                        "win_service_info", "win_copy", "win_file", "win_tempfile", "win_reboot",
                        "win_certificate_info", "win_certificate_store"],
    "microsoft.iis": ["website", "website_info"],
}

STUB = r'''#!/usr/bin/python
# Fake @FQCN@ for the vms-deploy Windows dry run (tests/unit/test_windows_roles_dryrun.py).
# WANT_JSON: an old-style module, run without AnsiballZ (fast); its arguments arrive as a JSON file.
# Each behaviour that reproduces a precondition or failure of the real module names the line of the
# real module's source (installed collections) it comes from.
import json, os, re, sys, tempfile

FQCN = "@FQCN@"
ROOT = os.environ["VMS_FAKE_ROOT"]


def main():
    with open(sys.argv[1]) as fh:
        params = json.load(fh)
    check = bool(params.get("_ansible_check_mode"))
    args = {k: v for k, v in params.items() if not k.startswith("_ansible")}
    host = os.environ["VMS_FAKE_HOST"]
    state_path = os.path.join(os.environ["VMS_FAKE_STATE"], host + ".json")  # one file per host: forks run in parallel
    with open(state_path) as fh:
        state = json.load(fh)
    with open(os.environ["VMS_FAKE_LOG"], "a") as fh:  # one short write per call: whole lines
        fh.write(json.dumps({"host": host, "module": FQCN, "check": check, "args": args}, sort_keys=True) + "\n")
    name = FQCN.split(".")[-1]
    if state.get("restart_in_progress") and name != "win_reboot":
        # an installer exited 1641 and restarted the host; any later connection meets the restarted host
        state["restart_in_progress"] = False
        state["boot_time"] = "boot-%d" % (int(state.get("boot_time", "boot-0").split("-")[1]) + 1)
        state["persist"] = True
    result = answer(name, args, state, check)
    if not check or state.pop("persist", False):
        state.pop("persist", None)
        with open(state_path + ".new", "w") as fh:
            json.dump(state, fh, indent=1, sort_keys=True)
        os.replace(state_path + ".new", state_path)
    result.setdefault("changed", False)
    print(json.dumps(result))
    sys.exit(1 if result.get("failed") else 0)


def win_dir(path):
    return str(path).replace("/", "\\").rstrip("\\").lower().rpartition("\\")[0]


def is_win_path(path):
    return bool(re.match(r"^[A-Za-z]:\\", str(path)))


def answer(name, args, state, check):
    services = state.setdefault("services", {})
    if name == "win_ping":
        return {"ping": "pong"}
    if name == "setup":
        return {"ansible_facts": {"ansible_distribution_version": state.get("version", "10.0.20348.0")}}
    if name == "win_feature":
        names = args["name"] if isinstance(args["name"], list) else [args["name"]]
        missing = [n for n in names if not state.setdefault("features", {}).get(n)]
        for n in missing:
            state["features"][n] = True
        return {"changed": bool(missing), "reboot_required": False, "success": True}
    if name == "win_package":
        return win_package(args, state, check)
    if name == "win_service_info":
        svc = services.get(args["name"])
        return {"exists": svc is not None, "services": [dict(svc, name=args["name"])] if svc else []}
    if name == "win_service":
        svc = services.get(args["name"])
        if svc is None:  # win_service.ps1: fails for a service that does not exist
            return {"failed": True, "msg": "Service '%s' is not installed" % args["name"]}
        want = {"start_mode": args.get("start_mode", svc["start_mode"]), "state": args.get("state", svc["state"])}
        changed = want != svc
        services[args["name"]] = want
        return {"changed": changed}
    if name == "win_tempfile":
        return {"changed": True, "path": tempfile.mkstemp(suffix=args.get("suffix", ""))[1]}
    if name == "win_copy":
        return win_copy(args, state, check)
    if name == "win_file":
        path = args["path"]
        if args.get("state") == "absent":
            if is_win_path(path):
                had = state.setdefault("files", {}).pop(path.lower(), None) is not None
                return {"changed": had}
            if os.path.exists(path):
                if not check:
                    os.remove(path)
                return {"changed": True}
        return {"changed": False}
    if name == "win_reboot":
        if state.get("restart_in_progress"):
            # plugin_utils/_reboot.py handles only 1190 (a shutdown is scheduled); an installer that exited
            # 1641 has a shutdown IN PROGRESS and shutdown.exe /r answers 1115
            return {"failed": True, "rc": 1115, "msg": "win_reboot: Reboot command failed",
                    "stderr": "A system shutdown is in progress.(1115)"}
        state["reboots"] = state.get("reboots", 0) + 1
        state["boot_time"] = "boot-%d" % (int(state.get("boot_time", "boot-0").split("-")[1]) + 1)
        return {"changed": True, "rebooted": True}
    if name == "win_certificate_info":
        store = state.setdefault("stores", {}).get(args.get("store_name", "My"), [])
        if args.get("store_name", "My") == "My":
            store = state.setdefault("certificates", [])
        return {"exists": args["thumbprint"] in store, "certificates": []}
    if name == "win_certificate_store":
        return win_certificate_store(args, state, check)
    if name == "website_info":
        site = state.get("iis_sites", {}).get(args["name"])
        return {"exists": site is not None,
                "site": [{"name": args["name"], "bindings": site["bindings"]}] if site is not None else []}
    if name == "website":
        return website(args, state, check)
    if name == "win_powershell":
        return powershell(args, state, check)
    return {"failed": True, "msg": "fake module has no behaviour for " + name}


def win_copy(args, state, check):
    dest = args["dest"]
    if check:  # action/win_copy.py: the "single" copy never runs in check mode
        return {"changed": True, "dest": dest}
    if is_win_path(dest):
        parent = win_dir(dest)
        if dest.endswith(("\\", "/")):
            return {"failed": True, "msg": "fake win_copy: dest as a folder is not modelled"}
        if parent not in [d.lower() for d in state.setdefault("dirs", [])]:
            # win_copy.ps1, _copy_mode "single": dest is a file path whose parent is missing
            return {"failed": True, "msg": "Destination directory '%s' does not exist" % parent}
        content = args.get("content")
        if content is None:
            with open(args["src"], "rb") as fh:
                content = "<%d bytes from %s>" % (len(fh.read()), os.path.basename(args["src"]))
        state.setdefault("files", {})[dest.lower()] = content
        return {"changed": True, "dest": dest}
    if "src" in args:
        import shutil
        shutil.copyfile(args["src"], dest)
    else:
        with open(dest, "w") as fh:
            fh.write(args.get("content", ""))
    return {"changed": True, "dest": dest}


def win_package(args, state, check):
    path = args["path"]
    services = state["services"]
    if path.lower().startswith("http") and not args.get("product_id"):
        # win_package.ps1: a URL without product_id is downloaded BEFORE the idempotence check, also in check mode
        state.setdefault("downloads", []).append(path)
        state["persist"] = True
    key = args.get("creates_service")
    done = key in services if key else args.get("product_id") in state.setdefault("products", [])
    if done or check:
        return {"changed": not done, "reboot_required": False, "rc": 0}
    if path.lower().startswith("http") and args.get("product_id"):
        state.setdefault("downloads", []).append(path)
    behaviour = state.get("installs", {}).get(path, {})
    for svc in behaviour.get("services", [key] if key else []):
        services.setdefault(svc, {"start_mode": behaviour.get("start_mode", "manual"), "state": "stopped"})
    if args.get("product_id"):
        state["products"].append(args["product_id"])
    if behaviour.get("configurator"):
        state["configurator"] = True
    rc = int(behaviour.get("rc", 0))
    if rc not in [int(c) for c in args.get("expected_return_code", [0, 3010])]:
        return {"failed": True, "rc": rc, "msg": "unexpected rc from install: %d" % rc}
    if rc == 1641:
        state["restart_in_progress"] = True  # the installer itself started the restart
    # win_package.ps1: reboot_required only for 3010
    return {"changed": True, "reboot_required": rc == 3010, "rc": rc}


def win_certificate_store(args, state, check):
    path = args["path"]
    if not os.path.exists(path):
        return {"failed": True, "msg": "file at path '%s' does not exist" % path}
    with open(path, "rb") as fh:
        data = fh.read()
    store = args.get("store_name", "My")
    if store == "My":
        sys.path.insert(0, os.path.join(ROOT, "src"))
        from vms_deploy.render.windows_certificates import pfx_thumbprint
        try:
            thumb = pfx_thumbprint("fake", data, args.get("password"))
        except ValueError as exc:  # win_certificate_store.ps1: "Failed to load cert from file"
            return {"failed": True, "msg": "Failed to load cert from file: %s" % exc}
        target = state.setdefault("certificates", [])
    else:
        sys.path.insert(0, os.path.join(ROOT, "src"))
        from vms_deploy.render.windows_certificates import pem_thumbprint
        thumb = pem_thumbprint("fake", data.decode())
        target = state.setdefault("stores", {}).setdefault(store, [])
    new = thumb not in target
    if new and not check:
        target.append(thumb)
    return {"changed": new, "thumbprints": [thumb]}


def website(args, state, check):
    # microsoft.iis.website 1.1.0 (website.ps1), kept so the old two-call binding swap can be shown failing
    site = state["iis_sites"][args["name"]]
    sslcert = state.setdefault("sslcert", {})
    key = lambda b: "%s:%s:%s" % (b.get("ip") or "", b.get("port"), b.get("hostname") or "")
    changed = False
    for b in (args.get("bindings") or {}).get("add") or []:
        existing = [x for x in site["bindings"] if key(x) == key(b)]
        ipport = "0.0.0.0:%s" % b["port"]
        if existing:
            if b.get("certificate_hash"):  # website.ps1 l.261-263: AddSslCertificate, even in check mode
                if b["certificate_hash"] not in state.get("certificates", []):
                    return {"failed": True, "msg": "Unable to locate certificate " + b["certificate_hash"]}
                sslcert[ipport] = b["certificate_hash"]
                state["persist"] = True
            continue
        if check:
            changed = True
            continue
        if b.get("certificate_hash"):
            if ipport in sslcert and sslcert[ipport] != b["certificate_hash"]:
                # http.sys still holds the removed binding's certificate for 0.0.0.0:<port>
                site["bindings"].append({"ip": b["ip"], "port": b["port"], "hostname": b.get("hostname") or "",
                                         "protocol": b["protocol"], "certificate_hash": None})
                return {"failed": True, "msg": "Cannot create a file when that file already exists. "
                        "(Exception from HRESULT: 0x800700B7)"}
            if b["certificate_hash"] not in state.get("certificates", []):
                return {"failed": True, "msg": "Unable to locate certificate " + b["certificate_hash"]}
            sslcert[ipport] = b["certificate_hash"]
        site["bindings"].append({"ip": b["ip"], "port": b["port"], "hostname": b.get("hostname") or "",
                                 "protocol": b["protocol"], "certificate_hash": b.get("certificate_hash")})
        changed = True
    for b in (args.get("bindings") or {}).get("remove") or []:
        before = len(site["bindings"])
        if not check:  # Remove-WebBinding leaves http.sys' sslcert entry in place
            site["bindings"] = [x for x in site["bindings"] if key(x) != key(b)]
        changed |= any(key(x) == key(b) for x in site["bindings"]) or len(site["bindings"]) != before
    return {"changed": changed}


def script_text(args):
    if args.get("script"):
        return args["script"]
    import glob
    found = glob.glob(os.path.join(ROOT, "roles", "*", "files", args.get("path") or "-"))
    return open(found[0]).read() if found else ""


def powershell(args, state, check):
    text = script_text(args)
    if not text:
        return {"failed": True,
                "msg": f"fake win_powershell: script {args.get('path')!r} not found in any role's files/"}
    if check and not re.search(r"\[CmdletBinding\((?:[\w=$]+,\s*)?SupportsShouldProcess(?:=\$true)?"
                               r"(?:,\s*[\w=$]+)?\)\]", text):
        # win_powershell.ps1 l.586-592: without SupportsShouldProcess the script is skipped in check mode
        return {"changed": True, "msg": "skipped, running in check mode"}
    sys.path.insert(0, os.path.join(ROOT, "src"))
    script = args.get("path") or ""
    p = args.get("parameters") or {}
    if script == "Get-VmsHostFacts.ps1":
        return {"changed": False, "result": {
            "free_bytes": state.get("free_bytes", {}).get(p.get("Drive")),
            "listeners": state.get("listeners", []),
            "services": [s for s in p.get("Services", []) if s in state.get("services", {})],
            "features": {f: bool(state.get("features", {}).get(f)) for f in p.get("Features", [])}}}
    if script == "Get-VmsInstalledState.ps1":
        return {"changed": False, "result": {
            "services": [s for s in p.get("Services", []) if s in state.get("services", {})],
            "products": [i for i in p.get("ProductIds", []) if i in state.get("products", [])],
            "boot_time": state.get("boot_time", "boot-0")}}
    if script == "Set-VmsPrivateFolder.ps1":
        path = p["Path"].lower()
        dirs = [d.lower() for d in state.setdefault("dirs", [])]
        private = state.setdefault("private_dirs", [])
        changed = path not in dirs or path not in private
        if changed and not check:
            if win_dir(path) not in dirs:
                return {"failed": True, "msg": "New-Item: parent of %s missing" % path}
            state["dirs"] = sorted(set(dirs) | {path})
            state["private_dirs"] = sorted(set(private) | {path})
        return {"changed": changed, "result": {"created": path not in dirs, "acl_changed": path not in private}}
    if script == "Set-VmsFirewallRuleGroup.ps1":
        from vms_deploy.render.windows_firewall import diff_text, digest_found, reconcile
        current = state.setdefault("firewall", [])
        try:
            plan = reconcile(current, p["Rules"], int(p["WinRmPort"]), state.get("winrm_peers", []))
        except ValueError as exc:
            return {"failed": True, "msg": str(exc)}
        count = len(plan["add"]) + len(plan["update"]) + len(plan["remove"])
        result = {"changed": count > 0, "result": {
            "added": [r["name"] for r in plan["add"]], "updated": [u["name"] for u in plan["update"]],
            "removed": plan["remove"], "unchanged": plan["unchanged"], "digest": digest_found(current),
            "foreign": [r for r in state.get("foreign_rules", []) if r.get("enabled", True)],
            "profiles": state.get("profiles", [])}}
        if count:
            before, after = diff_text(current, p["Rules"])
            result["diff"] = {"before": before, "after": after}
            if not check:
                state["firewall"] = [dict(r) for r in p["Rules"]]
        return result
    if script == "Get-VmsServedCertificate.ps1":
        served = state.get("served", {})
        return {"changed": False, "result": {str(port): served.get(str(port)) for port in p.get("Ports", [])}}
    if script == "Test-VmsTcpPort.ps1":
        closed = state.get("closed_ports", [])
        return {"changed": False, "result": {str(port): port not in closed for port in p.get("Ports", [])}}
    if script == "Set-VmsIisHttpsBinding.ps1":
        from vms_deploy.render.windows_certificates import binding_swap_plan
        site = state.get("iis_sites", {}).get(p["SiteName"])
        if site is None:
            return {"failed": True, "msg": "IIS site '%s' not found" % p["SiteName"]}
        sslcert = state.setdefault("sslcert", {})
        swap = binding_swap_plan(site["bindings"], sslcert, p["Thumbprint"], p["Port"], p["IPAddress"], p["HostName"])
        if swap["action"] != "none" and not check:
            if p["Thumbprint"] not in state.get("certificates", []):
                return {"failed": True, "msg": "certificate %s is not in LocalMachine\\My" % p["Thumbprint"]}
            gone = {tuple(str(x) for x in r) for r in swap["remove_bindings"]}
            site["bindings"] = [b for b in site["bindings"]
                                if (b["ip"], str(b["port"]), b["hostname"] or "") not in gone]
            for k in swap["delete_sslcert"]:
                sslcert.pop(k, None)
            site["bindings"] = [b for b in site["bindings"]
                                if not (b["port"] == p["Port"] and b["protocol"] == "https")]
            site["bindings"].append({"ip": "*", "port": p["Port"], "hostname": "", "protocol": "https",
                                     "certificate_hash": p["Thumbprint"]})
            sslcert["0.0.0.0:%d" % p["Port"]] = p["Thumbprint"]
        return {"changed": swap["action"] != "none", "result": {"action": swap["action"]}}
    if script == "Set-VmsXProtectEncryption.ps1":
        from vms_deploy.render.windows_certificates import parse_certificate_groups
        if not state.get("configurator"):
            if check:  # the script predicts in check mode before the install ran
                return {"changed": bool(p.get("Groups")), "result": {"groups": {}, "enabled": p.get("Groups", [])}}
            return {"failed": True, "msg": "Server Configurator not found at '%s'" % p["Configurator"]}
        from vms_deploy.render.windows_certificates import match_certificate_group
        listed = parse_certificate_groups(state.get("configurator_output", []))
        ids = {}
        for group in p.get("Groups", []):
            hit = match_certificate_group(listed, group)
            if hit is None:
                return {"failed": True, "msg": "certificate group '%s' is not one of %s" % (group, sorted(listed))}
            ids[group] = listed[hit]
        enc = state.setdefault("encryption", {})
        todo = [g for g in ids if enc.get(ids[g]) != p["Thumbprint"]]
        acl = p["ServiceAccount"] not in state.setdefault("key_readers", [])
        if not check:
            for g in todo:
                enc[ids[g]] = p["Thumbprint"]
                for port in state.get("serves_by_group", {}).get(g, []):
                    state.setdefault("served", {})[str(port)] = p["Thumbprint"]
            if acl:
                state["key_readers"].append(p["ServiceAccount"])
        return {"changed": bool(todo) or acl, "result": {"groups": ids, "enabled": todo, "key_acl_changed": acl}}
    if "vms-deploy: last boot time" in text:
        return {"changed": False, "result": state.get("boot_time", "boot-0")}
    if "vms-deploy: disable foreign firewall rules" in text:
        names = set(p.get("Names", []))
        hit = [r for r in state.get("foreign_rules", []) if r["name"] in names and r.get("enabled", True)]
        if not check:
            for r in hit:
                r["enabled"] = False
        return {"changed": bool(hit), "result": [r["name"] for r in hit]}
    return {"failed": True, "msg": "fake win_powershell does not know script " + repr(script or text[:60])}


if __name__ == "__main__":
    main()
'''


def build_fake_collections(root: Path) -> Path:
    """Write the fake collections under root/ansible_collections and return root."""
    for collection, modules in MODULES.items():
        namespace, name = collection.split(".")
        base = root / "ansible_collections" / namespace / name
        (base / "plugins" / "modules").mkdir(parents=True, exist_ok=True)
        (base / "meta").mkdir(exist_ok=True)
        (base / "meta" / "runtime.yml").write_text("---\nrequires_ansible: '>=2.15'\n", encoding="utf-8")
        (base / "MANIFEST.json").write_text(json.dumps(
            {"collection_info": {"namespace": namespace, "name": name, "version": "0.0.0-fake"},
             "file_manifest_file": {"name": "FILES.json", "ftype": "file", "format": 1}, "format": 1}),
                                            encoding="utf-8")
        for module in modules:
            (base / "plugins" / "modules" / f"{module}.py").write_text(
                STUB.replace("@FQCN@", f"{collection}.{module}"), encoding="utf-8")
    return root


# --- the stand-in site ---------------------------------------------------------------------------

def _pfx(path: Path) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, path.stem)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=2)).sign(key, hashes.SHA256()))
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"vms", key, cert, None, serialization.BestAvailableEncryption(PFX_PASSWORD.encode())))
    import hashlib
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def _ca_pem(path: Path) -> str:
    """A site CA certificate (PEM) and its SHA-1 thumbprint as Windows shows it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dry-run site CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    import hashlib
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


# What Server Configurator /listcertificategroups prints on the stand-in (the real format is not
# documented in the sources; the parser accepts any line with one GUID).
CONFIGURATOR_OUTPUT = [
    "Certificate groups:",
    "Server certificate: 11111111-1111-4111-8111-111111111111",
    "Streaming media certificate: 22222222-2222-4222-8222-222222222222",
    "Mobile streaming media certificate: 33333333-3333-4333-8333-333333333333",
    "Event server certificate: 44444444-4444-4444-8444-444444444444",
]
# Which served port starts carrying the certificate when a group is encrypted (XProtect's behaviour,
# modelled: Management Server 443 by the server group, Mobile Server 8082 by its own group).
SERVES_BY_GROUP = {"Server certificate": [443], "Mobile streaming media certificate": [8082]}
# Rules Windows and a bootstrap leave outside the group (issue 14, item 7).
FOREIGN_RULES = [
    {"name": "Bootstrap-WinRM-HTTPS", "display_name": "Allow WinRM HTTPS", "group": "", "store": "Local",
     "protocol": "TCP", "local_ports": ["5986"], "remote_addresses": ["Any"], "direction": "Inbound",
     "action": "Allow", "enabled": True, "program": "Any"},
    {"name": "RemoteDesktop-UserMode-In-TCP", "display_name": "Remote Desktop - User Mode (TCP-In)",
     "group": "@FirewallAPI.dll,-28752", "store": "Local", "protocol": "TCP", "local_ports": ["3389"],
     "remote_addresses": ["Any"], "direction": "Inbound", "action": "Allow", "enabled": True, "program": "Any"},
]


class FakeSite:
    """One example inventory, its fake Windows hosts, and ansible-playbook runs against them."""

    def __init__(self, example: str, tmp: Path, settings: dict | None = None):
        self.example, self.tmp = example, tmp
        self.inventory = ROOT / "inventories" / "examples" / example
        self.plan = compile_plan(load_inventory(self.inventory))
        self.windows = sorted(h for h, e in self.plan["hosts"].items() if e["platform"] == "windows")
        build_fake_collections(tmp / "collections")
        self.state_path, self.log_path = tmp / "state", tmp / "calls.jsonl"
        self.thumbprints = {}
        self.ca_thumbprint = _ca_pem(tmp / "site-ca.crt")
        self.settings = {k: v for k, v in SETTINGS.items() if k.startswith("vms_win_")}
        self.settings.update(settings or {})
        extra_hosts, state = {}, {}
        for host in self.plan["hosts"]:
            wrapper = tmp / "bin" / f"python-{host}"  # tells the fake modules which host they run on
            wrapper.parent.mkdir(exist_ok=True)
            wrapper.write_text(f'#!/bin/sh\nVMS_FAKE_HOST={host} exec {sys.executable} "$@"\n')
            wrapper.chmod(0o755)
            hvars = {"ansible_connection": "local", "ansible_python_interpreter": str(wrapper)}
            if host in self.windows:
                pfx = tmp / f"{host}.pfx"
                self.thumbprints[host] = _pfx(pfx)
                hvars.update(vms_tls_pfx_path=str(pfx), vms_tls_pfx_password=PFX_PASSWORD)
                state[host] = self._fresh_host(host)
            extra_hosts[host] = hvars
        (tmp / "extra_hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": extra_hosts}}))
        vars_ = dict(self.settings)
        vars_["vms_win_xprotect_args_base"] = str(GOLDEN / self.settings["vms_win_xprotect_args_base"])
        vars_["vms_win_xprotect_license_file"] = str(GOLDEN / self.settings["vms_win_xprotect_license_file"])
        vars_["vms_win_gateway_registered"] = True
        vars_["certificates_site_ca_path"] = str(tmp / "site-ca.crt")  # the certificates stage's fact
        vars_["vms_win_restart_delay"] = 0
        # runas on a local connection only works as the user Ansible already is (the real default is
        # SYSTEM; the tasks' become settings are checked in test_windows_install.py)
        vars_["vms_win_install_become_user"] = getpass.getuser()
        vars_["vms_win_xprotect_admin_user"] = getpass.getuser()
        vars_["vms_win_xprotect_admin_password"] = "dry-run-admin-password"
        (tmp / "vars.yml").write_text(yaml.safe_dump(vars_))
        self.write_state(state)
        (tmp / "site.yml").write_text(textwrap.dedent(f"""\
            ---
            - name: Validate, load the plan and group the hosts, as site.yml does
              ansible.builtin.import_playbook: {ROOT / "playbooks" / "stages" / "prechecks.yml"}
            - name: The Windows checks that change nothing, as site.yml runs them before any stage
              ansible.builtin.import_playbook: {ROOT / "playbooks" / "stages" / "windows_prechecks.yml"}
            - name: The Windows stage
              ansible.builtin.import_playbook: {ROOT / "playbooks" / "stages" / "windows_hosts.yml"}
            """))

    def _fresh_host(self, host: str) -> dict:
        install = windows_install.install_plan(self.plan, host, self.settings["vms_win_packages"],
                                               self.settings["vms_win_installer_source"],
                                               license_file=self.settings["vms_win_xprotect_license_file"])
        installs: dict[str, dict] = {}
        for package in install["packages"]:  # what each installer run creates on this host
            installs[package["params"]["path"]] = {
                "services": [s["name"] for s in install["services"] if s["component"] in package["components"]],
                "configurator": self.plan["product"] == "xprotect"}
        state = {"free_bytes": {"C:": 500 * 1024 ** 3}, "listeners": [], "services": {}, "features": {},
                 "installs": installs, "certificates": [], "firewall": [], "boot_time": "boot-0",
                 "dirs": ["c:", "c:\\programdata", "c:\\windows", "c:\\windows\\temp"],
                 "winrm_peers": [SETTINGS["vms_win_controller_address"], "127.0.0.1"],
                 "foreign_rules": [dict(r) for r in FOREIGN_RULES],
                 "profiles": [{"name": n, "enabled": "True", "allow_local_rules": "NotConfigured"}
                              for n in ("Domain", "Private", "Public")],
                 "configurator_output": CONFIGURATOR_OUTPUT, "serves_by_group": SERVES_BY_GROUP}
        if self.plan["product"] == "valerus":  # Valerus' installer creates the site with its self-signed binding
            state["iis_sites"] = {"Valerus Web Proxy": {"bindings": [
                {"ip": "*", "port": 3001, "hostname": "", "protocol": "https", "certificate_hash": "1" * 40},
                {"ip": "*", "port": 3000, "hostname": "", "protocol": "http", "certificate_hash": None}]}}
            state["sslcert"] = {"0.0.0.0:3001": "1" * 40}  # http.sys holds the self-signed certificate
        return state

    def state(self) -> dict:
        return {p.stem: json.loads(p.read_text()) for p in sorted(self.state_path.glob("*.json"))}

    def write_state(self, state: dict) -> None:
        self.state_path.mkdir(exist_ok=True)
        for host, host_state in state.items():
            (self.state_path / f"{host}.json").write_text(json.dumps(host_state, indent=1, sort_keys=True))

    def run(self, *extra: str) -> tuple[int, str]:
        self.log_path.write_text("")
        env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
               "ANSIBLE_COLLECTIONS_PATH": str(self.tmp / "collections"), "ANSIBLE_CACHE_PLUGIN": "memory",
               "ANSIBLE_DEPRECATION_WARNINGS": "0", "VMS_FAKE_STATE": str(self.state_path),
               "VMS_FAKE_ROOT": str(ROOT), "VMS_LOCK_DIR": str(self.tmp / "locks"),  # not the real sites' locks
               "VMS_FAKE_LOG": str(self.log_path)}
        cmd = ["ansible-playbook", "-i", str(self.inventory), "-i", str(self.tmp / "extra_hosts.yml"),
               "-e", f"@{self.tmp / 'vars.yml'}", str(self.tmp / "site.yml"), *extra]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)
        out = proc.stdout + proc.stderr
        # Two ways the project around the Windows stage can break it; say so instead of a long log.
        if "vms_platform_windows = " in out and "is not a vms-deploy group" in out:
            pytest.fail("vms_plan rejects the dynamic groups vms_platform_* made by group_by in stages/prechecks.yml: "
                        "the plan compiler must ignore them (every play after prechecks compiles the plan)")
        unknown = sorted(set(re.findall(r"(vms_\w+) = .* is not a vms-deploy variable", out)))
        if unknown:
            pytest.fail("vms_plan does not know these inventory variables yet (add them to "
                        "roles/validate_inventory/meta/argument_specs.yml): " + ", ".join(unknown))
        return proc.returncode, out

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def recap(self, out: str) -> dict[str, dict[str, int]]:
        rows = {}
        for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", out, re.MULTILINE):
            rows[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
        return rows

    def normalized_calls(self) -> list[dict]:
        """The call log without what differs between runs (temporary paths, the test's PFX password)."""
        calls = sorted(self.calls(), key=lambda c: c["host"])  # hosts run in parallel; each host's order is fixed
        text = json.dumps(calls, indent=1, sort_keys=True)
        text = text.replace(str(self.tmp), "<tmp>").replace(str(GOLDEN), "<golden>")
        text = re.sub(r'"/tmp/tmp[\w.-]+"', '"<win_tempfile>"', text)
        text = re.sub(r'"/tmp/ansible\.[\w.-]+"', '"<controller tempfile>"', text)
        text = text.replace(PFX_PASSWORD, "<vaulted>")
        for host, thumb in self.thumbprints.items():
            text = text.replace(thumb, f"<thumbprint of {host}>")
        text = text.replace(self.ca_thumbprint, "<site CA thumbprint>")
        pem = (self.tmp / "site-ca.crt").read_text().strip()
        text = text.replace(json.dumps(pem)[1:-1], "<site CA PEM>")
        return json.loads(text)


def _golden_calls(site: FakeSite, name: str):
    path = GOLDEN / "dryrun" / f"{name}.json"
    got = json.dumps(site.normalized_calls(), indent=1, sort_keys=True) + "\n"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got)
    assert path.exists(), f"missing {path}: run VMS_UPDATE_GOLDEN=1 python -m pytest {__file__}"
    assert got == path.read_text(), f"module calls differ from {path}; if intended regenerate with VMS_UPDATE_GOLDEN=1"


def _changed(site: FakeSite, out: str) -> dict[str, int]:
    return {h: r.get("changed", -1) for h, r in site.recap(out).items() if h in site.windows}


# --- tests --------------------------------------------------------------------------------------

def test_valerus_check_mode_first_run_rerun_and_drift(tmp_path):
    site = FakeSite("valerus_separate_app_server", tmp_path)
    fresh = site.state()

    rc, out = site.run("--check", "--diff")
    assert rc == 0, out
    assert site.state() == fresh, "check mode changed the stand-in hosts"
    assert all(n > 0 for n in _changed(site, out).values()), out  # and it predicted changes everywhere

    rc, out = site.run()
    assert rc == 0, out
    _golden_calls(site, "valerus_separate_app_server")
    state = site.state()
    for host in site.windows:
        assert state[host]["services"] and all(s == {"start_mode": "auto", "state": "started"}
                                               for s in state[host]["services"].values()), host
        has_cert = site.thumbprints[host] in state[host]["certificates"]
        assert has_cert == (host == "vgw"), host  # only the host serving the New Web Player https port
        names = [r["name"] for r in state[host]["firewall"]]
        assert any("management" in n for n in names), names  # the WinRM rule is always there
    gw = state["vgw"]["iis_sites"]["Valerus Web Proxy"]["bindings"]
    https = [b for b in gw if b["protocol"] == "https"]
    assert https == [{"ip": "*", "port": 3001, "hostname": "", "protocol": "https",
                      "certificate_hash": site.thumbprints["vgw"]}], gw  # self-signed binding replaced
    assert "1" * 40 not in json.dumps(gw)

    rc, out = site.run()
    assert rc == 0, out
    assert set(_changed(site, out).values()) == {0}, out  # second run: nothing to do

    # Drift on the gateway: a rule edited by hand, a stale rule of the group; other groups are not ours.
    state = site.state()
    rules = state["vgw"]["firewall"]
    rules[0] = dict(rules[0], remote_addresses=["0.0.0.0/0"])
    rules.append(dict(rules[1], name="vms-deploy-gateway-tcp-9999-old", local_ports="9999"))
    site.write_state(state)
    rc, out = site.run("--tags", "firewall", "--diff")
    assert rc == 0, out
    assert _changed(site, out)["vgw"] == 1 and {v for h, v in _changed(site, out).items() if h != "vgw"} == {0}
    assert "vms-deploy-gateway-tcp-9999-old" not in json.dumps(site.state()["vgw"]["firewall"])
    assert "-vms-deploy-gateway-tcp-9999-old" in out.replace("- vms", "-vms") or "9999" in out  # shown in the diff


def test_precheck_failure_stops_every_host_before_any_change(tmp_path):
    site = FakeSite("valerus_separate_app_server", tmp_path)
    state = site.state()
    state["vgw"]["listeners"] = [{"protocol": "tcp", "port": 9080, "pid": 4242, "process": "nginx"}]
    state["vrec1"]["free_bytes"] = {"C:": 3 * 1024 ** 3}
    site.write_state(state)
    fresh = site.state()
    rc, out = site.run()
    assert rc != 0
    assert ("host vgw: tcp port 9080 is planned for gateway (gateway_http) but is already used by nginx (pid 4242)"
            in out)
    assert "host vrec1: drive C: has 3.0 GiB free" in out
    assert site.state() == fresh  # any_errors_fatal: no host was changed
    assert not [c for c in site.calls() if c["module"] not in (
        "ansible.windows.win_ping", "ansible.windows.setup", "ansible.windows.win_powershell")], \
        "only read-only modules may run"


def test_valerus_gateway_stops_with_the_manual_step_until_confirmed(tmp_path):
    site = FakeSite("valerus_separate_app_server", tmp_path)
    (tmp_path / "vars.yml").write_text((tmp_path / "vars.yml").read_text().replace(
        "vms_win_gateway_registered: true", "vms_win_gateway_registered: false"))
    rc, out = site.run("--tags", "gateway")
    assert rc != 0
    assert "Configuration > System > Internet Gateway > Add Internet Gateway" in out
    assert "IP address: 10.20.9.55; port: 9080" in out
    state = site.state()
    state["vapp"]["closed_ports"] = [9081]  # as seen from the application server, where the check runs
    site.write_state(state)
    rc, out = site.run("--tags", "gateway")
    assert rc != 0 and "ports 9081 of the gateway (10.20.9.55) do not answer" in out, out


def _order(calls, pred) -> list[int]:
    return [i for i, c in enumerate(calls) if pred(c)]


def test_xprotect_waves_private_folder_encryption_site_ca_and_rerun(tmp_path):
    site = FakeSite("xprotect_distributed_dmz", tmp_path)
    fresh = site.state()
    rc, out = site.run("--check", "--diff")
    assert rc == 0, out
    assert site.state() == fresh, "check mode changed the stand-in hosts"

    rc, out = site.run()
    assert rc == 0, out
    _golden_calls(site, "xprotect_distributed_dmz")
    calls, state = site.calls(), site.state()
    installer = [c for c in calls if c["module"] == "ansible.windows.win_package"]
    assert {c["host"] for c in installer} == {"xmgmt", "xevent", "xrec1", "xrec2", "xmobile"}  # not xfail (manual)

    # item 3: the management server installs and gets its ports before any other server installs
    mgmt_done = max(_order(calls, lambda c: c["host"] == "xmgmt" and (
        c["module"] == "ansible.windows.win_package" or c["args"].get("path") == "Set-VmsFirewallRuleGroup.ps1")))
    others = _order(calls, lambda c: c["host"] != "xmgmt" and c["module"] == "ansible.windows.win_package")
    assert others and mgmt_done < min(others), "another server installed before the management server's ports were open"

    # item 1: the private folder exists (made by the script, before anything is written into it)
    for host in {c["host"] for c in installer}:
        folder = _order(calls, lambda c, h=host: c["host"] == h and c["args"].get("path") == "Set-VmsPrivateFolder.ps1")
        copies = _order(calls, lambda c, h=host: c["host"] == h and c["module"] == "ansible.windows.win_copy"
                        and c["args"]["dest"].lower().startswith("c:\\programdata\\vms-deploy"))
        assert folder and copies and folder[0] < min(copies), host
        assert "c:\\programdata\\vms-deploy" in state[host]["private_dirs"], host
        assert not [f for f in state[host].get("files", {}) if "vms-deploy" in f], "arguments/licence file left behind"

    # item 6: the installer's own command line, the licence shipped, the file's yes/no vocabulary
    assert all(c["args"]["arguments"] == "--quiet --license=C:\\ProgramData\\vms-deploy\\EXAMPLE-license.lic "
               "--arguments=C:\\ProgramData\\vms-deploy\\xprotect-arguments.xml" for c in installer)
    assert all(c["args"]["wait_for_children"] is True for c in installer)  # item 4: bootstrapper children
    written = {c["host"]: c["args"] for c in calls if c["module"] == "ansible.windows.win_copy"
               and c["args"]["dest"].endswith("xprotect-arguments.xml")}
    mobile = written["xmobile"]["content"]
    assert "<Name>EXAMPLE-InstallMobileServer</Name>\n      <Value>yes</Value>" in mobile
    assert "<Name>EXAMPLE-InstallManagementServer</Name>\n      <Value>no</Value>" in mobile
    licences = {c["host"] for c in calls if c["module"] == "ansible.windows.win_copy"
                and c["args"]["dest"].endswith("EXAMPLE-license.lic")}
    assert licences == {c["host"] for c in installer}

    # item 9: encryption per certificate group from the host's components, verified by the served certificate
    enc = {c["host"]: c["args"]["parameters"]["Groups"] for c in calls
           if c["args"].get("path") == "Set-VmsXProtectEncryption.ps1"}
    assert enc == {"xmgmt": ["Server certificate"], "xrec1": ["Server certificate", "Streaming media certificate"],
                   "xrec2": ["Server certificate", "Streaming media certificate"],
                   "xmobile": ["Mobile streaming media certificate"], "xevent": ["Event server certificate"]}
    assert state["xmgmt"]["served"]["443"] == site.thumbprints["xmgmt"]
    assert state["xmobile"]["served"]["8082"] == site.thumbprints["xmobile"]
    assert all(state[h]["key_readers"] == ["NT AUTHORITY\\NETWORK SERVICE"] for h in enc)
    # the site CA in LocalMachine\Root on every XProtect host, xfail (failover, installed by hand) too
    assert {h for h in site.windows if site.ca_thumbprint in state[h].get("stores", {}).get("Root",
                                                                                            [])} == set(site.windows)

    rc, out = site.run()
    assert rc == 0, out
    assert set(_changed(site, out).values()) == {0}, out
    assert not [c for c in site.calls() if c["module"] == "ansible.windows.win_package"], "installer run again"


def test_xprotect_encryption_stops_with_the_manual_step_when_the_certificate_is_not_served(tmp_path):
    site = FakeSite("xprotect_distributed_dmz", tmp_path)
    state = site.state()
    state["xmobile"]["serves_by_group"] = {}  # Server Configurator ran, but the port still serves another certificate
    site.write_state(state)
    rc, out = site.run("--limit", "xmobile")
    assert rc != 0
    assert "host xmobile: XProtect does not serve certificate" in out and "Server Configurator" in out, out




def test_valerus_installer_restart_downloads_delayed_start_vault_pfx_and_foreign_rules(tmp_path):
    """Items 5, 10 (no download when installed or in check mode, delayed start, vault PFX) and 7."""
    site = FakeSite("valerus_separate_app_server", tmp_path, settings={
        "vms_win_installer_source": "https://files.example.internal/vms/", "vms_win_disable_foreign_rules": True})
    state = site.state()
    rec = next(iter(state["vrec1"]["installs"]))
    state["vrec1"]["installs"][rec]["rc"] = 1641  # the installer restarts the host itself
    gw = next(iter(state["vgw"]["installs"]))
    state["vgw"]["installs"][gw]["start_mode"] = "delayed"  # the vendor's choice
    site.write_state(state)
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("dry-run-vault\n")
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(vault_pass), str(tmp_path / "vgw.pfx")],
                   check=True, capture_output=True)
    assert (tmp_path / "vgw.pfx").read_bytes().startswith(b"$ANSIBLE_VAULT")
    vault = ("--vault-password-file", str(vault_pass))

    fresh = site.state()
    rc, out = site.run("--check", *vault)
    assert rc == 0, out
    assert site.state() == fresh and not any(s.get("downloads") for s in fresh.values()), "check mode downloaded"

    rc, out = site.run(*vault)
    assert rc == 0, out
    state, calls = site.state(), site.calls()
    assert not [c for c in calls if c["module"] == "ansible.windows.win_reboot"], "win_reboot after exit code 1641"
    assert state["vrec1"]["boot_time"] == "boot-1", "the restart the installer started was not waited for"
    assert state["vgw"]["services"] and all(s == {"start_mode": "delayed", "state": "started"}
                                            for s in state["vgw"]["services"].values())  # the vendor's delayed start
    assert all(s["start_mode"] == "auto" for h in ("vapp", "vrec1", "vrec2") for s in state[h]["services"].values())
    assert site.thumbprints["vgw"] in state["vgw"]["certificates"]  # the vaulted PFX opened and imported
    assert all(len(state[h]["downloads"]) == 1 for h in site.windows), \
        {h: state[h].get("downloads") for h in site.windows}
    for host in site.windows:  # item 7: the bootstrap rule open to Any on WinRM is off, RDP (not planned) stays
        foreign = {r["name"]: r["enabled"] for r in state[host]["foreign_rules"]}
        assert foreign == {"Bootstrap-WinRM-HTTPS": False, "RemoteDesktop-UserMode-In-TCP": True}, host

    rc, out = site.run(*vault)
    assert rc == 0, out
    assert set(_changed(site, out).values()) == {0}, out
    assert all(len(site.state()[h]["downloads"]) == 1 for h in site.windows), \
        "an installed product was downloaded again"


def test_firewall_refuses_rules_that_would_cut_an_open_winrm_session(tmp_path):
    """Item 8: a WinRM session from an address the new rules do not admit stops the change."""
    site = FakeSite("valerus_separate_app_server", tmp_path)
    state = site.state()
    state["vapp"]["winrm_peers"] = ["10.99.0.1"]
    site.write_state(state)
    rc, out = site.run("--tags", "firewall", "--limit", "vapp")
    assert rc != 0
    assert "established WinRM connections from 10.99.0.1 (tcp 5986) would not be admitted" in out, out
    assert site.state()["vapp"]["firewall"] == []


# --- the stand-in modules against the real modules' sources ---------------------------------------------

COLLECTIONS = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
    "site-packages" / "ansible_collections"


def _fake(tmp_path: Path, module: str, args: dict, state: dict, check: bool = False) -> tuple[dict, dict]:
    """Run one stand-in module the way Ansible runs a WANT_JSON module; return (result, state after)."""
    path = tmp_path / "module.py"
    path.write_text(STUB.replace("@FQCN@", module))
    (tmp_path / "state").mkdir(exist_ok=True)
    (tmp_path / "state" / "h.json").write_text(json.dumps(state))
    (tmp_path / "args.json").write_text(json.dumps(dict(args, _ansible_check_mode=check)))
    env = {**os.environ, "VMS_FAKE_HOST": "h", "VMS_FAKE_STATE": str(tmp_path / "state"),
           "VMS_FAKE_LOG": str(tmp_path / "log"), "VMS_FAKE_ROOT": str(ROOT)}
    proc = subprocess.run([sys.executable, str(path), str(tmp_path / "args.json")], capture_output=True, text=True,
                          env=env, check=False)
    return json.loads(proc.stdout), json.loads((tmp_path / "state" / "h.json").read_text())


def _source(relative: str) -> str:
    return (COLLECTIONS / relative).read_text(encoding="utf-8")


def test_standin_win_copy_needs_the_parent_folder_like_the_real_one(tmp_path):
    src = _source("ansible/windows/plugins/modules/win_copy.ps1")
    assert "\"Destination directory '$parent_dir' does not exist\"" in src  # the real message, copy mode "single"
    state = {"dirs": ["c:", "c:\\programdata"]}
    res, _ = _fake(tmp_path, "ansible.windows.win_copy", {"content": "x", "dest": "C:\\ProgramData\\vms-deploy\\a.xml"},
                   state)
    assert res.get("failed") and res["msg"] == "Destination directory 'c:\\programdata\\vms-deploy' does not exist"
    res, after = _fake(tmp_path, "ansible.windows.win_copy", {"content": "x", "dest": "C:\\ProgramData\\a.xml"}, state)
    assert not res.get("failed") and "c:\\programdata\\a.xml" in after["files"]


def test_standin_win_package_downloads_before_its_idempotence_check_like_the_real_one(tmp_path):
    src = _source("ansible/windows/plugins/modules/win_package.ps1")
    assert "If the path is a URL and no productId is set" in src and "if ($rc -eq 3010) {" in src
    state = {"services": {"Svc": {"start_mode": "auto", "state": "running"}}}
    args = {"path": "https://x/setup.exe", "creates_service": "Svc", "expected_return_code": [0, 3010, 1641]}
    res, after = _fake(tmp_path, "ansible.windows.win_package", args, state, check=True)
    assert res["changed"] is False and after["downloads"] == ["https://x/setup.exe"]  # installed, still downloaded
    state = {"services": {}, "installs": {"https://x/setup.exe": {"services": ["Svc"], "rc": 1641}}}
    res, after = _fake(tmp_path, "ansible.windows.win_package", args, state)
    assert res["rc"] == 1641 and res["reboot_required"] is False and after["restart_in_progress"]


def test_standin_win_reboot_meets_a_shutdown_in_progress_like_the_real_one(tmp_path):
    src = _source("ansible/windows/plugins/plugin_utils/_reboot.py")
    assert "(1190)" in src and "1115" not in src  # only "already scheduled" is handled, not "in progress"
    res, _ = _fake(tmp_path, "ansible.windows.win_reboot", {}, {"restart_in_progress": True})
    assert res.get("failed") and res["rc"] == 1115


def test_standin_win_powershell_skips_scripts_without_shouldprocess_in_check_mode(tmp_path):
    src = _source("ansible/windows/plugins/modules/win_powershell.ps1")
    assert '"skipped, running in check mode"' in src
    res, _ = _fake(tmp_path, "ansible.windows.win_powershell", {"script": "param()\n$Ansible.Changed = $true"}, {},
                   check=True)
    assert res == {"changed": True, "msg": "skipped, running in check mode"}


def test_standin_iis_website_keeps_http_sys_and_adds_certificates_in_check_mode_like_the_real_one(tmp_path):
    src = _source("microsoft/iis/plugins/modules/website.ps1")
    edit = src[src.index("$toEdit | ForEach-Object"):src.index("$toRemove | ForEach-Object")]
    assert "AddSslCertificate" in edit and "-not $check_mode" not in edit  # the edit path ignores check mode
    # nothing removes http.sys' certificate entry: no RemoveSslCertificate, no netsh
    assert "Remove-WebBinding" in src and "removesslcertificate" not in src.lower() and "netsh" not in src.lower()
    site = {"bindings": [{"ip": "*", "port": 3001, "hostname": "", "protocol": "https", "certificate_hash": "1" * 40}]}
    state = {"iis_sites": {"S": site}, "sslcert": {"0.0.0.0:3001": "1" * 40}, "certificates": ["A" * 40]}
    remove = {"name": "S", "bindings": {"remove": [{"ip": "*", "port": 3001}]}}
    add = {"name": "S", "bindings": {"add": [{"ip": "*", "port": 3001, "protocol": "https",
                                              "certificate_hash": "A" * 40,
                                              "certificate_store_name": "my"}]}}
    _, state = _fake(tmp_path, "microsoft.iis.website", remove, state)
    assert state["iis_sites"]["S"]["bindings"] == [] and state["sslcert"] == {"0.0.0.0:3001": "1" * 40}
    res, state = _fake(tmp_path, "microsoft.iis.website", add, state)
    assert res.get("failed") and "0x800700B7" in res["msg"]
    state = {"iis_sites": {"S": {"bindings": [dict(site["bindings"][0])]}}, "sslcert": {}, "certificates": ["A" * 40]}
    _, after = _fake(tmp_path, "microsoft.iis.website", add, state, check=True)
    assert after["sslcert"] == {"0.0.0.0:3001": "A" * 40}, "check mode left the host unchanged"


def test_audit_reports_rules_outside_the_group_profiles_and_the_plan_digest(tmp_path):
    """Item 7 and issue 12: the Windows audit, as playbooks/audit.yml runs it, on a deployed stand-in site."""
    site = FakeSite("valerus_separate_app_server", tmp_path)
    rc, out = site.run("--tags", "firewall")
    assert rc == 0, out
    state = site.state()
    state["vrec1"]["profiles"][0]["allow_local_rules"] = "False"  # a GPO that ignores local rules
    site.write_state(state)
    (tmp_path / "audit.yml").write_text(textwrap.dedent(f"""\
        ---
        - name: Validate and load the plan
          ansible.builtin.import_playbook: {ROOT / "playbooks" / "stages" / "prechecks.yml"}
        - name: Audit the Windows firewall rule groups (as playbooks/audit.yml)
          hosts: vms_platform_windows
          gather_facts: false
          tasks:
            - name: Compare the rule group with the plan
              ansible.builtin.import_role:
                name: audit
                tasks_from: windows
              vars:
                audit_plan: "{{{{ validate_inventory_plan }}}}"
            - name: Keep the findings
              ansible.builtin.copy:
                content: "{{{{ audit_findings | to_json }}}}"
                dest: "{tmp_path}/findings-{{{{ inventory_hostname }}}}.json"
                mode: "0600"
              delegate_to: localhost
        """))
    (tmp_path / "site.yml").write_text((tmp_path / "audit.yml").read_text())
    rc, out = site.run()
    assert rc == 0, out
    findings = [f for p in sorted(tmp_path.glob("findings-*.json")) for f in json.loads(p.read_text())]
    by = {(f["host"], f["check"], f["status"]) for f in findings}
    digest = {h: host_digest(site.plan, h) for h in site.windows}
    for host in site.windows:
        assert (host, "Windows firewall rule group", "ok") in by
        assert (host, "Windows firewall plan digest", "ok") in by, host
        [winrm] = [f for f in findings if f["host"] == host and "Bootstrap-WinRM-HTTPS" in f["detail"]]
        assert winrm["status"] == "drift" and "Disable-NetFirewallRule -Name 'Bootstrap-WinRM-HTTPS'" in winrm["detail"]
        [rdp] = [f for f in findings if f["host"] == host and "RemoteDesktop-UserMode-In-TCP" in f["detail"]]
        assert rdp["status"] == "warning"
        assert f"records plan {digest[host]}" in next(f["detail"] for f in findings
                                                       if f["host"] == host and f["check"].endswith("digest"))
    assert ("vrec1", "Windows firewall profiles", "drift") in by
    assert not any(h != "vrec1" and c == "Windows firewall profiles" for h, c, _ in by)
