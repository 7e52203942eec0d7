"""Provided certificates and the hosts that must be named in them (issue 20 item 4): plan warnings.

XProtect encrypts server to server (Server Configurator's "server" group: the Management Server and the
Recording Servers check each other's certificate against the host name they connect to; the Event Server
likewise). With vms_tls_mode: provided the site's certificate is bound on each such host, so a certificate
that names only the public name works for the Mobile Server and breaks the servers' connections once
encryption is on. The certificates stage checks the public names; this is the check of the servers' own
names, as a warning (the certificate is the customer's; an FQDN registered in XProtect may differ).
"""
from __future__ import annotations

from pathlib import Path

from .model import Site
from .plan_warnings import HOST, warning

# Server Configurator groups whose peers reach the host by its own name (render.windows_certificates).
OWN_NAME_GROUPS = ("server", "event_server")


def _needs_own_name(plan: dict, host: str) -> bool:
    from .render.windows_certificates import encryption_groups

    if plan["hosts"].get(host, {}).get("platform") != "windows":
        return False
    try:
        return any(g["key"] in OWN_NAME_GROUPS for g in encryption_groups(plan, host))
    except Exception:  # noqa: BLE001 - a bad group name is the Windows stage's error, not this warning's
        return False


def _certificate(site: Site, host: str, base_dir: str | None):
    """The host's provided PEM certificate, or None when it cannot be read here (PFX, vaulted, missing: the
    validator or the certificates stage reports those)."""
    from . import certs

    path = site.var(host, "vms_tls_cert_file", None)
    if not isinstance(path, str) or not path:
        return None
    file = Path(certs.resolve_path(path, base_dir))
    try:
        data = file.read_bytes()
        found = certs.load_certificates(data) if not data.startswith(certs.VAULT_HEADER) else []
    except (OSError, ValueError):
        return None
    return found[0] if found else None


def _named(cert, host: str, address) -> bool:
    from . import certs

    dns, _ips = certs.certificate_names(cert)
    if not certs.uncovered_names(cert, [host]):
        return True
    if isinstance(address, str) and address and not certs.uncovered_names(cert, [address]):
        return True
    return any(name.split(".", 1)[0].lower() == host.lower() for name in dns)  # the host's FQDN


def server_name_warnings(site: Site, plan: dict, inventory_dirs: dict | None = None) -> list[dict]:
    """A host warning for each XProtect server whose provided certificate does not name it."""
    out = []
    for host in sorted(plan.get("hosts", {})):
        if site.var(host, "vms_tls_mode", None) != "provided" or not _needs_own_name(plan, host):
            continue
        cert = _certificate(site, host, (inventory_dirs or {}).get(host))
        if cert is None or _named(cert, host, site.var(host, "vms_address", None)):
            continue
        out.append(warning(
            HOST, f"host {host}: the provided certificate (vms_tls_cert_file) does not name {host}, which XProtect's "
                  "server-to-server encryption needs (the servers check each other's certificate against the host "
                  "name they connect to)",
            f"give {host} a certificate whose subject alternative names include its host name (vms_tls_cert_file and "
            f"vms_tls_key_file in host_vars/{host}.yml), add the name to the site certificate, or use "
            "vms_tls_mode: auto (a certificate per host from the site CA)"))
    return out
