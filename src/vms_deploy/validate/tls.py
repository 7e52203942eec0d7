"""TLS inputs, checked here so plan.yml and the first stage of site.yml refuse them before any host is
touched; the certificates stage runs the same certs.check again."""
from __future__ import annotations

from .context import Context
from .spec import did_you_mean, example, inventory_spec

TLS_MODES = ("auto", "provided")


def _mode_known(ctx: Context, host: str) -> bool:
    mode = ctx.site.var(host, "vms_tls_mode", None)
    return mode is None or mode in TLS_MODES


def check_tls_mode(ctx: Context) -> None:
    """vms_tls_mode is auto (a site CA made by vms-deploy) or provided (the site's own certificate files).

    From: docs/security.md, "Defaults" (TLS on by default, vms_tls_mode: auto) and Hostile input class 1."""
    for host in ctx.site.hosts:
        mode = ctx.site.var(host, "vms_tls_mode", None)
        if mode is not None and not ctx.reported(host, "vms_tls_mode") and mode not in TLS_MODES:
            ctx.err(host, "vms_tls_mode", mode,
                    f"is not one of {', '.join(TLS_MODES)}{did_you_mean(str(mode), TLS_MODES)}",
                    "set vms_tls_mode to auto (a site CA made by vms-deploy) or provided (your certificate files)")


def check_tls_days(ctx: Context) -> None:
    """Certificate and CA lifetimes are at least one day, the expiry warning at least zero days (checked for a
    host whose vms_tls_mode is known).

    From: docs/security.md, Hostile input class 1 (validity of 0 days)."""
    for host in ctx.site.hosts:
        if not _mode_known(ctx, host):
            continue
        for name, least in (("vms_tls_validity_days", 1), ("vms_tls_ca_validity_days", 1),
                            ("vms_tls_expiry_warning_days", 0)):
            days = ctx.site.var(host, name, None)
            if days is not None and not ctx.reported(host, name) and days < least:
                ctx.err(host, name, days, f"is less than {least}", f"set {name} to a number of days, e.g. "
                        f"{example(name, inventory_spec().get(name, {})).split(': ', 1)[-1]}")


def check_tls_files(ctx: Context) -> None:
    """With vms_tls_mode: provided, the gateway's and application server's certificate, key and chain files
    exist, are what they claim, match and have not expired (certs.inventory_issues, the certificates
    stage's own certs.check).

    From: seed 000 (the SSL certificate bound on the Valerus Web Proxy site, https port 3001);
    docs/security.md, Hostile input class 1."""
    for host in ctx.site.hosts:
        if ctx.site.var(host, "vms_tls_mode", None) != "provided" or \
                not set(ctx.site.host_groups(host)) & {"vms_gateways", "vms_app_servers"}:
            continue
        from .. import certs  # cryptography: loaded only for a site that provides its certificates

        for issue in certs.inventory_issues(ctx.site.hosts[host], ctx.data.get("inventory_dirs", {}).get(host)):
            ctx.err(host, issue.variable, issue.value, issue.problem, issue.fix)
