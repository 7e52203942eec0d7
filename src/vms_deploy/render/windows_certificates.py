"""Certificate decisions for Windows hosts (issue 4): PFX thumbprint, the Valerus IIS binding, and the
XProtect checks.

Valerus: the seed binds the site's certificate to the IIS site "Valerus Web Proxy", https, port 3001,
replacing the default self-signed binding. ``valerus_binding_plan`` compares the site's bindings (as
microsoft.iis.website_info returns them) with the wanted thumbprint and returns the parameters for
microsoft.iis.website: nothing when the binding is already right (idempotent), otherwise remove the
old https binding(s) on the port and add the new one.

XProtect: certificates are assigned with XProtect's Server Configurator. The toolkit imports the PFX
and then checks what each component actually serves; when it is not the wanted certificate it stops
with the exact Server Configurator step (``xprotect_manual_step``).
"""
from __future__ import annotations

import hashlib

from vms_deploy.catalog import plan_traits
from vms_deploy.render.windows_firewall import WindowsInputError

VALERUS_SITE = "Valerus Web Proxy"
VALERUS_PORT = 3001
# Component -> (default https port, Server Configurator section that assigns its certificate).
XPROTECT_CERT_TARGETS = {
    "xprotect_management_server": (443, "Server certificate"),
    "xprotect_mobile_server": (8082, "Mobile streaming media certificate"),
}


def pfx_thumbprint(host: str, data: bytes, password: str | None) -> str:
    """SHA-1 thumbprint (upper-case hex, as Windows shows it) of the PFX's leaf certificate."""
    from cryptography.hazmat.primitives.serialization import pkcs12  # controller only
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except ValueError as exc:
        raise WindowsInputError(host, "vms_tls_pfx_password", "(vaulted)",
                                f"does not open the PFX ({exc})",
                                "check vms_tls_pfx_path and vms_tls_pfx_password belong together") from None
    if cert is None or key is None:
        raise WindowsInputError(host, "vms_tls_pfx_path", "(file)", "holds no certificate with its private key",
                                "export the certificate together with its private key")
    from cryptography.hazmat.primitives.serialization import Encoding
    return hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()


def valerus_web_proxy_port(plan: dict, host: str) -> int | None:
    """The New Web Player https port this host serves (service web_player_https), or None.

    The "Valerus Web Proxy" IIS site serves the New Web Player; a host binds a certificate to it only
    when the plan opens that port on it (vms_web_player: false removes it). Port overrides apply.
    """
    for item in plan["hosts"][host].get("inbound", []):
        if item.get("service") == "web_player_https":
            return int(item["ports"][0])
    return None


def _binds_iis_site(plan: dict, host: str) -> bool:
    return valerus_web_proxy_port(plan, host) is not None


def _joins_certificate_group(plan: dict, host: str) -> bool:
    return any(c in ENCRYPTION_GROUPS for c in _configurator_components(plan, host))


# certificate_binding trait (catalog) -> does this host terminate TLS with the site certificate?
CERTIFICATE_BINDINGS = {
    "iis_site": _binds_iis_site,
    "server_configurator": _joins_certificate_group,
    "none": lambda plan, host: False,
}


def certificate_binding(plan: dict, host: str) -> str:
    """How this host binds the site certificate: the product's certificate_binding trait (iis_site,
    server_configurator) when the host terminates TLS with it, else "none". roles/windows_certificates
    includes the binding's task file by this value (valerus.yml for iis_site, xprotect.yml for
    server_configurator)."""
    binding = plan_traits(plan).get("certificate_binding", "none")
    if binding not in CERTIFICATE_BINDINGS:
        raise WindowsInputError(host, "vms_product", plan.get("product"),
                                f"has certificate_binding {binding!r}, which no Windows renderer knows",
                                f"use one of {', '.join(CERTIFICATE_BINDINGS)} in the product's catalog")
    return binding if CERTIFICATE_BINDINGS[binding](plan, host) else "none"


def needs_certificate(plan: dict, host: str) -> bool:
    """Whether the host terminates TLS with the site certificate (issue 4, Windows): with an IIS-site
    binding (Valerus) a host serving the New Web Player https port; with Server Configurator
    (XProtect) a server taking part in a certificate group (Management, Recording, Mobile and Event
    Servers; issue 14 item 9)."""
    return certificate_binding(plan, host) != "none"


def _key(binding: dict) -> tuple[str, int, str]:
    ip = binding.get("ip") or "*"
    return ("*" if ip in ("", "0.0.0.0") else ip, int(binding.get("port") or 0), binding.get("hostname") or "")


