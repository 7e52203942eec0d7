"""What a newly installed Windows Server has before vms-deploy or a VMS installer ran (issue 20, item 1).

Written from Microsoft's documentation, not from what the roles later create. Each fact names its source
(Microsoft Learn; checked by the pages' titles, not on a host here):

- No IIS: "Web Server (IIS)" (Web-Server) and "IIS Management Console" (Web-Mgmt-Console) are roles and
  features added with Install-WindowsFeature / Server Manager; a new installation has neither, so the
  WebAdministration module and the W3SVC service are absent. (Microsoft Learn, "Install IIS and ASP.NET
  modules", learn.microsoft.com/iis/application-frameworks/scenario-build-an-aspnet-website-on-iis/
  configuring-step-1-install-iis-and-asp-net-modules; "Install or Uninstall Roles, Role Services, or
  Features", learn.microsoft.com/windows-server/administration/server-manager/
  install-or-uninstall-roles-role-services-or-features.)
- No "Valerus Web Proxy" site, no VMS services, no products: those come from the vendors' installers.
  IIS, once added, has only "Default Web Site" on port 80 (Microsoft Learn, "Default Web Site" in
  "Sites <sites>", learn.microsoft.com/iis/configuration/system.applicationhost/sites/).
- Folders: C:\\Windows, C:\\Windows\\Temp and C:\\ProgramData exist (Microsoft Learn, "KNOWNFOLDERID",
  FOLDERID_ProgramData / FOLDERID_Windows, learn.microsoft.com/windows/win32/shell/knownfolderid);
  C:\\ProgramData\\vms-deploy does not. No HKLM\\SOFTWARE\\vms-deploy key.
- http.sys has no SSL binding (HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\\SslBindingInfo
  is empty) until IIS or an application adds one ("netsh http" commands, learn.microsoft.com/
  windows-server/networking/technologies/netsh/netsh-http).
- Windows Defender Firewall is on for the Domain, Private and Public profiles and local rules apply
  (AllowLocalFirewallRules NotConfigured) (Microsoft Learn, "Windows Firewall overview" and
  "Configure firewall rules with group policy", learn.microsoft.com/windows/security/operating-system-security/
  network-security/windows-firewall/).
- WinRM: enabled by default on Windows Server 2012 and later, one HTTP listener on 5985, with the
  built-in rules "Windows Remote Management (HTTP-In)" WINRM-HTTP-In-TCP (Domain, Private) and
  WINRM-HTTP-In-TCP-PUBLIC (Public, remote address LocalSubnet) (Microsoft Learn, "Installation and
  configuration for Windows Remote Management", learn.microsoft.com/windows/win32/winrm/
  installation-and-configuration-for-windows-remote-management). An HTTPS listener (5986) is not there:
  the site's WinRM bootstrap adds it (docs/windows.md, BOOTSTRAP below), so it is a layer of its own.
- Remote Desktop's rules exist (group "Remote Desktop") but are disabled until Remote Desktop is turned on
  (Microsoft Learn, "Enable Remote Desktop on your PC" / Server Manager "Remote Desktop: Disabled");
  the preparation layer (BOOTSTRAP_RULES) turns it on, as most sites do.
"""
from __future__ import annotations

FRESH_DIRS = ["c:", "c:\\programdata", "c:\\windows", "c:\\windows\\temp"]
PROFILES = [{"name": n, "enabled": "True", "allow_local_rules": "NotConfigured"}
            for n in ("Domain", "Private", "Public")]

# Windows' own inbound rules that touch the ports of the plan (WinRM) or are commonly widened (RDP).
WINDOWS_RULES = [
    {"name": "WINRM-HTTP-In-TCP", "display_name": "Windows Remote Management (HTTP-In)",
     "group": "@FirewallAPI.dll,-35001", "store": "Local", "protocol": "TCP", "local_ports": ["5985"],
     "remote_addresses": ["Any"], "direction": "Inbound", "action": "Allow", "enabled": True, "program": "System"},
    {"name": "WINRM-HTTP-In-TCP-PUBLIC", "display_name": "Windows Remote Management (HTTP-In)",
     "group": "@FirewallAPI.dll,-35001", "store": "Local", "protocol": "TCP", "local_ports": ["5985"],
     "remote_addresses": ["LocalSubnet"], "direction": "Inbound", "action": "Allow", "enabled": True,
     "program": "System"},
]

# What the host's preparation adds before vms-deploy runs (docs/windows.md): the WinRM bootstrap's HTTPS
# listener on 5986 with a rule open to Any (the usual result of the bootstrap scripts), and Remote
# Desktop turned on (its built-in rule, disabled on a new installation, enabled).
BOOTSTRAP_RULES = [
    {"name": "Bootstrap-WinRM-HTTPS", "display_name": "Allow WinRM HTTPS", "group": "", "store": "Local",
     "protocol": "TCP", "local_ports": ["5986"], "remote_addresses": ["Any"], "direction": "Inbound",
     "action": "Allow", "enabled": True, "program": "Any"},
    {"name": "RemoteDesktop-UserMode-In-TCP", "display_name": "Remote Desktop - User Mode (TCP-In)",
     "group": "@FirewallAPI.dll,-28752", "store": "Local", "protocol": "TCP", "local_ports": ["3389"],
     "remote_addresses": ["Any"], "direction": "Inbound", "action": "Allow", "enabled": True, "program": "Any"},
]


def fresh_windows_server() -> dict:
    """The stand-in state of a newly installed Windows Server (plus the WinRM bootstrap)."""
    return {"features": {}, "services": {}, "products": [], "certificates": [], "stores": {}, "firewall": [],
            "dirs": list(FRESH_DIRS), "files": {}, "registry": {}, "sslcert": {}, "iis_sites": {},
            "profiles": [dict(p) for p in PROFILES], "boot_time": "boot-0", "listeners": [],
            "foreign_rules": [dict(r) for r in WINDOWS_RULES + BOOTSTRAP_RULES]}
