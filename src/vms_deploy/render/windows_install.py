"""What a Windows host gets installed, and the precheck decisions, rendered from the plan.

The roles only loop over what these functions return (module parameters for
ansible.windows.win_package / win_service / win_feature), so golden files of the returned data are the
exact parameters the modules receive.

Vendor facts that are NOT in the seed documents (installer file names, silent switches, product ids,
service names) are never invented here: they come from ``vms_win_packages`` in the inventory, and a
missing one is an actionable error naming the host, the variable and what to put there.
"""
from __future__ import annotations

from collections.abc import Iterable

from vms_deploy.catalog import PRODUCTS, load_catalog, plan_traits
from vms_deploy.errors import MISSING, WindowsInputError
from vms_deploy.ports import WINRM_PORTS, port_range

# Plan component -> installable Windows component: each catalog component's windows_package (issue 5
# lists exactly these). Components marked iis run behind IIS and so need the Web-Server role (seed:
# XProtect Management Server ports 80/443 are served by IIS; the Valerus web server); so does a host
# serving the New Web Player through an IIS site (certificate_binding iis_site: the "Valerus Web Proxy").
IIS_FEATURES = ["Web-Server", "Web-Mgmt-Console"]
# Plan components that are not Windows software of their own: the edge is Linux, the management
# rule is WinRM itself, and XProtect's Data Collector comes with every XProtect server install.
# Everything else without a windows_package (SQL Server, failover/LPR/ONVIF... servers) is reported as
# "not_installed": it gets firewall rules, but is installed by hand.
NOT_INSTALLED_HERE = {"edge", "management", "data_collector"}
REBOOT_CODES = [0, 3010, 1641]
REQUIRED_PACKAGE_KEYS = ("file", "arguments", "services")


def _catalog(plan: dict):
    product = plan.get("product")
    return load_catalog(product) if product in PRODUCTS else None


def component_packages(plan: dict) -> dict[str, str]:
    """Plan component -> installable Windows component, from the plan product's catalog ({} for none)."""
    catalog = _catalog(plan)
    return catalog.windows_packages() if catalog else {}


def iis_packages(plan: dict) -> set[str]:
    """The installable components that run behind IIS (catalog components marked iis)."""
    catalog = _catalog(plan)
    return {c.windows_package for c in catalog.components.values() if c.iis and c.windows_package} if catalog else set()


def windows_components(plan: dict, host: str) -> tuple[list[str], list[str]]:
    """(installable components, plan components this role does not install), both sorted."""
    entry = plan["hosts"][host]
    table = component_packages(plan)
    mine, other = set(), set()
    for comp in entry.get("components", []):
        if comp in table:
            mine.add(table[comp])
        elif comp not in NOT_INSTALLED_HERE:
            other.add(comp)
    return sorted(mine), sorted(other)


def host_summary(plan: dict, host: str, packages: dict | None = None) -> dict:
    """What the prechecks need to know about a host, without requiring the installer facts.

    ``services_known`` lists the services named in ``vms_win_packages`` for the host's components
    (empty for a component whose facts are not set yet).
    """
    product = plan.get("product")
    components, other = windows_components(plan, host)
    serves_web_player = any(str(i.get("service", "")).startswith("web_player")
                            for i in plan["hosts"][host].get("inbound", []))
    # An IIS-site certificate binding (Valerus) means the New Web Player is served by an IIS site.
    iis_site = plan_traits(plan).get("certificate_binding") == "iis_site"
    needs_iis = bool(iis_packages(plan) & set(components)) or (iis_site and serves_web_player)
    known = [{"component": c, "name": s} for c in components
             for s in (((packages or {}).get(c) or {}).get("services") or [])]
    return {"host": host, "product": product, "components": components, "not_installed": other,
            "features": sorted(IIS_FEATURES) if needs_iis else [],
            "recorder": any(c.endswith("recording_server") for c in components),
            "services_known": known}


def _join_source(source: str, file: str) -> str:
    if source.startswith(("http://", "https://")):
        return source.rstrip("/") + "/" + file
    return source.rstrip("\\") + "\\" + file


def _check_source(host: str, source) -> str:
    if not source or not isinstance(source, str):
        raise WindowsInputError(host, "vms_win_installer_source", source,
                                "is not set, so there is nowhere to install from",
                                r"set it to a UNC share (\\fileserver\vms\installers) or an https:// URL")
    if source.startswith("http://"):
        raise WindowsInputError(host, "vms_win_installer_source", source,
                                "is plain http: installers could be tampered with on the way",
                                "use an https:// URL or a UNC share")
    if not source.startswith(("https://", "\\\\")):
        raise WindowsInputError(host, "vms_win_installer_source", source,
                                "is neither a UNC path nor an https URL",
                                r"use \\server\share\folder or https://host/path")
    return source