def valerus_binding_plan(bindings: list[dict], thumbprint: str, site: str = VALERUS_SITE,
                         port: int = VALERUS_PORT, ip: str = "*", hostname: str = "") -> dict:
    """Decide the binding change. Returns {action: none|add|replace, remove_params, add_params}.

    ``remove_params`` / ``add_params`` are the exact microsoft.iis.website parameters (or None).
    Every https binding on ``port`` that does not carry ``thumbprint`` is removed (that is the default
    self-signed one); a binding on another port or protocol is never touched.
    """
    want = thumbprint.replace(" ", "").upper()
    target = _key({"ip": ip, "port": port, "hostname": hostname})
    https_on_port = [b for b in bindings or [] if str(b.get("protocol", "")).lower() == "https"
                     and int(b.get("port") or 0) == int(port)]
    good = [b for b in https_on_port if _key(b) == target
            and str(b.get("certificate_hash") or "").upper() == want]
    stale = [b for b in https_on_port if b not in good]
    # An http binding on the same ip:port:hostname would collide with the new https one.
    stale += [b for b in bindings or [] if _key(b) == target and b not in https_on_port]
    remove = sorted({_key(b) for b in stale})
    action = "none" if good and not remove else ("replace" if remove else "add")
    return {
        "action": action,
        "remove_params": None if not remove else {
            "name": site, "bindings": {"remove": [{"ip": k[0], "port": k[1], "hostname": k[2] or None}
                                                  for k in remove]}},
        "add_params": None if good else {
            "name": site, "bindings": {"add": [{"ip": target[0], "port": target[1], "hostname": target[2] or None,
                                                "protocol": "https", "certificate_hash": want,
                                                "certificate_store_name": "my"}]}},
    }


def xprotect_cert_targets(components: list[str], ports: dict | None = None) -> list[dict]:
    """The (component, port) pairs whose served certificate is checked on an XProtect host."""
    out = []
    for comp in sorted(components):
        if comp in XPROTECT_CERT_TARGETS:
            default, section = XPROTECT_CERT_TARGETS[comp]
            out.append({"component": comp, "port": int((ports or {}).get(comp, default)), "section": section})
    return out


def certificate_targets(plan: dict, host: str, ports: dict | None = None) -> list[dict]:
    """The (component, port) pairs whose served certificate is checked on this host: those of its
    components when its product assigns certificates with Server Configurator, else none."""
    return xprotect_cert_targets(_configurator_components(plan, host), ports)


def xprotect_manual_step(host: str, thumbprint: str, mismatched: list[dict], configurator: str = "") -> str:
    """The exact manual step when XProtect does not serve the wanted certificate yet."""
    from vms_deploy.render.windows_powershell import configurator_commands
    lines = [(f"host {host}: XProtect does not serve certificate {thumbprint} yet. Manual step (XProtect assigns "
              "certificates only through its Server Configurator):"),
             (f"  1. Sign in to {host} as an administrator and open 'Server Configurator' (Start menu, or the "
              "Management Server tray icon > Server Configurator)."),
             "  2. Open 'Encryption'."]
    n = 3
    for item in mismatched:
        lines.append(f"  {n}. Under '{item['section']}' switch encryption on and pick the certificate with thumbprint "
                     f"{thumbprint} (imported by vms-deploy into Local Computer > Personal); it serves "
                     f"{item['component']} on port {item['port']} (now: {item.get('served') or 'nothing'}).")
        n += 1
    if configurator and mismatched:
        lines.append("     Or, as a Milestone administrator in PowerShell on the host: "
                     + "; then ".join(configurator_commands(configurator, thumbprint, mismatched[0]["section"])))
    lines.append(f"  {n}. Click 'Apply', wait for the services to restart, then rerun: "
                 "ansible-playbook playbooks/site.yml --tags certificates --limit " + host)
    return "\n".join(lines)


