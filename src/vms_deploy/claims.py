"""What vms-deploy's firewalls own on each host, and what they do not (issue 24 item 2).

A report that says "everything not listed is closed" must be true on every host it is said of. What
the renderers apply decides it:

* Linux hosts and the edge (render/nftables_host.py, nftables_edge.py): the table `inet vms_deploy`,
  input chain policy drop. netfilter runs every base chain of a hook and a drop in any of them is
  final, so a port the plan does not open is closed for IPv4 and IPv6 whatever other tables or
  iptables rules accept. The host's own table does not filter what the host forwards (containers,
  virtual machines) nor its outbound connections.
* Windows hosts (render/windows_firewall.py): the rule group "vms-deploy". Windows admits a
  connection when ANY enabled allow rule matches, so the built-in rules (Remote Desktop, File and
  Printer Sharing, WinRM, Core Networking), vendor installers' rules and Group Policy rules stay in
  force beside the group (render/windows_foreign.py). `vms_win_disable_foreign_rules` switches off only
  the local rules that widen a port the plan opens; rules on other ports (3389, 445) are never touched,
  so a port the plan does not list is "not opened by vms-deploy", never "closed".
* Boundaries: between zones only a managed edge host filters; without one (a router vms-deploy does
  not manage) a host's own firewall is all that stands between it and the other networks.

`host_claims` says it per host, `site_claims` for the site; the report, ports.md, `explain` and
`check` print these sentences, so they cannot disagree. The plan does not record
`vms_win_disable_foreign_rules` (a role variable): `settings` gives it per host when the inventory is at
hand, otherwise the sentence says what holds either way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FOREIGN_VARIABLE = "vms_win_disable_foreign_rules"
WINDOWS_BUILTINS = ("Remote Desktop tcp/3389, File and Printer Sharing (SMB) tcp/445, Windows Remote Management, "
                    "Core Networking")


@dataclass(frozen=True)
class HostClaims:
    host: str
    platform: str
    owned: str                    # what vms-deploy applies and owns on the host
    unlisted: str                 # what holds for a port the plan does not open (the claim)
    closed: bool                  # True: an unlisted port is closed by what vms-deploy owns
    not_owned: list[str] = field(default_factory=list)  # what vms-deploy does not filter there

    def verdict_word(self) -> str:
        """explain's first word for a port no rule of the plan opens."""
        return "CLOSED" if self.closed else "NOT OPENED BY VMS-DEPLOY"

    def key(self) -> tuple:
        """Hosts with equal claims share one entry in the report's table."""
        return (self.platform, self.owned, self.unlisted, tuple(self.not_owned))


def settings_from_inventory(data: dict[str, Any] | None) -> dict[str, dict[str, Any]] | None:
    """{host: {variable: value}} of the variables the claims depend on, from the inventory data; None
    (unknown) without an inventory."""
    if not data:
        return None
    return {host: {FOREIGN_VARIABLE: bool((hvars or {}).get(FOREIGN_VARIABLE, False))}
            for host, hvars in (data.get("hosts") or {}).items()}


def _foreign_setting(settings: dict[str, dict[str, Any]] | None, host: str) -> bool | None:
    if settings is None or host not in settings:
        return None
    return bool(settings[host].get(FOREIGN_VARIABLE, False))


def _boundary(plan: dict[str, Any], host: str, hv: dict[str, Any]) -> str:
    edge = (plan.get("edge") or {}).get("host")
    zone = hv.get("zone", "servers")
    if edge == host:
        return ("between zones: this host is the edge; its forward chain lets through only the plan's zone flows "
                "and port forwards (policy drop)")
    if edge:
        return (f"between zones: the edge host {edge} filters what reaches this host from other zones; inside zone "
                f"{zone} only this host's own firewall filters")
    text = ("between zones: no firewall of vms-deploy (the site's router is not managed); every network the router "
            "connects reaches this host, filtered by this host's own firewall alone")
    if zone == "dmz":
        text += "; the DMZ is separated from the servers by host firewalls only, not by a firewall on each side"
    return text