# The XProtect System Installer's own command line (issue 14, item 6: vendor material):
# --quiet --license=<file.lic> --arguments=<file>; used when vms_win_packages gives no arguments.
XPROTECT_DEFAULT_ARGUMENTS = "--quiet --license={license_file} --arguments={args_file}"
DEFAULT_ARGS_FILE = r"C:\ProgramData\vms-deploy\xprotect-arguments.xml"


def _windows_dirname(path: str) -> str:
    head, sep, _tail = str(path).rstrip("\\").rpartition("\\")
    return head if sep else ""


def install_plan(plan: dict, host: str, packages: dict, source: str,
                 args_file: str = DEFAULT_ARGS_FILE, license_file: str = "") -> dict:
    """win_package / win_service / win_feature parameters for one host.

    ``packages`` is ``vms_win_packages``: ``{component: {file, arguments, services, product_id?}}``.
    XProtect is one System Installer run for every component of the host (driven by the generated
    arguments file); Valerus has one installer per component.
    """
    product = plan.get("product")
    installer = windows_installer(plan, host)
    summary = host_summary(plan, host, packages)
    components = summary["components"]
    result = {"host": host, "product": product, "installer": installer, "components": components,
              "not_installed": summary["not_installed"], "features": summary["features"], "packages": [],
              "services": []}
    if not components or installer == "none":
        return result
    source = _check_source(host, source)
    missing = []
    for comp in components:
        spec = (packages or {}).get(comp) or {}
        for key in REQUIRED_PACKAGE_KEYS:
            if key == "arguments" and installer == "arguments_file":
                continue  # the System Installer's documented command line is the default
            if spec.get(key) in (None, "", []):
                missing.append(f"vms_win_packages.{comp}.{key}")
    if missing:
        also = f" (also not set: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise WindowsInputError(host, missing[0], MISSING, "is required to install this host's components" + also,
                                "copy them from your installer's documentation into group_vars "
                                "(see docs/windows.md, 'Installers'); vms-deploy never guesses them")
    services = []
    for comp in components:
        for svc in packages[comp]["services"]:
            services.append({"component": comp, "name": svc, "start_mode": "auto", "state": "started"})
    result["services"] = services
    result["packages"] = INSTALLERS[installer](host, components, packages, services, source, args_file, license_file)
    return result


def _arguments_file_packages(host: str, components: list[str], packages: dict, services: list[dict], source: str,
                             args_file: str, license_file: str) -> list[dict]:
    """windows_installer arguments_file (XProtect): one System Installer run installs every component of
    the host, driven by the generated arguments file; it is skipped when all services exist."""
    first = packages[components[0]]
    arguments = first.get("arguments") or XPROTECT_DEFAULT_ARGUMENTS
    host_license = ""
    if "{license_file}" in arguments:
        if not license_file:
            raise WindowsInputError(host, "vms_win_xprotect_license_file", MISSING,
                                    "is required: the System Installer installs with --license=<file.lic>",
                                    "set it to the controller path of your XProtect licence file (.lic); "
                                    "vms-deploy copies it next to the arguments file")
        folder = _windows_dirname(args_file)
        host_license = (folder + "\\" if folder else "") + str(license_file).replace("\\", "/").rsplit("/", 1)[-1]
    folder = _windows_dirname(args_file)
    if not folder:
        raise WindowsInputError(host, "vms_win_xprotect_args_file", args_file, "has no folder",
                                r"use a full path such as C:\ProgramData\vms-deploy\xprotect-arguments.xml")
    return [{
        "components": components,
        "args_file": args_file,
        "private_dir": folder,  # created with an ACL for SYSTEM and Administrators only (it holds a password)
        "license_src": str(license_file or ""),
        "license_file": host_license,
        "private_files": [args_file] + ([host_license] if host_license else []),  # deleted after the run
        "params": _package_params(source, first, arguments.replace("{args_file}", args_file)
                                  .replace("{license_file}", host_license),
                                  [s["name"] for s in services]),
    }]


def _component_packages(host: str, components: list[str], packages: dict, services: list[dict], source: str,
                        args_file: str, license_file: str) -> list[dict]:
    """windows_installer packages (Valerus): one vendor installer per component."""
    return [{"components": [comp], "args_file": None,
             "params": _package_params(source, packages[comp], packages[comp]["arguments"], packages[comp]["services"])}
            for comp in components]


