"""How Ansible reaches the Windows hosts, checked before any host changes (issue 20 item 3; phase PRODUCT).

These rules judge Ansible's connection settings, which only an inventory carries: they run on data read by
vms_deploy.inventory.collect (`data["connections"]`: `vms-deploy plan`, plan.yml and the prechecks' vms_plan),
never on a site built in code. The Windows rules judge a host set up to be deployed, i.e. given at least one
connection setting (ansible_user, ansible_password, ansible_port, ansible_connection, ansible_winrm_*,
ansible_psrp_*; in group_vars/windows.yml as new-site writes it); an inventory without any is only planned.

- WinRM stays reachable: the Windows firewall stage opens WinRM only from vms_management_networks and
  vms_win_controller_address; with neither it would lock Ansible out, after the install stage changed the host.
- A Windows host is reached over WinRM or PSRP: without it Ansible tries SSH and times out in "WinRM answers".
- Windows connection settings stay with the Windows hosts: set in group_vars/all (as the old template said) they
  also reach the Linux edge and gateways, which then cannot be reached at all.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

from .. import ports
from ..resolve import platform_of
from .context import Context

WINDOWS_CONNECTIONS = ("winrm", "psrp")
# `local` runs the Windows modules' stand-ins on the controller (tests/unit/test_windows_roles_dryrun.py).
STAND_IN_CONNECTIONS = ("local",)
WINRM_PORTS = ports.WINRM_PORTS
CONNECTION_FIX = ("list the Windows hosts in a `windows` group and set ansible_connection: winrm (ansible_port: 5986, "
                  "ansible_winrm_transport) in group_vars/windows.yml, as `vms-deploy new-site` writes it "
                  "(docs/windows.md, Connecting)")


def _connections(ctx: Context) -> dict | None:
    found = ctx.data.get("connections") if isinstance(ctx.data, dict) else None
    return found if isinstance(found, dict) else None


def _platform_hosts(ctx: Context, platform: str) -> list[str]:
    return [h for h in sorted(ctx.site.hosts)
            if not ctx.reported(h, "vms_platform") and platform_of(ctx.site, h, ctx.product) == platform]


def winrm_port(connection: dict | None) -> int:
    """The WinRM port Ansible uses (vms_deploy.ports.winrm_port of the host's ansible_port)."""
    return ports.winrm_port((connection or {}).get("ansible_port"))


def check_winrm_source(ctx: Context) -> None:
    """A Windows host keeps WinRM open to Ansible: vms_management_networks or vms_win_controller_address is set.

    From: docs/windows.md, "Firewall" (the WinRM rule from vms_management_networks and vms_win_controller_address,
    refused when it would open to no source)."""
    connections = _connections(ctx)
    if connections is None or ctx.reported_on_any_host("vms_management_networks"):
        return
    for host in _platform_hosts(ctx, "windows"):
        if not (connections.get(host) or {}).get("settings"):
            continue  # not set up to be deployed yet (no connection setting): nothing would lock it out
        networks = ctx.site.var(host, "vms_management_networks", None)
        controller = ctx.site.var(host, "vms_win_controller_address", None)
        if networks or controller or ctx.reported(host, "vms_win_controller_address"):
            continue
        port = winrm_port(connections.get(host))
        ctx.err(host, "vms_management_networks", networks if networks is not None else "(unset)",
                f"is empty and vms_win_controller_address is not set: the Windows firewall stage would leave WinRM "
                f"(tcp {port}) open to no source and lock Ansible out, after the install stage changed the host",
                "set vms_management_networks to the network Ansible connects from (e.g. [10.20.9.0/24]), or "
                "vms_win_controller_address to the controller's address as the host sees it")


def check_controller_address(ctx: Context) -> None:
    """vms_win_controller_address is one IPv4 address or network: the plan opens WinRM to it (as a /32).

    From: docs/windows.md, "Firewall" (the WinRM rule from vms_management_networks and vms_win_controller_address)."""
    for host in _platform_hosts(ctx, "windows"):
        value = ctx.site.var(host, "vms_win_controller_address", None)
        if value in (None, "") or ctx.reported(host, "vms_win_controller_address"):
            continue
        try:
            ipaddress.IPv4Network(str(value).strip(), strict=False)
        except ValueError:
            ctx.err(host, "vms_win_controller_address", value, "is not an IPv4 address or CIDR",
                    "set the controller's address as the host sees it, e.g. 10.9.0.5")


def check_windows_connection(ctx: Context) -> None:
    """A Windows host given connection settings (user, password, port, WinRM options) is reached over WinRM or
    PSRP: its ansible_connection is winrm or psrp, not unset (Ansible's default is SSH).

    From: docs/windows.md, "Connecting" (WinRM via pywinrm; ansible_connection: winrm)."""
    connections = _connections(ctx)
    if connections is None:
        return
    for host in _platform_hosts(ctx, "windows"):
        connection = connections.get(host) or {}
        value = connection.get("ansible_connection")
        if value in WINDOWS_CONNECTIONS or value in STAND_IN_CONNECTIONS or not connection.get("settings"):
            continue  # no connection setting at all: an inventory written to be planned, not yet to deploy
        ctx.err(host, "ansible_connection", value if value is not None else "(unset)",
                "is not winrm or psrp on a Windows host: Ansible would try SSH and time out before the first task",
                CONNECTION_FIX)


def check_linux_connection(ctx: Context) -> None:
    """A Linux host (the edge, a Linux gateway) is not given the Windows hosts' WinRM connection.

    From: docs/windows.md, "Connecting" (the connection settings in group_vars/windows.yml, not group_vars/all)."""
    connections = _connections(ctx)
    if connections is None:
        return
    for host in _platform_hosts(ctx, "linux"):
        connection = connections.get(host) or {}
        value = connection.get("ansible_connection")
        if value not in WINDOWS_CONNECTIONS:
            continue
        where = f" (set in {connection['origin']})" if connection.get("origin") else ""
        ctx.err(host, "ansible_connection", value,
                f"is a Windows connection on the Linux host {host}{where}: Ansible cannot reach it",
                "move the Windows connection settings (ansible_connection, ansible_port, ansible_winrm_*, "
                "ansible_password) out of group_vars/all into group_vars/windows.yml, and list the Windows hosts in a "
                "`windows` group (docs/windows.md, Connecting)")


# Controller files the Windows install stage reads (roles/windows_install): a relative path is relative to the
# inventory directory, as the role's defaults resolve it for its assert, lookup and copy.
CONTROLLER_FILES = {"vms_win_xprotect_args_base": "the XProtect installer's --generateargsfile Arguments.xml",
                    "vms_win_xprotect_license_file": "the XProtect licence file (.lic)"}


def controller_path(value: str, inventory_dir: str | None) -> Path:
    """A controller path as the Windows install stage opens it: absolute, else relative to the inventory directory
    (the working directory when the site has none, e.g. data built in code)."""
    path = Path(value).expanduser()
    if path.is_absolute() or not inventory_dir:
        return path
    return Path(inventory_dir) / path


def check_windows_installer_files(ctx: Context) -> None:
    """A given vms_win_xprotect_args_base or vms_win_xprotect_license_file is a file on the controller, a relative
    path being relative to the inventory directory (the rule the windows_install role applies too).

    From: docs/windows.md, "XProtect arguments file" (the --generateargsfile base and the licence on the
    controller)."""
    dirs = ctx.data.get("inventory_dirs") if isinstance(ctx.data, dict) else None
    for host in _platform_hosts(ctx, "windows"):
        for name, what in CONTROLLER_FILES.items():
            value = ctx.site.var(host, name, None)
            if not isinstance(value, str) or not value or ctx.reported(host, name):
                continue
            path = controller_path(value, (dirs or {}).get(host))
            if not path.is_file():
                ctx.err(host, name, value, f"is not a file on the controller (looked for {path}; a relative path is "
                        "relative to the inventory directory)",
                        f"copy {what} to the controller and give its path, absolute or relative to the inventory "
                        "directory (docs/windows.md, \"XProtect arguments file\")")