def host_claims(plan: dict[str, Any], host: str, settings: dict[str, dict[str, Any]] | None = None) -> HostClaims:
    hv = (plan.get("hosts") or {})[host]
    platform = hv.get("platform", "linux")
    boundary = _boundary(plan, host, hv)
    if platform == "windows":
        foreign = _foreign_setting(settings, host)
        not_owned = [
            f"Windows Firewall rules outside the group: Windows admits a connection when any enabled allow rule "
            f"matches, so its built-in rules ({WINDOWS_BUILTINS}), rules vendor installers add and Group Policy "
            f"rules stay in force; playbooks/audit.yml lists each one that admits more than the plan",
        ]
        if foreign is True:
            not_owned.append(f"{FOREIGN_VARIABLE} is set: local rules that admit more than the plan on the plan's "
                             "own ports are switched off; rules on other ports and Group Policy rules are not")
        elif foreign is False:
            not_owned.append(f"{FOREIGN_VARIABLE} is not set: rules outside the group may also widen the plan's own "
                             "ports (set it to switch the local ones off)")
        else:
            not_owned.append(f"unless {FOREIGN_VARIABLE} is set for this host (the plan does not record it), rules "
                             "outside the group may also widen the plan's own ports")
        not_owned += [
            "IPv6: the group admits IPv4 sources only; whether IPv6 connections are admitted is up to the rules "
            "outside the group",
            "a firewall profile switched off, or a Group Policy that ignores local rules, voids the group "
            "(playbooks/audit.yml reports both)",
            boundary,
        ]
        return HostClaims(host, platform, owned="the Windows Firewall rule group \"vms-deploy\" (IPv4)",
                          unlisted="not opened by vms-deploy, but not necessarily closed: Windows Firewall rules "
                                   "outside the vms-deploy group may admit it",
                          closed=False, not_owned=not_owned)
    edge = (plan.get("edge") or {}).get("host") == host
    owned = ("the nftables table \"inet vms_deploy\": input and forward chains (policy drop) and the port forwards"
             if edge else "the nftables table \"inet vms_deploy\": input chain, policy drop")
    not_owned = [("this host's own outbound connections" if edge else
                  "what this host forwards (containers, virtual machines) and its own outbound connections"),
                 "ICMP echo (ping) is answered from anywhere, rate-limited",
                 boundary]
    return HostClaims(host, platform, owned=owned,
                      unlisted="closed: dropped by the vms_deploy input chain, for IPv4 and IPv6, whatever other "
                               "nftables tables or iptables rules accept",
                      closed=True, not_owned=not_owned)


def site_claims(plan: dict[str, Any]) -> list[str]:
    """What vms-deploy does not own anywhere on the site."""
    edge = plan.get("edge") or {}
    out = ["cameras, operator clients and any other address that is not a host of this plan: vms-deploy filters "
           "nothing on them"]
    if not edge.get("host"):
        out.append("the Internet router: not managed; its port forwards are typed by hand from the router sheet, "
                   "and whatever else it forwards or exposes (UPnP, its own remote administration, IPv6) is not "
                   "checked")
    out.append("IPv6: the plan is IPv4 only; no IPv6 source is ever allowed by a rule of the plan")
    return out


def all_host_claims(plan: dict[str, Any], settings: dict[str, dict[str, Any]] | None = None) -> list[HostClaims]:
    return [host_claims(plan, h, settings) for h in sorted(plan.get("hosts") or {})]


def grouped(claims: list[HostClaims]) -> list[tuple[list[str], HostClaims]]:
    """(hosts, claims) per distinct claim set, in the order of the first host: a 100-host site's report
    says each sentence once, with the hosts it holds for."""
    groups: dict[tuple, tuple[list[str], HostClaims]] = {}
    for item in claims:
        groups.setdefault(item.key(), ([], item))[0].append(item.host)
    return list(groups.values())


def denial_caveat(plan: dict[str, Any], host: str, planned_port: bool,
                  settings: dict[str, dict[str, Any]] | None = None) -> str | None:
    """What a "denied by the host firewall" verdict leaves out on `host`, or None when it leaves nothing out.

    planned_port: some rule of the plan opens the port (for other sources)."""
    hv = (plan.get("hosts") or {}).get(host) or {}
    if hv.get("platform") != "windows":
        return None
    foreign = _foreign_setting(settings, host)
    if planned_port and foreign is True:
        return (f"not evaluated on {host} (Windows): Group Policy rules outside the vms-deploy group may still admit "
                f"it ({FOREIGN_VARIABLE} switched the local ones off)")
    text = (f"not evaluated on {host} (Windows): Windows Firewall rules outside the vms-deploy group "
            f"({WINDOWS_BUILTINS}, vendor and Group Policy rules) may admit it; playbooks/audit.yml lists them")
    if planned_port:
        text += f" ({FOREIGN_VARIABLE}: true switches off the local ones that widen this port)"
    return text
