"""Windows Firewall rule group rendered from the plan, and the add/update/remove decision.

Two halves, both used on the controller:

* ``rules_for_host(plan, host)`` turns a Windows host's ``inbound`` list into the rule dicts that
  ``roles/windows_firewall/files/Set-VmsFirewallRuleGroup.ps1`` receives (one script run per host).
* ``reconcile(current, desired)`` is the decision the script makes on the host. It lives here too so
  it can be tested without Windows; the PowerShell script implements the same steps, and each step
  below carries a ``PS:`` note naming the script function that mirrors it.

Rule names are stable: ``vms-deploy-<component>-<protocol>-<ports>-<service>``, so a rerun finds the
rule it made before, and an operator reading ``wf.msc`` sees component, port and purpose.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from vms_deploy.errors import (
    WindowsInputError,  # defined with InputError; importable from here as before
)
from vms_deploy.ports import WINRM_HTTPS_PORT, port_range

GROUP = "vms-deploy"
DEFAULT_WINRM_PORT = WINRM_HTTPS_PORT  # Ansible reaches Windows hosts over WinRM HTTPS unless told otherwise
# The properties the script compares (PS: Get-VmsComparable). Name is the key, not a property.
COMPARED = ("display_name", "description", "protocol", "local_ports", "remote_addresses",
            "direction", "action", "enabled")


WindowsFirewallError = WindowsInputError  # the name the firewall renderer started with


def rule_name(component: str, protocol: str, ports, service: str) -> str:
    return f"{GROUP}-{component}-{protocol}-{port_range(ports)}-{service}".replace("_", "-").lower()


def normalize_address(text: str) -> str:
    """One remote address as CIDR. Windows reports "10.0.0.0/255.255.255.0", "10.0.0.5" or "Any".

    PS: ConvertTo-VmsCidr.
    """
    text = str(text).strip()
    if text.lower() == "any":
        return "0.0.0.0/0"
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:  # a keyword such as LocalSubnet: never in a plan, so it always differs
        return text.lower()


def _address_key(cidr: str):
    try:
        net = ipaddress.ip_network(cidr)
        return (net.version, int(net.network_address), net.prefixlen, "")
    except ValueError:
        return (9, 0, 0, cidr)


def normalize_addresses(addresses: Iterable[str]) -> list[str]:
    cidrs = sorted({normalize_address(a) for a in addresses}, key=_address_key)
    # "Any" swallows everything else, exactly as the firewall treats it.
    return ["0.0.0.0/0"] if "0.0.0.0/0" in cidrs else cidrs


def normalize_ports(text) -> str:
    """"9081,9080" / ["9080", "9081"] -> "9080,9081" (sorted, de-duplicated). PS: ConvertTo-VmsPortList."""
    items = text if isinstance(text, (list, tuple)) else str(text).split(",")
    parts = {p.strip() for p in items if str(p).strip()}

    def key(p):
        first = p.split("-")[0]
        return (0, int(first), p) if first.isdigit() else (1, 0, p)
    return ",".join(sorted(parts, key=key))


def comparable(rule: dict) -> dict:
    """The normalized properties of one rule, as the script compares them (PS: Get-VmsComparable)."""
    return {
        "display_name": str(rule.get("display_name", "")),
        "description": str(rule.get("description", "")),
        "protocol": str(rule.get("protocol", "")).upper(),
        "local_ports": normalize_ports(rule.get("local_ports", "")),
        "remote_addresses": normalize_addresses(rule.get("remote_addresses", []) or ["Any"]),
        "direction": str(rule.get("direction", "inbound")).lower(),
        "action": str(rule.get("action", "allow")).lower(),
        "enabled": bool(rule.get("enabled", True)),
    }


DIGEST_TAG = "[vms-deploy plan {}]"
_DIGEST_RE = re.compile(r"\[vms-deploy plan ([0-9a-f]+)\]")


def describe(purpose: str, digest: str = "") -> str:
    """A rule description: the seed's purpose, then which plan the rule came from (issue 12).

    Windows has no description on a rule group, so every rule of the group carries the digest; the
    description is a compared property, so a group whose digest and rules are unchanged is left alone.
    """
    tag = " " + DIGEST_TAG.format(digest) if digest else ""
    return purpose[:1000 - len(tag)] + tag


def digest_found(current: Iterable[dict]) -> list[str]:
    """The plan digests recorded in the group's rule descriptions (PS: Get-VmsDigestFound)."""
    return sorted({m.group(1) for r in current for m in _DIGEST_RE.finditer(str(r.get("description", "")))})