# windows_installer trait (catalog) -> the packages a host's components install with.
INSTALLERS = {
    "arguments_file": _arguments_file_packages,
    "packages": _component_packages,
}


def windows_installer(plan: dict, host: str) -> str:
    """The product's windows_installer trait: how the host's components are installed (INSTALLERS), or
    "none" for a product installed by no Windows installer. roles/windows_install includes the
    installer's task file by this value (valerus.yml for packages, xprotect.yml for arguments_file)."""
    installer = plan_traits(plan).get("windows_installer", "none")
    if installer != "none" and installer not in INSTALLERS:
        raise WindowsInputError(host, "vms_product", plan.get("product"),
                                f"has windows_installer {installer!r}, which no Windows renderer knows",
                                f"use one of {', '.join(INSTALLERS)} or none in the product's catalog")
    return installer


def _package_params(source: str, spec: dict, arguments: str, services: list[str]) -> dict:
    # wait_for_children: bootstrapper installers start the real setup as a child and exit early.
    params = {"path": _join_source(source, spec["file"]), "arguments": arguments, "state": "present",
              "expected_return_code": list(REBOOT_CODES), "wait_for_children": True}
    # Idempotence: the product id when the vendor publishes one, otherwise the first service.
    if spec.get("product_id"):
        params["product_id"] = spec["product_id"]
    else:
        params["creates_service"] = services[0]
    return params


def needs_reboot(rc) -> bool:
    """win_package returns reboot_required, but an exe bundle may only say so with its exit code."""
    return int(rc or 0) in (3010, 1641)


def reboot_action(result: dict | None) -> str:
    """What follows an installer run: "none", "reboot" (3010 / reboot_required: restart it ourselves) or
    "wait" (1641: the installer has already started the restart; a second one meets a shutdown in
    progress, so wait for the host to come back and check that it did restart)."""
    result = result or {}
    if result.get("skipped"):
        return "none"
    if result.get("unreachable"):
        # the connection dropped under the install task (ignore_unreachable): an installer that restarts
        # the host (1641) tears the WinRM shell down before its result arrives. Wait, then the boot-time
        # check says whether the host did restart (issue 22, item 8).
        return "wait"
    rc = int(result.get("rc") or 0)
    if rc == 1641:
        return "wait"
    if rc == 3010 or result.get("reboot_required"):
        return "reboot"
    return "none"


def restart_check(host: str, before: str, after: str) -> str | None:
    """None when the host's last boot time moved on after an installer exited 1641, else the message."""
    if before and after and str(after) != str(before):
        return None
    return (f"host {host}: the installer exited 1641 (it started a restart) but the host's last boot time is still "
            f"{after or before or 'unknown'}. Fix: restart the host, check the installer's log, then rerun the install "
            "stage")


def packages_to_install(install: dict, installed: dict) -> list[dict]:
    """The install plan's packages that are not installed yet (so nothing is downloaded for the rest).

    ``installed`` is what the read-only probe found: {"services": [names present], "products": [ids]}.
    win_package downloads an https installer BEFORE its own idempotence check unless product_id is set
    (win_package.ps1), so the role asks first and skips the module for installed packages.
    """
    services = {str(s).lower() for s in (installed or {}).get("services") or []}
    products = {str(p).lower() for p in (installed or {}).get("products") or []}
    out = []
    for package in install.get("packages") or []:
        params = package["params"]
        if install.get("installer") == "arguments_file":  # one run for all: any missing service reruns it
            wanted = [s["name"] for s in install.get("services") or [] if s["component"] in package["components"]]
            missing = [s for s in wanted if s.lower() not in services]
            if missing:
                out.append(dict(package, params=dict(params, creates_service=missing[0])))
        elif params.get("product_id"):
            if str(params["product_id"]).lower() not in products:
                out.append(package)
        elif str(params.get("creates_service", "")).lower() not in services:
            out.append(package)
    return out


def installed_probe(install: dict) -> dict:
    """Parameters of the read-only probe that says which services and products exist."""
    ids = sorted({p["params"]["product_id"] for p in install.get("packages") or [] if p["params"].get("product_id")})
    return {"Services": [s["name"] for s in install.get("services") or []], "ProductIds": ids}


def service_params(infos: list[dict], check_mode: bool = False) -> list[dict]:
    """win_service parameters after the install, from win_service_info results (one per service).

    A service the vendor set to delayed automatic start keeps it ("delayed"); anything else becomes
    "auto". A missing service is left out only in check mode (nothing was installed); in a real run it
    stays, so win_service reports that the installer did not create it."""
    out = []
    for info in infos or []:
        item = info.get("item") or {}
        found = (info.get("services") or [{}])[0] if info.get("exists") else None
        if found is None and check_mode:
            continue
        found = found or {}
        mode = "delayed" if str(found.get("start_mode", "")).lower() == "delayed" else "auto"
        out.append({"component": item.get("component"), "name": item.get("name"), "start_mode": mode,
                    "state": "started"})
    return out


