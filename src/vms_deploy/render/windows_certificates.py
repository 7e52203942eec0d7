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

from vms_deploy.render.windows_firewall import WindowsInputError

VALERUS_SITE = "Valerus Web Proxy"
VALERUS_PORT = 3001
# Component -> (default https port, Server Configurator section that assigns its certificate).
XPROTECT_CERT_TARGETS = {
    "xprotect_management_server": (443, "Server certificate"),
    "xprotect_mobile_server": (8082, "Streaming media certificate"),
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
    return hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()  # noqa: S324 - Windows' thumbprint is SHA-1


def valerus_web_proxy_port(plan: dict, host: str) -> int | None:
    """The New Web Player https port this host serves (service web_player_https), or None.

    The "Valerus Web Proxy" IIS site serves the New Web Player; a host binds a certificate to it only
    when the plan opens that port on it (vms_web_player: false removes it). Port overrides apply.
    """
    for item in plan["hosts"][host].get("inbound", []):
        if item.get("service") == "web_player_https":
            return int(item["ports"][0])
    return None


def needs_certificate(plan: dict, host: str) -> bool:
    """Whether the host terminates TLS with the site certificate (issue 4, Windows): a Valerus host
    serving the New Web Player https port, or an XProtect Management / Mobile Server."""
    if plan.get("product") == "valerus":
        return valerus_web_proxy_port(plan, host) is not None
    if plan.get("product") == "xprotect":
        from vms_deploy.render.windows_install import windows_components
        return any(c in XPROTECT_CERT_TARGETS for c in windows_components(plan, host)[0])
    return False


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


def xprotect_manual_step(host: str, thumbprint: str, mismatched: list[dict]) -> str:
    """The exact manual step when XProtect does not serve the wanted certificate yet."""
    lines = [f"host {host}: XProtect does not serve certificate {thumbprint} yet. Manual step (XProtect assigns "
             "certificates only through its Server Configurator):",
             f"  1. Sign in to {host} as an administrator and open 'Server Configurator' (Start menu, or the "
             "Management Server tray icon > Server Configurator).",
             "  2. Open 'Encryption'."]
    n = 3
    for item in mismatched:
        lines.append(f"  {n}. Under '{item['section']}' switch encryption on and pick the certificate with thumbprint "
                     f"{thumbprint} (imported by vms-deploy into Local Computer > Personal); it serves "
                     f"{item['component']} on port {item['port']} (now: {item.get('served') or 'nothing'}).")
        n += 1
    lines.append(f"  {n}. Click 'Apply', wait for the services to restart, then rerun: "
                 "ansible-playbook playbooks/site.yml --tags certificates --limit " + host)
    return "\n".join(lines)