def _rule(name, component, service, protocol, ports, sources, purpose, digest=""):
    spec = port_range(ports)  # "9080", "40001-40099": the form New-NetFirewallRule takes
    return {
        "name": name,
        "display_name": f"VMS {component} {protocol.upper()} {spec} ({service})",
        "group": GROUP,
        "protocol": protocol.upper(),
        "local_ports": spec,
        "remote_addresses": normalize_addresses(sources),
        "direction": "inbound",
        "action": "allow",
        "enabled": True,
        "description": describe(purpose or service, digest),
    }


def winrm_rule(host: str, plan: dict, winrm_port: int, controller_cidrs: Iterable[str], digest: str = "") -> dict:
    """The management rule the plan must always carry (lock-out guard, see reconcile)."""
    sources = list(plan.get("zones", {}).get("management", [])) + list(controller_cidrs or [])
    if not sources:
        raise WindowsInputError(
            host, "vms_management_networks", [],
            f"leaves WinRM (tcp {winrm_port}) open to no source: the firewall would lock Ansible out",
            "set vms_management_networks to the CIDR Ansible connects from, or vms_win_controller_address")
    return _rule(rule_name("management", "tcp", [winrm_port, winrm_port], "winrm"), "management", "winrm",
                 "tcp", [winrm_port, winrm_port], sources,
                 "WinRM over HTTPS for Ansible from the management networks (never removed by vms-deploy)", digest)


def rules_for_host(plan: dict, host: str, winrm_port: int = DEFAULT_WINRM_PORT,
                   controller_cidrs: Iterable[str] = (), digest: str = "") -> list[dict]:
    """The complete rule group for one Windows host, sorted by name (byte-stable for golden files).

    ``digest`` (vms_deploy.plan_io.host_digest) is written into every rule's description."""
    hosts = plan.get("hosts", {})
    if host not in hosts:
        raise WindowsInputError(host, "inventory_hostname", host, "host is not in the plan",
                                   "add the host to a vms_* group of the site, or drop it from the play")
    entry = hosts[host]
    if entry.get("platform") != "windows":
        raise WindowsInputError(host, "vms_platform", entry.get("platform"),
                                   "is not windows: the Windows Firewall role runs only on Windows hosts",
                                   "set vms_platform: windows for this host, or use the nftables role")
    rules: dict[str, dict] = {}
    for item in entry.get("inbound", []):
        protocol = str(item["protocol"]).lower()
        name = rule_name(item["component"], protocol, item["ports"], item["service"])
        if name in rules:  # same port and service listed twice: one rule, union of sources
            merged = rules[name]["remote_addresses"] + list(item["sources"])
            rules[name]["remote_addresses"] = normalize_addresses(merged)
            continue
        rules[name] = _rule(name, item["component"], item["service"], protocol, item["ports"],
                            item["sources"], item.get("purpose", ""), digest)
    extra = _controller_cidrs(host, controller_cidrs)
    winrm = [r for r in rules.values() if covers(r, "TCP", winrm_port)]
    if winrm:  # the plan already opens WinRM: the controller joins its sources
        if extra:
            winrm[0]["remote_addresses"] = normalize_addresses(winrm[0]["remote_addresses"] + extra)
    else:
        rule = winrm_rule(host, plan, winrm_port, extra, digest)
        rules[rule["name"]] = rule
    return [rules[n] for n in sorted(rules)]


def _controller_cidrs(host: str, values: Iterable[str]) -> list[str]:
    out = []
    for value in values or []:
        try:
            net = ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            raise WindowsInputError(host, "vms_win_controller_address", value, "is not an IPv4 address or CIDR",
                                       "set the controller's address as seen by the host, e.g. 10.9.0.5") from None
        out.append(str(net))
    return out


def covers(rule: dict, protocol: str, port: int) -> bool:
    """True when the rule allows this protocol/port from at least one address. PS: Test-VmsCovers."""
    if str(rule.get("protocol", "")).upper() != protocol.upper() or not rule.get("enabled", True):
        return False
    if str(rule.get("action", "allow")).lower() != "allow" or not rule.get("remote_addresses", ["Any"]):
        return False
    for part in normalize_ports(rule.get("local_ports", "")).split(","):
        first, _, last = part.partition("-")
        if first.isdigit() and int(first) <= port <= int(last or first):
            return True
    return False


def admits(rule: dict, protocol: str, port: int, address: str) -> bool:
    """True when the rule allows this protocol/port from this IPv4 address. PS: Test-VmsAdmits."""
    if not covers(rule, protocol, port):
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for cidr in normalize_addresses(rule.get("remote_addresses", []) or ["Any"]):
        try:
            if ip in ipaddress.ip_network(cidr):
                return True
        except ValueError:
            continue  # a keyword: never relied on
    return False


