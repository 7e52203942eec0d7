"""The install switch (vms_install): install the VMS, or skip the install on a site where it is already there."""
from __future__ import annotations

from .context import Context
from .spec import did_you_mean

INSTALL_MODES = ("install", "skip")
# YAML 1.1 reads an unquoted no/off/false (and yes/on/true) as a boolean: what the user meant.
_BOOLEAN_MEANS = {False: "skip", True: "install"}


def check_install_mode(ctx: Context) -> None:
    """vms_install is install (site.yml installs the VMS) or skip (already installed; every other stage runs).

    From: docs/runbooks/brownfield.md (the VMS is already installed: the integrator's usual case)."""
    for host in ctx.site.hosts:
        value = ctx.site.var(host, "vms_install", None)
        if value is None or ctx.reported(host, "vms_install") or value in INSTALL_MODES:
            continue
        if isinstance(value, bool):
            meant = _BOOLEAN_MEANS[value]
            why = "the VMS is already installed" if meant == "skip" else "site.yml installs the VMS"
            ctx.err(host, "vms_install", value, "is a boolean, not install or skip",
                    f"write vms_install: {meant} ({why})")
            continue
        text = value if isinstance(value, str) else ""
        hint = did_you_mean(text, INSTALL_MODES) if text else ""
        if text.lower() in ("no", "off", "false", "none", "skipped"):
            hint = " (did you mean skip?)"
        ctx.err(host, "vms_install", value, f"is not one of install, skip{hint}",
                "set vms_install to skip (the VMS is already installed) or install (the default)")
