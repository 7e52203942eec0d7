"""The stand-in Windows site of the dry-run harness (moved from test_windows_roles_dryrun.py).

The real Windows roles and playbooks/stages/windows_hosts.yml, run here against a stand-in Windows host.

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
from vms_deploy.render import windows_certificates, windows_install

from .fresh_host import fresh_windows_server

ROOT = Path(__file__).resolve().parents[3]
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
    if name == "win_powershell":
        # win_powershell.ps1: Result and each Diff value go through Convert-OutputObject -Depth $depth
        sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
        from windows_harness.ps_output import DEFAULT_DEPTH, convert_output
        depth = int(args.get("depth", DEFAULT_DEPTH))
        if "result" in result:
            result["result"] = convert_output(result["result"], depth)
        if isinstance(result.get("diff"), dict):
            result["diff"] = {k: convert_output(v, depth) for k, v in result["diff"].items()}
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
    share = state.get("share", {})
    if path.startswith("\\\\") and not check and not share.get("admits_computer_account"):
        # win_package.ps1 l.1368: Test-Path of a UNC path as the become'd SYSTEM, which is the computer
        # account (anonymous in a workgroup) on the network, before the idempotence check
        return {"failed": True, "msg": "the file at the path '%s' cannot be reached" % path}
    source = state.get("copies", {}).get(path.lower())
    if source:  # a local copy made by Copy-VmsInstaller.ps1: the installer behaves as the share's file
        path = source
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
    site = behaviour.get("iis_site")
    if site:
        if not all(state.get("features", {}).get(f) for f in ("Web-Server", "Web-Mgmt-Console")):
            return {"failed": True, "rc": 1603, "msg": "unexpected rc from install: 1603 (IIS is not installed)"}
        state.setdefault("iis_sites", {})[site] = {"bindings": [
            {"ip": "*", "port": 3001, "hostname": "", "protocol": "https", "certificate_hash": "1" * 40},
            {"ip": "*", "port": 3000, "hostname": "", "protocol": "http", "certificate_hash": None}]}
        state.setdefault("sslcert", {})["0.0.0.0:3001"] = "1" * 40  # http.sys holds the self-signed certificate
    if behaviour.get("connection_lost"):
        # the restart tore the WinRM shell down before the result reached the controller: the connection
        # plugin raises AnsibleConnectionFailure and the host is marked unreachable
        return {"unreachable": True, "changed": False,
                "msg": "winrm send_input failed; the remote host closed the connection"}
    # win_package.ps1 l.~642: an expected return code sets $module.Result.failed = $false (not "no key");
    # reboot_required only for 3010
    return {"changed": True, "failed": False, "reboot_required": rc == 3010, "rc": rc}


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
            # New-Item -ItemType Directory creates missing intermediate folders too (inheriting their
            # parent's ACL); only the folder itself gets the restrictive ACL
            made, parent = {path}, win_dir(path)
            while parent and parent not in dirs:
                made.add(parent)
                parent = win_dir(parent)
            state["dirs"] = sorted(set(dirs) | made)
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
    if script == "Copy-VmsInstaller.ps1":
        share = state.get("share", {})
        who = "as %s" % p["ShareUser"] if p.get("ShareUser") else "as the WinRM session's user"
        admitted = share.get("admits_share_user") if p.get("ShareUser") else share.get("admits_session", True)
        if not admitted:
            return {"failed": True, "msg": "installer '%s' cannot be read %s" % (p["Source"], who)}
        if p.get("TestOnly"):
            return {"changed": False, "result": {"source": p["Source"], "reachable": True, "copied": False}}
        dest = p["Destination"].lower()
        if win_dir(dest) not in [d.lower() for d in state.setdefault("dirs", [])]:
            return {"failed": True, "msg": "Copy-Item: could not find a part of the path '%s'" % p["Destination"]}
        new = state.setdefault("copies", {}).get(dest) != p["Source"]
        if new and not check:
            state["copies"][dest] = p["Source"]
            state.setdefault("files", {})[dest] = "<copy of %s>" % p["Source"]
        return {"changed": new, "result": {"source": p["Source"], "destination": p["Destination"], "copied": new}}
    if script == "Get-VmsServedCertificate.ps1":
        served = state.get("served", {})
        if state.get("served_after_probes", 0) > 0 and not check:
            # the services are still restarting after Server Configurator: nothing answers on the port yet
            state["served_after_probes"] -= 1
            state["probes_unanswered"] = state.get("probes_unanswered", 0) + 1
            return {"changed": False, "result": {str(port): None for port in p.get("Ports", [])}}
        return {"changed": False, "result": {str(port): served.get(str(port)) for port in p.get("Ports", [])}}
    if script == "Test-VmsTcpPort.ps1":
        closed = state.get("closed_ports", [])
        return {"changed": False, "result": {str(port): port not in closed for port in p.get("Ports", [])}}
    if script == "Set-VmsIisHttpsBinding.ps1":
        from vms_deploy.render.windows_certificates import binding_swap_plan
        iis = all(state.get("features", {}).get(f) for f in ("Web-Server", "Web-Mgmt-Console"))
        site = state.get("iis_sites", {}).get(p["SiteName"]) if iis else None
        if site is None:
            if check:  # the script predicts the binding the real run adds (Exit-VmsNotInstalledYet)
                return {"changed": True, "result": {"action": "add", "note": "not installed yet"}}
            if not iis:  # Get-Module -ListAvailable WebAdministration finds nothing without the IIS role
                return {"failed": True, "msg": "IIS is not installed (no WebAdministration module)"}
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
class FakeSite:
    """One example inventory, its fake Windows hosts, and ansible-playbook runs against them."""

    def __init__(self, example: str, tmp: Path, settings: dict | None = None):
        self.example, self.tmp = example, tmp
        self.inventory = ROOT / "inventories" / "examples" / example
        self.settings = {k: v for k, v in SETTINGS.items() if k.startswith("vms_win_")}
        self.settings.update(settings or {})
        # The plan the run compiles: the harness's controller address reaches every host as an extra var, and
        # the WinRM rule's sources (so the plan digest the hosts record) come from it.
        data = load_inventory(self.inventory)
        if "vms_win_controller_address" in self.settings:
            for hvars in data["hosts"].values():
                hvars["vms_win_controller_address"] = self.settings["vms_win_controller_address"]
        self.plan = compile_plan(data)
        self.windows = sorted(h for h, e in self.plan["hosts"].items() if e["platform"] == "windows")
        build_fake_collections(tmp / "collections")
        self.state_path, self.log_path = tmp / "state", tmp / "calls.jsonl"
        self.thumbprints = {}
        self.ca_thumbprint = _ca_pem(tmp / "site-ca.crt")
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
        vars_["vms_win_cert_probe_timeout"], vars_["vms_win_cert_probe_delay"] = 3, 1  # bounded and quick here
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
            if windows_certificates.certificate_binding(self.plan, host) == "iis_site":
                # Valerus' installer creates the IIS site with its self-signed binding (needs IIS first)
                installs[package["params"]["path"]]["iis_site"] = "Valerus Web Proxy"
        # A newly installed Windows Server (fresh_host.py, from Microsoft's documentation), plus what this
        # harness plays: disk space, the WinRM session's peers, what each installer creates.
        state = fresh_windows_server()
        state.update({"free_bytes": {"C:": 500 * 1024 ** 3}, "installs": installs,
                      # the installer share (a workgroup file server): it admits the WinRM session's user,
                      # not the computer account that SYSTEM is on the network
                      "share": {"admits_session": True, "admits_computer_account": False},
                      "winrm_peers": [SETTINGS["vms_win_controller_address"], "127.0.0.1"],
                      "configurator_output": CONFIGURATOR_OUTPUT, "serves_by_group": SERVES_BY_GROUP})
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
        # The opened PFX is in the run's private directory (plugins/callback/vms_run_dir.py), /tmp without it.
        text = re.sub(r'"(?:/tmp|[\w/.-]*/vms-run-\d+-[\w]+)/ansible\.[\w.-]+"', '"<controller tempfile>"', text)
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


def _order(calls, pred) -> list[int]:
    return [i for i, c in enumerate(calls) if pred(c)]


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