def _peer(address: str) -> str | None:
    """An established WinRM peer as IPv4 text; None for loopback (the firewall never filters it)."""
    text = str(address).strip()
    if text.lower().startswith("::ffff:"):
        text = text[7:]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text
    if ip.is_loopback:
        return None
    return str(ip)


def locked_out_peers(desired: list[dict], peers: Iterable[str], winrm_port: int = DEFAULT_WINRM_PORT) -> list[str]:
    """Established WinRM peers (Get-NetTCPConnection) the desired rules would not admit. PS: Get-VmsLockedOutPeer.

    Loopback connections are not filtered by Windows Firewall; an IPv6 peer is never admitted by the
    IPv4 rules of the plan, so it is reported too (connect over IPv4 to apply the group).
    """
    out = []
    for raw in peers or []:
        peer = _peer(raw)
        if peer is None:
            continue
        if not any(admits(r, "TCP", winrm_port, peer) for r in desired):
            out.append(peer)
    return sorted(set(out))


def reconcile(current: list[dict], desired: list[dict], winrm_port: int = DEFAULT_WINRM_PORT,
              established: Iterable[str] = ()) -> dict:
    """Decide what the script does. ``current`` = rules now in the group, ``desired`` = rules_for_host.

    Returns ``{"add": [rule], "update": [{"name", "before", "after", "changes"}], "remove": [name],
    "unchanged": [name]}``, every list sorted by name. The script applies add, then update, then
    remove, so access never narrows below the old set before the new set is in place.
    """
    # PS: the guard at the top of the script. Refuse a desired set that would cut WinRM off.
    if not any(covers(r, "TCP", winrm_port) for r in desired):
        raise ValueError(f"refusing to apply: no desired rule allows the WinRM port tcp {winrm_port}; "
                         "the plan must carry the management rule (vms_management_networks)")
    # PS: the second guard. Every WinRM session open now (Ansible's own among them) must stay admitted.
    stranded = locked_out_peers(desired, established, winrm_port)
    if stranded:
        raise ValueError(f"refusing to apply: established WinRM connections from {', '.join(stranded)} (tcp "
                         f"{winrm_port}) would not be admitted by the new rules; add the address to "
                         "vms_management_networks or vms_win_controller_address")
    for rule in desired:
        if rule.get("group", GROUP) != GROUP:
            raise ValueError(f"rule {rule['name']} is in group {rule.get('group')!r}, not {GROUP!r}: "
                             "the script only manages its own group")
    names = [r["name"] for r in desired]
    if len(names) != len(set(names)):
        raise ValueError("desired rules have duplicate names: "
                         + ", ".join(sorted({n for n in names if names.count(n) > 1})))
    now = {r["name"]: r for r in current}
    want = {r["name"]: r for r in desired}
    result: dict = {"add": [], "update": [], "remove": [], "unchanged": []}
    for name in sorted(want):                                 # PS: Get-VmsChanges, first loop
        if name not in now:
            result["add"].append(want[name])
            continue
        before, after = comparable(now[name]), comparable(want[name])
        changes = sorted(k for k in COMPARED if before[k] != after[k])
        if changes:
            result["update"].append({"name": name, "before": before, "after": after, "changes": changes})
        else:
            result["unchanged"].append(name)
    result["remove"] = sorted(n for n in now if n not in want)  # PS: Get-VmsChanges, second loop
    return result


def diff_text(current: list[dict], desired: list[dict]) -> tuple[str, str]:
    """before/after text for --diff: one line per rule, the same layout the script returns. PS: Format-VmsRule."""
    def lines(rules):
        out = []
        for rule in sorted(rules, key=lambda r: r["name"]):
            c = comparable(rule)
            out.append(f"{rule['name']}: {c['protocol']} {c['local_ports']} from "
                       f"{','.join(c['remote_addresses'])} {c['action']} "
                       f"{'enabled' if c['enabled'] else 'disabled'}")
        return "\n".join(out) + ("\n" if out else "")
    return lines(current), lines(desired)


def script_parameters(plan: dict, host: str, winrm_port: int = DEFAULT_WINRM_PORT,
                      controller_cidrs: Iterable[str] = (), digest: str = "") -> dict:
    """The ``parameters`` given to ansible.windows.win_powershell for this host's script run."""
    return {"Group": GROUP, "WinRmPort": int(winrm_port),
            "Rules": rules_for_host(plan, host, winrm_port, controller_cidrs, digest)}