def port_checks(plan: dict, host: str, skip_ports: Iterable[int] = WINRM_PORTS) -> list[dict]:
    """Every planned listening port of the host, for the "port already taken" precheck.

    WinRM's own ports are skipped: Ansible is connected through them, so they are always taken.
    """
    out = []
    skip = {int(p) for p in skip_ports}
    for item in plan["hosts"][host].get("inbound", []):
        first, last = int(item["ports"][0]), int(item["ports"][-1])
        if item["protocol"] == "tcp" and first == last and first in skip:
            continue
        out.append({"protocol": str(item["protocol"]).lower(), "first": int(item["ports"][0]),
                    "last": int(item["ports"][-1]), "component": item["component"],
                    "service": item["service"]})
    return sorted(out, key=lambda c: (c["protocol"], c["first"], c["service"]))


def port_conflicts(plan: dict, host: str, listeners: Iterable[dict],
                   installed_services: Iterable[str], packages: dict,
                   skip_ports: Iterable[int] = WINRM_PORTS) -> list[str]:
    """Planned ports already taken by another program, as messages saying what to fix.

    ``listeners``: ``[{protocol, port, process}]`` read on the host (one script run). A port whose
    component is already installed (all its services exist) belongs to the product itself and is
    not a conflict; otherwise any listener on it is one. Ports of IIS-hosted components may be held
    by http.sys (process "System", pid 4) once IIS is installed; that is expected, not a conflict.
    """
    table = component_packages(plan)
    installed = set(installed_services or [])
    owned = set()
    for comp, target in table.items():
        services = ((packages or {}).get(target) or {}).get("services") or []
        if services and all(s in installed for s in services):
            owned.add(comp)
    problems = []
    iis = iis_packages(plan)
    iis_plan_components = {c for c, t in table.items() if t in iis}
    for check in port_checks(plan, host, skip_ports):
        if check["component"] in owned:
            continue
        for lis in listeners or []:
            if check["component"] in iis_plan_components and str(lis.get("process", "")).lower() == "system":
                continue
            if str(lis.get("protocol", "")).lower() == check["protocol"] and \
                    check["first"] <= int(lis.get("port", -1)) <= check["last"]:
                problems.append(
                    f"host {host}: {check['protocol']} port {lis['port']} is planned for "
                    f"{check['component']} ({check['service']}) but is already used by "
                    f"{lis.get('process') or 'an unknown process'} (pid {lis.get('pid', '?')}). Fix: stop or "
                    f"reconfigure that program, or move the VMS port with vms_port_overrides")
    return sorted(set(problems))


def version_problem(host: str, version: str, minimum: str) -> str | None:
    """None when the Windows version (e.g. "10.0.17763.0") is at least ``minimum``."""
    def parts(text):
        return [int(p) for p in str(text).split(".") if p.isdigit()]
    have, need = parts(version), parts(minimum)
    if not have:
        return f"host {host}: could not read the Windows version ({version!r}). Fix: check WinRM and facts"
    if have < need:
        return (f"host {host}: Windows {version} is older than the supported minimum {minimum}. Fix: upgrade "
                f"Windows, or lower vms_win_min_version if the vendor supports your version")
    return None


def disk_problem(host: str, drive: str, free_bytes, minimum_gb: float) -> str | None:
    if free_bytes is None:
        return (f"host {host}: recording drive {drive} does not exist. Fix: set vms_win_recording_drive "
                f"to the drive that holds recordings")
    free_gb = int(free_bytes) / 1024 ** 3
    if free_gb < float(minimum_gb):
        return (f"host {host}: drive {drive} has {free_gb:.1f} GiB free, below vms_win_recording_min_free_gb="
                f"{minimum_gb}. Fix: free space, use another drive (vms_win_recording_drive), or lower the minimum")
    return None


def feature_problems(host: str, required: list[str], installed: dict, manage: bool) -> list[str]:
    """``installed`` maps feature name -> bool. Missing features are fine when the role will add them."""
    missing = [f for f in required if not installed.get(f)]
    if not missing or manage:
        return []
    return [(f"host {host}: Windows features {', '.join(missing)} are required (IIS for the web components) "
             "but not installed. Fix: install them, or set vms_win_manage_features: true")]


