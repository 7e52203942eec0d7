"""The audit's checks: each a small function of one device's facts, its rule and seed sentence beside it.

A check returns findings (dicts: check, severity, text, seed). Severity "finding" fails the audit (exit 1);
"note" is shown and does not. Facts are what vms_deploy.cameras.audit read from the device (see there).
"""
from __future__ import annotations

import re

FINDING, NOTE = "finding", "note"

SEED_AUTH = 'seed 001: "use secure device authentication"'
SEED_ALLOWLIST = 'seed 001: "use device whitelisting to authenticate devices"'
SEED_PASSWORDS = ('seed 002: "strong, unique passwords for your NVR and all connected cameras"; '
                  '"avoid default passwords"')
SEED_FIRMWARE = 'seed 002: "keep firmware updated"'
SEED_SUBNET = 'seed 001: "connect the camera subnet to the recording server subnet only"'
SEED_CLOCK = ("ONVIF Core Specification 5.12 (WS-Security UsernameToken: the device and the client clocks must "
              "agree) and seed 001's secure device authentication")
SEED_STREAMING = 'seed 001: "use secure device authentication" (credentials and video not in clear text)'

# Factory defaults that ship on common IP cameras (vendor manuals). A few, tried in this order, spaced.
FACTORY_DEFAULTS = (("admin", "admin"), ("admin", "12345"), ("root", "pass"), ("admin", ""), ("admin", "1234"))
MAX_DEFAULT_TRIES = 5


def _f(check: str, severity: str, text: str, seed: str) -> dict:
    return {"check": check, "severity": severity, "text": text, "seed": seed}


def version_key(text: str) -> tuple[int, ...]:
    """'V5.7.3 build 220112' -> (5, 7, 3, 220112): the numbers of a firmware string, compared in order."""
    return tuple(int(n) for n in re.findall(r"\d+", str(text))[:8])


def minimum_for(info: dict, minimums: dict) -> str | None:
    """The minimum firmware the user's table gives this model ("Model" or "Manufacturer Model", any case)."""
    model = str(info.get("Model") or "").strip().lower()
    maker = str(info.get("Manufacturer") or "").strip().lower()
    table = {str(k).strip().lower(): str(v) for k, v in (minimums or {}).items()}
    return table.get(f"{maker} {model}") or table.get(model)


def check_firmware(facts: dict, request: dict) -> list[dict]:
    """The firmware (GetDeviceInformation) is at least the minimum the user's table gives for the model.

    From: seed 002, "keep firmware updated"."""
    info = facts.get("info") or {}
    wanted = minimum_for(info, request.get("firmware_minimums") or {})
    have = str(info.get("FirmwareVersion") or "")
    if not wanted:
        return []
    if not have or not version_key(have):
        return [_f("firmware", FINDING, f"firmware unknown (table asks {wanted} for {info.get('Model')})",
                   SEED_FIRMWARE)]
    if version_key(have) < version_key(wanted):
        return [_f("firmware", FINDING, f"firmware {have} is older than the minimum {wanted} for "
                   f"{info.get('Model')}", SEED_FIRMWARE)]
    return []


def check_authentication_required(facts: dict, request: dict) -> list[dict]:
    """A request without credentials (GetDeviceInformation, which ONVIF does not allow before authentication)
    is refused.

    From: seed 001, "use secure device authentication"."""
    if facts.get("unauthenticated") == "answered":
        return [_f("authentication", FINDING, "answers ONVIF requests without credentials (GetDeviceInformation)",
                   SEED_AUTH)]
    return []


def check_login(facts: dict, request: dict) -> list[dict]:
    """The recorders' camera account (vms_camera_username / vms_camera_password) logs in.

    From: seed 002, "strong, unique passwords for your NVR and all connected cameras" (the account the
    inventory holds is the one in use)."""
    if facts.get("login") == "refused":
        return [_f("login", FINDING, "refuses the recorders' camera account from the inventory", SEED_PASSWORDS)]
    return []


def check_default_credentials(facts: dict, request: dict) -> list[dict]:
    """No factory-default account (a bounded list, a few spaced tries, only when asked) logs in.

    From: seed 002, "avoid default passwords"."""
    hits = facts.get("default_logins") or []
    if hits:
        return [_f("default_credentials", FINDING, f"accepts the factory-default account {hits[0]!r}",
                   SEED_PASSWORDS)]
    return []


def check_clock(facts: dict, request: dict) -> list[dict]:
    """The device clock (GetSystemDateAndTime, UTC) is within vms_camera_clock_tolerance seconds of the
    auditing host's.

    From: ONVIF Core Specification 5.12 (UsernameToken timestamps) and seed 001, secure device
    authentication; recordings need a right clock as evidence."""
    offset = facts.get("clock_offset")
    tolerance = int(request.get("clock_tolerance") or 30)
    if offset is None:
        if facts.get("reached"):
            return [_f("clock", NOTE, "did not tell its UTC time (GetSystemDateAndTime)", SEED_CLOCK)]
        return []
    if abs(offset) > tolerance:
        return [_f("clock", FINDING, f"clock is {offset:+.0f} s off (tolerance {tolerance} s)", SEED_CLOCK)]
    return []


def _secure_alternative(facts: dict) -> str | None:
    for proto in facts.get("protocols") or []:
        if str(proto.get("name", "")).upper() == "HTTPS" and proto.get("enabled"):
            return "HTTPS is enabled (GetNetworkProtocols)"
    for url in facts.get("xaddrs") or []:
        if str(url).lower().startswith("https://"):
            return f"an HTTPS endpoint is offered ({url})"
    for uri in facts.get("stream_uris") or []:
        if str(uri).lower().startswith(("rtsps://", "https://")):
            return f"a secure stream is offered ({uri})"
    return None


def check_streaming(facts: dict, request: dict) -> list[dict]:
    """Streams only over plain RTSP/HTTP while the device offers a secure alternative (HTTPS, RTSPS) are
    flagged; without an alternative it is a note (keep the device on the camera network).

    From: seed 001, secure device authentication, and "connect the camera subnet to the recording server
    subnet only"."""
    uris = [str(u) for u in facts.get("stream_uris") or []]
    plain = [u for u in uris if u.lower().startswith(("rtsp://", "http://"))]
    if not uris or len(plain) < len(uris):
        return []
    alternative = _secure_alternative(facts)
    if alternative:
        return [_f("streaming", FINDING, f"streams only in clear ({plain[0]}) although {alternative}",
                   SEED_STREAMING)]
    return [_f("streaming", NOTE, f"streams only in clear ({plain[0]}); the device offers no secure "
               "alternative: keep it on the camera network", SEED_SUBNET)]


# The per-device checks, in report order.
DEVICE_CHECKS = (check_authentication_required, check_login, check_default_credentials, check_firmware,
                 check_clock, check_streaming)


def device_findings(facts: dict, request: dict) -> list[dict]:
    out: list[dict] = []
    for check in DEVICE_CHECKS:
        out.extend(check(facts, request))
    return out
