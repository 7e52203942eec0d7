"""Windows installer inputs (read by roles/windows_install; checked here, before any host is touched)."""
from __future__ import annotations

from .. import checks
from ..catalog import all_windows_packages
from ..errors import WindowsInputError
from ..render.windows_install import DEFAULT_ARGS_FILE, _check_source, install_plan
from .context import Context
from .spec import did_you_mean

_PACKAGE_FIXES = {"file": "give the installer's file name inside vms_win_installer_source, e.g. ValerusSetup.exe",
                  "arguments": "give the installer's documented silent-install arguments on one line",
                  "product_id": "give the MSI product code, e.g. {12345678-1234-1234-1234-123456789012}"}


def check_windows_installer_source(ctx: Context) -> None:
    """A given vms_win_installer_source is an https:// URL or a UNC path, one line without quotes or shell
    characters (it reaches win_package's path).

    From: docs/security.md, Hostile input class 1 (Windows installer source: https or UNC, no quotes)."""
    for host in ctx.site.hosts:
        source = ctx.site.var(host, "vms_win_installer_source", None)
        if source in (None, ""):
            continue
        try:
            _check_source(host, source)
            problem = checks.windows_text_problem(source, quotes=False)
            if problem:
                ctx.err(host, "vms_win_installer_source", source, problem,
                        r"use a plain UNC path (\\fileserver\vms\installers) or https:// URL")
        except WindowsInputError as exc:
            ctx.add(exc.error)


def check_windows_packages(ctx: Context) -> None:
    """vms_win_packages is keyed by installable Windows components (the catalogs' windows_package, e.g.
    xprotect_management_server), each with known keys: a plain file name, arguments on one line, Windows
    service names and an MSI product code.

    From: docs/security.md, Hostile input class 1 (vms_win_packages: known components, plain file names,
    service names, product codes); docs/windows.md, "Installers"."""
    components = set(all_windows_packages())
    for host in ctx.site.hosts:
        packages = ctx.site.var(host, "vms_win_packages", None)
        if packages is None or packages == {}:
            continue
        if not isinstance(packages, dict):
            ctx.err(host, "vms_win_packages", packages, f"is {type(packages).__name__}, not a mapping",
                    "write vms_win_packages as {component: {file: ..., arguments: ..., services: [...]}}")
            continue
        for comp, spec in sorted(packages.items(), key=lambda kv: str(kv[0])):
            _windows_package(ctx, host, comp, spec, components)


def _windows_package(ctx: Context, host, comp, spec, components) -> None:
    var = f"vms_win_packages.{comp}"
    if comp not in components:
        ctx.err(host, "vms_win_packages", comp, "names no installable Windows component"
                f"{did_you_mean(str(comp), sorted(components))}", f"use one of: {', '.join(sorted(components))}")
        return
    if not isinstance(spec, dict):
        ctx.err(host, var, spec, "is not a mapping", "write {file: ..., arguments: ..., services: [...]}")
        return
    for key in sorted(set(spec) - set(checks.WINDOWS_PACKAGE_KEYS), key=str):
        ctx.err(host, var, key, f"is an unknown key{did_you_mean(str(key), checks.WINDOWS_PACKAGE_KEYS)}",
                f"use only: {', '.join(checks.WINDOWS_PACKAGE_KEYS)}")
    for key, fix in _PACKAGE_FIXES.items():
        if key in spec and spec[key] not in (None, ""):
            problem = checks.windows_package_problem(key, spec[key])
            if problem:
                ctx.err(host, f"{var}.{key}", spec[key], problem, fix)
    services = spec.get("services")
    if services is None:
        return
    if not isinstance(services, list):
        ctx.err(host, f"{var}.services", services, "is not a list of Windows service names",
                "write services: [ServiceName, ...]")
        return
    for name in services:
        problem = checks.windows_package_problem("services", name)
        if problem:
            ctx.err(host, f"{var}.services", name, problem,
                    "list the Windows service names (sc query), e.g. [ViconValerusRecorder]")


def check_windows_install(ctx: Context) -> None:
    """Once installer inputs are given, each Windows host's install is complete (source, the package of each
    of its components, the XProtect licence): the same install_plan the windows_install role runs, so
    site.yml stops here and not after the Linux stage. A site that gives none is only planned (plan.yml);
    its install stage says what is missing. Runs on the compiled plan (the components each host gets).

    From: docs/security.md, Hostile input class 1 (every Windows host's install complete)."""
    site, plan = ctx.site, ctx.plan
    names = ("vms_win_installer_source", "vms_win_packages")
    if not any(site.var(h, n, None) not in (None, "", {}) for h in site.hosts for n in names):
        return
    v = site.var
    for host, info in sorted(plan["hosts"].items()):
        if info.get("platform") != "windows":
            continue
        try:
            install_plan(plan, host, v(host, "vms_win_packages", None) or {}, v(host, "vms_win_installer_source", ""),
                         v(host, "vms_win_xprotect_args_file", None) or DEFAULT_ARGS_FILE,
                         v(host, "vms_win_xprotect_license_file", None) or "")
        except WindowsInputError as exc:
            ctx.add(exc.error)