def precheck_problems(plan: dict, host: str, facts: dict, *, version: str, min_version: str, drive: str,
                      min_free_gb: float, manage_features: bool, packages: dict | None = None,
                      skip_ports: Iterable[int] = WINRM_PORTS) -> list[str]:
    """Every Windows precheck's message for one host (roles/windows_prechecks), [] when all pass.

    ``facts`` is Get-VmsHostFacts.ps1's result: {free_bytes, features, listeners, services}. The Windows
    version is always checked; the recording drive's free space only on a host with a recording server;
    the features the components need (IIS) unless the role installs them; and every planned port against
    what already listens on the host.
    """
    facts = facts or {}
    summary = host_summary(plan, host, packages)
    problems = [version_problem(host, version, min_version)]
    if summary["recorder"]:
        problems.append(disk_problem(host, drive, facts.get("free_bytes"), min_free_gb))
    problems += feature_problems(host, summary["features"], dict(facts.get("features") or {}), bool(manage_features))
    problems += port_conflicts(plan, host, facts.get("listeners") or [], facts.get("services") or [], packages or {},
                               skip_ports)
    return [p for p in problems if p]


def closed_ports(result: dict | None) -> list[str]:
    """Test-VmsTcpPort.ps1's result ({port: answered}) -> the ports that did not answer, sorted by number."""
    return sorted((str(port) for port, answered in (result or {}).items() if not answered),
                  key=lambda p: (not p.isdigit(), int(p) if p.isdigit() else 0, p))


def port_changes(plan: dict, host: str) -> list[dict]:
    """Planned ports that differ from the product's default, with how the product lets them change (the
    service's port_change in its catalog, else the catalog's)."""
    catalog = _catalog(plan)  # the plan compiler's catalog: one source of defaults
    if catalog is None:
        return []
    services = catalog.services()
    out = []
    for item in plan["hosts"][host].get("inbound", []):
        svc = services.get(item.get("service"))
        planned = (int(item["ports"][0]), int(item["ports"][-1]))
        if svc is None or tuple(svc.ports) == planned:
            continue
        if svc.per_instance and planned[0] == svc.ports[0]:
            continue  # more recorder instances take the next ports (seed: 9002, 9003...): not a change
        out.append({"component": item["component"], "service": item["service"], "protocol": item["protocol"],
                    "default": port_range(svc.ports), "planned": port_range(planned),
                    "how": svc.port_change or catalog.port_change})
    return sorted(out, key=lambda c: (c["service"], c["protocol"]))


def port_change_messages(host: str, changes: list[dict]) -> list[str]:
    return [f"host {host}: {c['service']} ({c['component']}) is planned on {c['protocol']} {c['planned']} instead of "
            f"the default {c['default']}; vms-deploy cannot change this port in the product: {c['how']}. "
            f"Fix: make the change, then set vms_win_port_changes_confirmed: true, or drop the override from "
            f"vms_port_overrides" for c in changes]


def gateway_registration(plan: dict, host: str) -> dict:
    """Valerus Internet Gateway registration: the checks from the application server and the manual step.

    The seed documents registration only in the Valerus web UI (no API), so it is not automated: the
    role stops with ``manual_step`` until the operator confirms it, and every run checks that the
    gateway's ports answer from the application server.
    """
    entry = plan["hosts"][host]
    app = sorted(h for h, e in plan["hosts"].items() if "app_server" in e.get("components", []))
    ports = {i["service"]: int(i["ports"][0]) for i in entry.get("inbound", [])
             if i.get("service") in ("gateway_http", "gateway_streaming")}
    if not app:
        raise WindowsInputError(host, "vms_app_servers", [],
                                "has no host, so there is no application server to register the gateway with",
                                "put the Valerus Application Server in group vms_app_servers")
    http_port = ports.get("gateway_http", 9080)
    app_host = app[0]
    checks = [{"service": s, "port": p} for s, p in sorted(ports.items(), key=lambda kv: kv[1])]
    step = (f"host {host}: register the Internet Gateway in Valerus (the product offers no automated way): "
            f"1. In a browser, log in to Valerus on {app_host} ({plan['hosts'][app_host]['address']}). "
            f"2. Configuration > System > Internet Gateway > Add Internet Gateway. "
            f"3. IP address: {entry['address']}; port: {http_port} (streaming uses "
            f"{ports.get('gateway_streaming', 9081)}). "
            f"4. Click Apply and wait until the gateway's status is online. "
            f"5. Set vms_win_gateway_registered: true for {host} in the inventory and rerun with --tags gateway.")
    return {"host": host, "address": entry["address"], "app_server": app_host,
            "app_platform": plan["hosts"][app_host].get("platform"), "checks": checks, "manual_step": step}
