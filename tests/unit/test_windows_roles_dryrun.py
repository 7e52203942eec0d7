"""The real Windows roles and playbooks/stages/windows_hosts.yml, run here against a stand-in Windows host.

There is no Windows, WinRM or PowerShell on this machine. This test writes throw-away collections
``ansible.windows`` and ``microsoft.iis`` whose modules are small Python programs: each records the exact
arguments the role passed (one JSON line per call) and answers from a JSON state file that plays the host
(services, features, firewall rules, certificates, IIS bindings). The playbook runs with
ansible_connection=local. The firewall script is answered with the Python mirror of its decision
(vms_deploy.render.windows_firewall.reconcile).

What it proves: every Jinja expression and filter in the Windows roles evaluates on real plans; the
module parameters the roles send (golden files tests/golden/windows/dryrun/*.json); the control flow
(check mode changes nothing, a second run changes nothing, drift is repaired, prechecks stop the run,
manual steps stop with their message). What it cannot prove: how the real Windows modules, the
PowerShell scripts and the vendors' installers behave (docs/windows.md).

Regenerate the call goldens with VMS_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import datetime as dt
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

from vms_deploy.compiler import compile_plan
from vms_deploy.inventory import load_inventory
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
# Fake {fqcn} for the vms-deploy Windows dry run (tests/unit/test_windows_roles_dryrun.py).
# WANT_JSON: an old-style module, run without AnsiballZ (fast); its arguments arrive as a JSON file.
import json, os, shutil, sys, tempfile

FQCN = "{fqcn}"


def main():
    with open(sys.argv[1]) as fh:
        params = json.load(fh)
    check = bool(params.get("_ansible_check_mode"))
    args = {{k: v for k, v in params.items() if not k.startswith("_ansible")}}
    host = os.environ["VMS_FAKE_HOST"]
    state_path = os.path.join(os.environ["VMS_FAKE_STATE"], host + ".json")  # one file per host: forks run in parallel
    with open(state_path) as fh:
        state = json.load(fh)
    with open(os.environ["VMS_FAKE_LOG"], "a") as fh:  # one short write per call: whole lines
        fh.write(json.dumps({{"host": host, "module": FQCN, "check": check, "args": args}}, sort_keys=True) + "\n")
    result = answer(FQCN.split(".")[-1], args, state, check)
    if not check:
        with open(state_path + ".new", "w") as fh:
            json.dump(state, fh, indent=1, sort_keys=True)
        os.replace(state_path + ".new", state_path)
    result.setdefault("changed", False)
    print(json.dumps(result))
    sys.exit(1 if result.get("failed") else 0)


def answer(name, args, state, check):
    services = state.setdefault("services", {{}})
    if name == "win_ping":
        return {{"ping": "pong"}}
    if name == "setup":
        return {{"ansible_facts": {{"ansible_distribution_version": state.get("version", "10.0.20348.0")}}}}
    if name == "win_feature":
        names = args["name"] if isinstance(args["name"], list) else [args["name"]]
        missing = [n for n in names if not state.setdefault("features", {{}}).get(n)]
        for n in missing:
            state["features"][n] = True
        return {{"changed": bool(missing), "reboot_required": False, "success": True}}
    if name == "win_package":
        key = args.get("creates_service")
        done = key in services if key else args.get("product_id") in state.setdefault("products", [])
        if not done:
            for svc in state.get("installs", {{}}).get(args["path"], [key] if key else []):
                services.setdefault(svc, {{"start_mode": "manual", "state": "stopped"}})
            if args.get("product_id"):
                state["products"].append(args["product_id"])
        return {{"changed": not done, "reboot_required": False, "rc": 0}}
    if name == "win_service_info":
        svc = services.get(args["name"])
        return {{"exists": svc is not None,
                 "services": [dict(svc, name=args["name"])] if svc else []}}
    if name == "win_service":
        svc = services.get(args["name"])
        if svc is None:
            return {{"failed": True, "msg": "Service '%s' is not installed" % args["name"]}}
        want = {{"start_mode": args.get("start_mode", svc["start_mode"]), "state": args.get("state", svc["state"])}}
        changed = want != svc
        services[args["name"]] = want
        return {{"changed": changed}}
    if name == "win_tempfile":
        return {{"changed": True, "path": tempfile.mkstemp(suffix=args.get("suffix", ""))[1]}}
    if name == "win_copy":
        if "src" in args and not check:
            shutil.copyfile(args["src"], args["dest"])
        return {{"changed": True, "dest": args["dest"]}}
    if name == "win_file":
        if args.get("state") == "absent" and os.path.exists(args["path"]) and not check:
            os.remove(args["path"])
            return {{"changed": True}}
        return {{"changed": False}}
    if name == "win_reboot":
        state["reboots"] = state.get("reboots", 0) + 1
        return {{"changed": True, "rebooted": True}}
    if name == "win_certificate_info":
        return {{"exists": args["thumbprint"] in state.setdefault("certificates", []), "certificates": []}}
    if name == "win_certificate_store":
        from vms_deploy.render.windows_certificates import pfx_thumbprint
        with open(args["path"], "rb") as fh:
            thumb = pfx_thumbprint("fake", fh.read(), args.get("password"))
        new = thumb not in state.setdefault("certificates", [])
        if new:
            state["certificates"].append(thumb)
        return {{"changed": new, "thumbprints": [thumb]}}
    if name == "website_info":
        site = state.get("iis_sites", {{}}).get(args["name"])
        return {{"exists": site is not None,
                 "site": [{{"name": args["name"], "bindings": site["bindings"]}}] if site is not None else []}}
    if name == "website":
        site = state["iis_sites"][args["name"]]
        key = lambda b: "%s:%s:%s" % (b.get("ip") or "", b.get("port"), b.get("hostname") or "")
        changed = False
        for b in (args.get("bindings") or {{}}).get("remove") or []:
            before = len(site["bindings"])
            site["bindings"] = [x for x in site["bindings"] if key(x) != key(b)]
            changed |= len(site["bindings"]) != before
        for b in (args.get("bindings") or {{}}).get("add") or []:
            if b.get("certificate_hash") and b["certificate_hash"] not in state.get("certificates", []):
                return {{"failed": True, "msg": "Unable to locate certificate at cert:\\LocalMachine\\my\\" + b["certificate_hash"]}}
            if not any(key(x) == key(b) for x in site["bindings"]):
                site["bindings"].append({{"ip": b["ip"], "port": b["port"], "hostname": b.get("hostname") or "",
                                          "protocol": b["protocol"], "certificate_hash": b.get("certificate_hash")}})
                changed = True
        return {{"changed": changed}}
    if name == "win_powershell":
        return powershell(args, state, check)
    return {{"failed": True, "msg": "fake module has no behaviour for " + name}}


def powershell(args, state, check):
    script = args.get("path") or ""
    p = args.get("parameters") or {{}}
    if script == "Get-VmsHostFacts.ps1":
        return {{"changed": False, "result": {{
            "free_bytes": state.get("free_bytes", {{}}).get(p.get("Drive")),
            "listeners": state.get("listeners", []),
            "services": [s for s in p.get("Services", []) if s in state.get("services", {{}})],
            "features": {{f: bool(state.get("features", {{}}).get(f)) for f in p.get("Features", [])}}}}}}
    if script == "Set-VmsFirewallRuleGroup.ps1":
        from vms_deploy.render.windows_firewall import diff_text, reconcile
        current = state.setdefault("firewall", [])
        try:
            plan = reconcile(current, p["Rules"], int(p["WinRmPort"]))
        except ValueError as exc:
            return {{"failed": True, "msg": str(exc)}}
        count = len(plan["add"]) + len(plan["update"]) + len(plan["remove"])
        result = {{"changed": count > 0, "result": {{
            "added": [r["name"] for r in plan["add"]], "updated": [u["name"] for u in plan["update"]],
            "removed": plan["remove"], "unchanged": plan["unchanged"]}}}}
        if count:
            before, after = diff_text(current, p["Rules"])
            result["diff"] = {{"before": before, "after": after}}
            state["firewall"] = [dict(r) for r in p["Rules"]]
        return result
    if script == "Get-VmsServedCertificate.ps1":
        served = state.get("served", {{}})
        return {{"changed": False, "result": {{str(port): served.get(str(port)) for port in p.get("Ports", [])}}}}
    if script == "Test-VmsTcpPort.ps1":
        closed = state.get("closed_ports", [])
        return {{"changed": False, "result": {{str(port): port not in closed for port in p.get("Ports", [])}}}}
    return {{"failed": True, "msg": "fake win_powershell does not know script " + repr(script)}}


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
        (base / "MANIFEST.json").write_text(
            '{"collection_info": {"namespace": "%s", "name": "%s", "version": "0.0.0-fake"}, "file_manifest_file": '
            '{"name": "FILES.json", "ftype": "file", "format": 1}, "format": 1}' % (namespace, name), encoding="utf-8")
        for module in modules:
            (base / "plugins" / "modules" / f"{module}.py").write_text(
                STUB.format(fqcn=f"{collection}.{module}"), encoding="utf-8")
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


class FakeSite:
    """One example inventory, its fake Windows hosts, and ansible-playbook runs against them."""

    def __init__(self, example: str, tmp: Path):
        self.example, self.tmp = example, tmp
        self.inventory = ROOT / "inventories" / "examples" / example
        self.plan = compile_plan(load_inventory(self.inventory))
        self.windows = sorted(h for h, e in self.plan["hosts"].items() if e["platform"] == "windows")
        build_fake_collections(tmp / "collections")
        self.state_path, self.log_path = tmp / "state", tmp / "calls.jsonl"
        self.thumbprints = {}
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
        settings = {k: v for k, v in SETTINGS.items() if k.startswith("vms_win_")}
        settings["vms_win_xprotect_args_base"] = str(GOLDEN / SETTINGS["vms_win_xprotect_args_base"])
        settings["vms_win_gateway_registered"] = True
        (tmp / "vars.yml").write_text(yaml.safe_dump(settings))
        self.write_state(state)
        (tmp / "site.yml").write_text(textwrap.dedent(f"""\
            ---
            - name: Group hosts by platform, as stages/prechecks.yml does
              hosts: all
              gather_facts: false
              tags: [always]
              tasks:
                - name: Compile the plan
                  vms_plan:
                  run_once: true
                  delegate_to: localhost
                  register: dryrun_plan
                - name: Group by platform
                  ansible.builtin.group_by:
                    key: "vms_platform_{{{{ dryrun_plan.plan.hosts[inventory_hostname].platform }}}}"
                  when: inventory_hostname in dryrun_plan.plan.hosts
                  changed_when: false
            - name: The Windows stage
              ansible.builtin.import_playbook: {ROOT / "playbooks" / "stages" / "windows_hosts.yml"}
            """))

    def _fresh_host(self, host: str) -> dict:
        install = windows_install.install_plan(self.plan, host, SETTINGS["vms_win_packages"],
                                               SETTINGS["vms_win_installer_source"])
        installs: dict[str, list[str]] = {}
        for package in install["packages"]:  # what each installer run creates on this host
            installs[package["params"]["path"]] = [s["name"] for s in install["services"]
                                                   if s["component"] in package["components"]]
        state = {"free_bytes": {"C:": 500 * 1024 ** 3}, "listeners": [], "services": {}, "features": {},
                 "installs": installs, "certificates": [], "firewall": []}
        if self.plan["product"] == "valerus":  # Valerus' installer creates the site with its self-signed binding
            state["iis_sites"] = {"Valerus Web Proxy": {"bindings": [
                {"ip": "*", "port": 3001, "hostname": "", "protocol": "https", "certificate_hash": "1" * 40},
                {"ip": "*", "port": 3000, "hostname": "", "protocol": "http", "certificate_hash": None}]}}
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
        for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", out, re.M):
            rows[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
        return rows

    def normalized_calls(self) -> list[dict]:
        """The call log without what differs between runs (temporary paths, the test's PFX password)."""
        calls = sorted(self.calls(), key=lambda c: c["host"])  # hosts run in parallel; each host's order is fixed
        text = json.dumps(calls, indent=1, sort_keys=True)
        text = text.replace(str(self.tmp), "<tmp>").replace(str(GOLDEN), "<golden>")
        text = re.sub(r'"/tmp/tmp[\w.-]+"', '"<win_tempfile>"', text)
        text = text.replace(PFX_PASSWORD, "<vaulted>")
        for host, thumb in self.thumbprints.items():
            text = text.replace(thumb, f"<thumbprint of {host}>")
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
    assert _changed(site, out)["vgw"] == 1 and set(v for h, v in _changed(site, out).items() if h != "vgw") == {0}
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
    assert "host vgw: tcp port 9080 is planned for gateway (gateway_http) but is already used by nginx (pid 4242)" in out
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


def test_xprotect_install_firewall_and_the_server_configurator_step(tmp_path):
    site = FakeSite("xprotect_distributed_dmz", tmp_path)
    rc, out = site.run()
    assert rc != 0  # XProtect certificates are assigned in Server Configurator: the run stops and says how
    assert "Server Configurator" in out and "Streaming media certificate" in out
    _golden_calls(site, "xprotect_distributed_dmz")
    calls = site.calls()
    installer = [c for c in calls if c["module"] == "ansible.windows.win_package"]
    assert {c["host"] for c in installer} == {"xmgmt", "xevent", "xrec1", "xrec2", "xmobile"}  # not xfail (manual)
    imported = {c["host"] for c in calls if c["module"] == "ansible.windows.win_certificate_store"}
    assert imported == {"xmgmt", "xmobile"}  # Management and Mobile Server terminate TLS, the rest do not
    assert all(c["args"]["arguments"].startswith("--quiet --arguments=") for c in installer)
    written = [c for c in calls if c["module"] == "ansible.windows.win_copy" and c["host"] == "xmobile"]
    assert "<MobileServer>true</MobileServer>" in written[0]["args"]["content"]
    assert "<ManagementServer>false</ManagementServer>" in written[0]["args"]["content"]
    assert all(not os.path.exists(c["args"]["dest"]) for c in written)  # arguments file removed again

    state = site.state()  # the operator did the Server Configurator step
    for host in site.windows:
        state[host]["served"] = {"443": site.thumbprints[host], "8082": site.thumbprints[host]}
    site.write_state(state)
    rc, out = site.run()
    assert rc == 0, out
    assert set(_changed(site, out).values()) == {0}, out