# --- XProtect encryption through Server Configurator (issue 14, item 9) ------------------------------
# Server Configurator (2020 R3 and later) encrypts per certificate group. Which groups a host takes part
# in follows from its components: the Management and Recording Servers talk to each other ("server"),
# Recording Servers stream to clients ("streaming media"), the Mobile Server and the Event Server have a
# group of their own. The group NAMES are matched in the output of /listcertificategroups, which gives
# each group's GUID; they are inputs (vms_win_xprotect_certificate_groups) because the source
# documents do not list them.
ENCRYPTION_GROUPS = {
    "xprotect_management_server": ["server"],
    "xprotect_recording_server": ["server", "streaming_media"],
    "xprotect_mobile_server": ["mobile_server"],
    "xprotect_event_server": ["event_server"],
}
DEFAULT_GROUP_NAMES = {
    "server": "Server certificate",
    "streaming_media": "Streaming media certificate",
    "mobile_server": "Mobile streaming media certificate",
    "event_server": "Event server certificate",
}
# Server Configurator exit codes (vendor material quoted in issue 14).
CONFIGURATOR_EXIT_CODES = {0: "ok", -1: "unknown error", -2: "invalid arguments", -3: "invalid argument value",
                           -4: "another instance is running"}


def _configurator_components(plan: dict, host: str) -> list[str]:
    """The host's installable components when its product assigns certificates with Server Configurator."""
    from vms_deploy.render.windows_install import windows_components
    if plan_traits(plan).get("certificate_binding") != "server_configurator":
        return []
    return windows_components(plan, host)[0]


def encryption_groups(plan: dict, host: str, names: dict | None = None) -> list[dict]:
    """The certificate groups this XProtect host encrypts: [{key, name}], sorted by key."""
    names = {**DEFAULT_GROUP_NAMES, **(names or {})}
    keys = sorted({g for c in _configurator_components(plan, host) for g in ENCRYPTION_GROUPS.get(c, [])})
    for key in keys:
        if not str(names.get(key) or "").strip():
            raise WindowsInputError(host, f"vms_win_xprotect_certificate_groups.{key}", names.get(key),
                                    "is empty", "set it to the group's name as Server Configurator "
                                    "/listcertificategroups prints it")
    return [{"key": k, "name": str(names[k])} for k in keys]


def needs_site_ca(plan: dict, host: str) -> bool:
    """Every Windows host of a Server Configurator product (XProtect) trusts the site CA
    (LocalMachine\\Root), so recorders trust the management server once encryption is on."""
    entry = plan.get("hosts", {}).get(host, {})
    return plan_traits(plan).get("certificate_binding") == "server_configurator" and entry.get("platform") == "windows"


def encryption_parameters(plan: dict, host: str, thumbprint: str, configurator: str, service_account: str,
                          names: dict | None = None) -> dict:
    """win_powershell parameters of Set-VmsXProtectEncryption.ps1 for this host."""
    if not str(configurator or "").strip():
        raise WindowsInputError(host, "vms_win_xprotect_server_configurator", configurator, "is empty",
                                "set the path of ServerConfigurator.exe on the host")
    if not str(service_account or "").strip():
        raise WindowsInputError(host, "vms_win_xprotect_service_account", service_account, "is empty",
                                "set the account XProtect's services run as, e.g. S-1-5-20 (NETWORK SERVICE)")
    return {"Configurator": str(configurator), "Thumbprint": str(thumbprint).replace(" ", "").upper(),
            "Groups": [g["name"] for g in encryption_groups(plan, host, names)],
            "ServiceAccount": str(service_account)}


def encryption_user_problem(host: str, user, via_double_hop: bool = False) -> str | None:
    """Server Configurator must run as a Windows user with Milestone administrator rights: not SYSTEM
    (no XProtect role), and with its own logon on the host (become runas), not a delegated network logon."""
    text = str(user or "").strip()
    if not text:
        return (f"host {host}: vms_win_xprotect_admin_user is not set. Fix: set it (and "
                "vms_win_xprotect_admin_password, vaulted) to a Windows user with Milestone administrator rights; "
                "Server Configurator runs as that user")
    if text.lower() in ("system", "nt authority\\system", "localsystem", ".\\system"):
        return (f"host {host}: vms_win_xprotect_admin_user={text!r} is SYSTEM, which has no Milestone role. Fix: use a "
                "Windows user with Milestone administrator rights")
    if via_double_hop:
        return (f"host {host}: Server Configurator would run over a double hop. Fix: give "
                "vms_win_xprotect_admin_password so become (runas) logs the user on locally")
    return None


def cert_mismatches(targets: list[dict], served: dict | None, thumbprint: str) -> list[dict]:
    """Targets whose port does not serve the thumbprint, each with what it serves (None = nothing)."""
    want = str(thumbprint).replace(" ", "").upper()
    out = []
    for target in targets or []:
        got = (served or {}).get(str(target["port"]))
        if str(got or "").upper() != want:
            out.append(dict(target, served=got))
    return out


