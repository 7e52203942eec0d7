"""One ONVIF device, read through onveef (https://github.com/Akshat-Pandey16/onveef; docs/cameras.md says why).

Only Get operations are sent: GetSystemDateAndTime, GetDeviceInformation, GetServices/GetCapabilities,
GetNetworkProtocols, GetProfiles and GetStreamUri. Every request has a time-out and a response-size cap and
is never retried; `Session` counts the requests and the logins it sent, so the audit can state them.
This module is run on the auditing host and imports nothing of vms_deploy outside this package.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

MAX_RESPONSE_BYTES = 256 * 1024  # a GetProfiles answer is a few kB; a device sending more is not read further
MAX_PROFILES = 4  # stream URIs asked for at most this many media profiles
MUST_ANSWER = ("get_device_information", "get_system_date_time")


class Refused(Exception):
    """The device refused the request's credentials (HTTP 401 or a NotAuthorized fault)."""


class NoAnswer(Exception):
    """No usable answer: connection refused, time-out, not SOAP, oversized, or a fault."""


@dataclass
class Session:
    """Requests to one device: where, with which time-out, and how many were sent."""
    address: str
    port: int
    device_url: str = ""
    timeout: float = 3.0
    requests: int = 0
    logins: int = 0
    notes: list[str] = field(default_factory=list)

    def url(self) -> str:
        return self.device_url or f"http://{self.address}:{self.port}/onvif/device_service"

    def client(self, username: str = "", password: str = "", discover: bool = False):
        from onveef import OnvifClient

        # auto_discover off but for the media calls (which need the media service's address): each other
        # call is one request.
        return OnvifClient(self.url(), username=username, password=password, timeout_s=self.timeout,
                           retries=0, max_response_bytes=MAX_RESPONSE_BYTES, auto_discover=discover,
                           verify_tls=False, http_auth="auto")

    def call(self, what: str, username: str = "", password: str = "") -> Any:
        """One read operation (a method name of onveef's OnvifClient), unauthenticated when no username."""
        from onveef.exceptions import OnvifAuthError, OnvifError

        self.requests += 1
        if username:
            self.logins += 1
        try:
            with self.client(username, password, discover=what == "get_stream_uris") as cam:
                if what == "get_stream_uris":
                    return _stream_uris(cam)
                answer = getattr(cam, what)()
        except OnvifAuthError as exc:
            raise Refused(str(exc) or "not authorized") from None
        except OnvifError as exc:
            raise NoAnswer(f"{type(exc).__name__}: {exc}"[:300]) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # a malformed answer
            raise NoAnswer(f"{type(exc).__name__}: {exc}"[:300]) from None
        if what in MUST_ANSWER and not answer:  # onveef parses a non-SOAP body to {}: that is no answer
            raise NoAnswer(f"{what}: not an ONVIF answer")
        return answer


def _stream_uris(cam) -> list[str]:
    """The RTSP URI of the first MAX_PROFILES media profiles (never with credentials embedded)."""
    uris = []
    for profile in cam.get_profiles()[:MAX_PROFILES]:
        token = profile.get("token") if isinstance(profile, dict) else None
        if token:
            uris.append(str(cam.get_stream_uri(profile_token=token)))
    return uris


def clock_offset(answer: dict, now: float | None = None) -> float | None:
    """Device UTC clock minus ours, in seconds, from a parsed GetSystemDateAndTime; None without a UTC time."""
    utc = answer.get("UTCDateTime") if isinstance(answer, dict) else None
    if not isinstance(utc, dict):
        return None
    import calendar

    try:
        device = calendar.timegm((int(utc["year"]), int(utc["month"]), int(utc["day"]), int(utc["hour"]),
                                  int(utc["minute"]), int(utc["second"]), 0, 0, 0))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return device - (time.time() if now is None else now)
