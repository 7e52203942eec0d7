"""The one certificate switch and the one CA name (issue 20 item 4; phase FORM, before the name check).

`vms_tls_mode` is what every stage reads (roles/certificates, roles/audit, certs); the name the template once
wrote, `vms_tls_certificates`, was read by nothing, so a site that set it to provided got a new site CA
instead of its own certificate, silently. In provided mode the CA is given once: `vms_tls_trust_file`, the
root that signed the site's certificate (chain check, and LocalMachine\\Root on XProtect hosts); the Windows
role's old `vms_tls_ca_path` is refused rather than left to disagree with it.
"""
from __future__ import annotations

from .context import Context

# name nobody reads -> the name the code reads
RENAMED = {"vms_tls_certificates": "vms_tls_mode"}


def check_tls_switch_name(ctx: Context) -> None:
    """vms_tls_certificates is not read by any stage: the certificate switch is vms_tls_mode (auto or provided).

    From: docs/tls.md, "One switch: vms_tls_mode" (roles/certificates reads vms_tls_mode only)."""
    for host in ctx.site.hosts:
        for old, new in RENAMED.items():
            value = ctx.site.var(host, old, None)
            if old in ctx.site.hosts[host] and not ctx.reported(host, old):
                shown = value if isinstance(value, str) and value in ("auto", "provided") else "auto or provided"
                ctx.err(host, old, value, f"is read by no stage (did you mean {new}?)",
                        f"rename it: {new}: {shown} (docs/tls.md)")


def check_tls_ca_given_once(ctx: Context) -> None:
    """The site's CA is given once: vms_tls_trust_file in provided mode, made by the certificates stage in auto
    mode; vms_tls_ca_path (read by the Windows role before) is refused, so the CA the chain was checked
    against is the one XProtect hosts trust.

    From: docs/tls.md, "The CA, given once" (roles/certificates/tasks/provided.yml, certificates_site_ca_path)."""
    for host in ctx.site.hosts:
        if "vms_tls_ca_path" not in ctx.site.hosts[host] or ctx.reported(host, "vms_tls_ca_path"):
            continue
        value = ctx.site.var(host, "vms_tls_ca_path", None)
        if ctx.site.var(host, "vms_tls_mode", None) == "provided":
            fix = ("remove vms_tls_ca_path and give the root CA that signed your certificate once, as "
                   "vms_tls_trust_file (it checks the chain and is the CA XProtect hosts trust)")
        else:
            fix = ("remove vms_tls_ca_path: with vms_tls_mode: auto the certificates stage makes the site CA and "
                   "hands it to the Windows hosts; for your own certificate set vms_tls_mode: provided and "
                   "vms_tls_trust_file")
        ctx.err(host, "vms_tls_ca_path", value, "is not an inventory variable: the site's CA is given once", fix)