def pem_thumbprint(host: str, pem: str) -> str:
    """SHA-1 thumbprint of the first certificate in a PEM text (the site CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    try:
        cert = x509.load_pem_x509_certificate(str(pem).encode())
    except ValueError as exc:
        raise WindowsInputError(host, "vms_tls_trust_file", "(file)", f"is not a PEM certificate ({exc})",
                                "with vms_tls_mode: provided, point vms_tls_trust_file at the root CA (PEM) that "
                                "signed your certificate; with auto, run the certificates stage (its ca.crt)") from None
    return hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()


# --- Valerus: binding and http.sys certificate swapped together (issue 14, item 2) -------------------
# Removing an https binding in IIS leaves http.sys' "0.0.0.0:<port>" certificate entry behind, and
# microsoft.iis.website then fails adding the new binding (0x800700B7, "already exists"), after the old
# binding is gone; its edit path also calls AddSslCertificate in check mode. Set-VmsIisHttpsBinding.ps1
# does the swap in one run, rolls back on error and only predicts in check mode. This is its decision
# (PS: Get-VmsBindingSwap).

def http_sys_key(ip: str, port: int) -> str:
    """http.sys' key of an IP-based https binding: "*" is 0.0.0.0."""
    return f"{'0.0.0.0' if ip in ('*', '', '0.0.0.0') else ip}:{int(port)}"


def binding_swap_plan(bindings: list[dict], sslcerts: dict, thumbprint: str, port: int,
                      ip: str = "*", hostname: str = "") -> dict:
    """What the script does: {action: none|add|replace, remove_bindings: [[ip, port, hostname]],
    delete_sslcert: [ipport], add_binding: {...} | None}.

    ``sslcerts`` maps http.sys ipport ("0.0.0.0:3001") -> thumbprint. A stale entry on the target
    ipport is deleted before the binding is added, whether or not IIS still shows a binding for it.
    """
    want = thumbprint.replace(" ", "").upper()
    base = valerus_binding_plan(bindings, want, VALERUS_SITE, port, ip, hostname)
    key = http_sys_key(ip, port)
    current = str((sslcerts or {}).get(key) or "").upper()
    stale_cert = bool(current) and current != want
    remove = [[b["ip"], b["port"], b["hostname"] or ""] for b in
              ((base["remove_params"] or {}).get("bindings") or {}).get("remove", [])]
    if base["action"] == "none" and not stale_cert and current == want:
        return {"action": "none", "remove_bindings": [], "delete_sslcert": [], "add_binding": None}
    if base["action"] == "none" and not current:
        # IIS lists the binding but http.sys lost its certificate: bind it again
        remove = [[_key({"ip": ip})[0], int(port), hostname]]
    add = {"ip": _key({"ip": ip})[0], "port": int(port), "hostname": hostname, "protocol": "https",
           "certificate_hash": want, "certificate_store_name": "My"}
    return {"action": "replace" if (remove or stale_cert) else "add", "remove_bindings": remove,
            "delete_sslcert": [key] if current else [], "add_binding": add}


def binding_parameters(site: str, port: int, thumbprint: str) -> dict:
    """win_powershell parameters of Set-VmsIisHttpsBinding.ps1."""
    return {"SiteName": site, "Port": int(port), "Thumbprint": thumbprint.replace(" ", "").upper(),
            "IPAddress": "*", "HostName": ""}


_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def parse_certificate_groups(lines) -> dict[str, str]:
    """Server Configurator /listcertificategroups output -> {name: guid}. PS: ConvertFrom-VmsGroupList.

    The output format is not documented in the sources, so any line carrying one GUID counts, and the
    rest of the line (brackets and separators removed) is the group's name."""
    import re
    out = {}
    for line in lines or []:
        m = re.search(_GUID, str(line))
        if not m:
            continue
        name = re.sub(r"\s+", " ", re.sub(r"[{}():=|\t]", " ", str(line).replace(m.group(0), ""))).strip()
        if name:
            out[name] = m.group(0).lower()
    return out


def match_certificate_group(listed: dict, name: str) -> str | None:
    """The listed group a configured name means: the exact name (any case), else the one listed name
    that contains it; None when there is none or more than one. PS: Find-VmsCertificateGroup."""
    exact = [n for n in listed if n.lower() == str(name).lower()]
    if exact:
        return exact[0]
    hits = [n for n in listed if str(name).lower() in n.lower()]
    return hits[0] if len(hits) == 1 else None
