"""Render a Linux host's owned nftables table from the plan.

Shape (docs/lab.md explains the choices):
- chain input, policy drop: loopback, established/related, invalid drop, management,
  rate-limited ICMP echo, then one rule per (service, protocol, port range) whose sources are
  a named interval set, so the rule count grows with services and never with sources;
- chain output is not filtered: the host's own connections (to SQL, to cameras, to the
  Management Server) are dictated by the receiving side's firewall and by the edge; filtering
  them here would double the rules and break product updates without adding protection.
"""

from __future__ import annotations

from .nft_common import (
    TABLE_FAMILY,
    TABLE_NAME,
    SetNamer,
    check_host,
    header,
    input_chain,
    management_sources,
    render_set,
)


def render_host_ruleset(plan: dict, host: str) -> str:
    check_host(plan, host)
    namer = SetNamer("src", plan.get("zones"), plan.get("hosts"))
    mgmt = namer.register("mgmt_sources", management_sources(plan), "management networks")
    chain = input_chain(plan, host, namer, mgmt)
    lines = header("host", plan, host)
    lines.append(f"table {TABLE_FAMILY} {TABLE_NAME} {{")
    for name, cidrs, label in namer.sets:
        lines += render_set(name, cidrs, label)
    lines += chain
    lines += [
        "\tchain output {",
        "\t\ttype filter hook output priority filter; policy accept;",
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"
