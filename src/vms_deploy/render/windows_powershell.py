"""PowerShell text rendered by the Windows path: quoting, and the commands shown to an operator.

Values reach the scripts as win_powershell ``parameters`` (data, never code). Where text meant to be
pasted into PowerShell is rendered (the fix in an audit finding, the manual Server Configurator step),
every value goes through ``ps_literal``: a single-quoted (verbatim) string, in which PowerShell expands
nothing ($, backticks, semicolons and newlines are plain characters) and a quote is written twice.
PowerShell also takes the typographic single quotes U+2018..U+201B as quote characters, so they are
doubled too.
"""
from __future__ import annotations

SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def ps_literal(value) -> str:
    """'text' with every single-quote character doubled: one PowerShell string literal."""
    text = str(value)
    for quote in SINGLE_QUOTES:
        text = text.replace(quote, quote * 2)
    return f"'{text}'"


def disable_rule_command(name: str) -> str:
    """The command that switches one firewall rule off by its (host-chosen, untrusted) name."""
    return f"Disable-NetFirewallRule -Name {ps_literal(name)}"


def configurator_commands(configurator: str, thumbprint: str, group: str) -> list[str]:
    """Server Configurator command lines for one certificate group (the GUID comes from the first)."""
    exe = ps_literal(configurator)
    enable = (f"& {exe} /quiet /enableencryption {ps_literal('/thumbprint=' + thumbprint)} "
              f"{ps_literal('/certificategroup=<GUID of ' + group + ' from the list>')}")
    return [f"& {exe} /listcertificategroups", enable]
