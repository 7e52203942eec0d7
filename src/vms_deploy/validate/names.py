"""Names that reach files and configuration: host names, DNS names, TLS names."""
from __future__ import annotations

from .. import checks
from ..model import parse_ipv4
from .context import Context

SITE_NAME = checks.SAFE_NAME  # fullmatch: a trailing newline (YAML block scalar) is not part of a name


def check_host_names(ctx: Context) -> None:
    """A host name is a safe name: it becomes a file name, an nftables/PowerShell token and a report entry.

    From: docs/security.md, Hostile input class 4 (names are data)."""
    for host in ctx.site.hosts:
        problem = checks.safe_name_problem(host)
        if problem:
            ctx.err(host, "inventory_hostname", host, problem,
                    f"rename the host in the inventory: {checks.SAFE_NAME_RULE} (e.g. rec-01)")


# Names Ansible gives a meaning of their own: `localhost` is the controller (an implicit host Ansible runs
# locally), so a site host by that name would plan and apply the site's firewall on the controller.
CONTROLLER_NAMES = frozenset(("localhost", "localhost.localdomain", "127.0.0.1", "::1"))


def check_host_name_meaning(ctx: Context) -> None:
    """A site host is not named like the controller (localhost) and no two host names differ only by case: Ansible
    keeps both, but DNS, Windows and file systems that ignore case (the plan's per-host files, a report) see one.

    From: docs/security.md, Hostile input class 4 (names are data); issue 23, class 4."""
    by_folded: dict[str, list[str]] = {}
    for host in ctx.site.hosts:
        if ctx.reported(host, "inventory_hostname"):
            continue
        if host.lower() in CONTROLLER_NAMES:
            ctx.err(host, "inventory_hostname", host,
                    "is the controller's own name in Ansible (it runs there, locally)",
                    "name the host as the site knows it (e.g. nvr-01) and give its address in ansible_host")
        by_folded.setdefault(host.lower(), []).append(host)
    for names in by_folded.values():
        if len(names) > 1:
            for host in names:
                ctx.err(host, "inventory_hostname", host, f"differs from {', '.join(n for n in names if n != host)} "
                        "only by case", "give each host a name of its own (names that ignore case are one host "
                        "to DNS and Windows)")


def check_public_name(ctx: Context) -> None:
    """vms_public_name is a DNS name: it reaches the nginx configuration and the certificates.

    From: docs/security.md, Hostile input class 1 and 4 (names that reach nginx)."""
    for host in ctx.site.hosts:
        name = ctx.site.var(host, "vms_public_name", None)
        if name is not None and not ctx.reported(host, "vms_public_name"):
            problem = checks.dns_name_problem(name)
            if problem:
                ctx.err(host, "vms_public_name", name, problem,
                        "set vms_public_name to the DNS name clients use, e.g. vms.example.com")


def check_tls_names(ctx: Context) -> None:
    """Each vms_tls_names entry is a DNS name (a leading '*.' allowed) or an IPv4 address: each becomes a
    certificate's subject alternative name.

    From: seed 000 (the SSL certificate bound on the Valerus Web Proxy site); docs/security.md, class 4."""
    for host in ctx.site.hosts:
        for item in ctx.site.var(host, "vms_tls_names", None) or []:
            if ctx.reported(host, "vms_tls_names"):
                break
            try:
                parse_ipv4(item)
                continue
            except ValueError:
                pass
            problem = checks.dns_name_problem(item, wildcard=True)
            if problem:
                ctx.err(host, "vms_tls_names", item, problem + " or IPv4 address",
                        "list DNS names (e.g. vms.example.com) or IPv4 addresses in vms_tls_names")
