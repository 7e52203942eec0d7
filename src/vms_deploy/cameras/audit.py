"""The camera audit, run on the auditing host (a recorder or a vms_vantages host): discovery, the device
allow-list, then the ONVIF checks of every device. Read-only: only WS-Discovery probes and ONVIF Get requests.

`run(request) -> result`. The request comes from vms_deploy.cameras.inventory.audit_request (the
controller); the result is plain data (no secret in it) for vms_deploy.cameras.report.

Bounds: discovery has its Budget; each device has `device_seconds` in all (its reads run in a worker
thread that is abandoned when the time is up, so a device that trickles its answer cannot hold the run);
default credentials are tried only when asked, at most MAX_DEFAULT_TRIES pairs, `default_spacing` seconds
apart, and stop at the first that logs in.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from concurrent.futures import Future
from urllib.parse import urlsplit

from . import checks
from .device import NoAnswer, Refused, Session, clock_offset
from .discovery import Budget, sweep

DEVICE_SECONDS = 20.0
REQUEST_SECONDS = 3.0
DEFAULT_SPACING = 2.0
MAX_WORKERS = 8


def read_device(session: Session, request: dict, username: str, *, spacing: float = DEFAULT_SPACING,
                tries: int = 3) -> dict:
    """Everything the checks need from one device, each read once."""
    facts: dict = {"reached": False, "login": "no credentials"}
    password = request.get("password") or ""
    try:
        session.call("get_device_information")
        facts["unauthenticated"] = "answered"
        facts["reached"] = True
    except Refused:
        facts["unauthenticated"] = "refused"
        facts["reached"] = True
    except NoAnswer as exc:
        facts["unauthenticated"] = "no answer"
        facts["error"] = str(exc)
        return facts
    login = (username, password) if username else ("", "")
    if username:
        try:
            facts["info"] = session.call("get_device_information", username, password)
            facts["login"] = "ok"
        except Refused:
            facts["login"] = "refused"
            login = ("", "")
        except NoAnswer as exc:
            facts["login"] = "no answer"
            facts["error"] = str(exc)
    if "info" not in facts and facts["unauthenticated"] == "answered":
        facts["info"] = session.call("get_device_information")
    for key, what in (("clock", "get_system_date_time"), ("protocols", "get_network_protocols"),
                      ("stream_uris", "get_stream_uris")):
        try:
            facts[key] = _read(session, what, login)
        except (NoAnswer, Refused) as exc:
            facts.setdefault("unread", []).append(f"{what}: {exc}"[:200])
    facts["clock_offset"] = clock_offset(facts.get("clock") or {})
    facts["stream_uris"] = [_without_userinfo(u) for u in facts.get("stream_uris") or []]
    if request.get("try_default_credentials") and facts["unauthenticated"] == "refused":
        facts["default_logins"], facts["default_tries"] = _try_defaults(session, spacing, tries)
    return facts


def _read(session: Session, what: str, login: tuple[str, str]):
    """With the inventory's account when it logged in; the clock unauthenticated first (GetSystemDateAndTime
    is a pre-authentication operation in ONVIF, and a device whose clock is off refuses digests)."""
    if login[0] and what != "get_system_date_time":
        return session.call(what, *login)
    try:
        return session.call(what)
    except Refused:
        if not login[0]:
            raise
        return session.call(what, *login)


def _without_userinfo(uri: str) -> str:
    """A stream URI without any user:password@ a device put in it (the report holds no secret)."""
    parts = urlsplit(str(uri))
    if parts.username is None and parts.password is None:
        return str(uri)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _try_defaults(session: Session, spacing: float, tries: int) -> tuple[list[str], int]:
    """A few factory-default accounts, spaced, stopping at the first that logs in. Never a brute force."""
    hits: list[str] = []
    count = 0
    for username, password in checks.FACTORY_DEFAULTS[:max(0, min(tries, checks.MAX_DEFAULT_TRIES))]:
        if count:
            time.sleep(spacing)
        count += 1
        try:
            session.call("get_device_information", username, password)
        except (Refused, NoAnswer):
            continue
        hits.append(username)
        break
    return hits, count


def _bounded(fn, seconds: float):
    """fn() in a daemon thread; its result, or TimeoutError when it has not finished in `seconds`."""
    future: Future = Future()

    def work():
        try:
            future.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            future.set_exception(exc)

    threading.Thread(target=work, daemon=True).start()
    return future.result(timeout=seconds)


def _device_url(address: str, port: int, found: dict | None) -> str:
    """The ONVIF device service the device named for itself, when it is on its own address; else the default."""
    for url in (found or {}).get("xaddrs") or []:
        parts = urlsplit(str(url))
        if parts.scheme in ("http", "https") and parts.hostname == address:
            return str(url)
    return f"http://{address}:{port}/onvif/device_service"


def audit_one(address: str, port: int, username: str, found: dict | None, request: dict) -> dict:
    session = Session(address, port, _device_url(address, port, found),
                      timeout=float(request.get("request_seconds") or REQUEST_SECONDS))
    seconds = float(request.get("device_seconds") or DEVICE_SECONDS)
    try:
        facts = _bounded(lambda: read_device(session, request, username,
                                             spacing=float(request.get("default_spacing", DEFAULT_SPACING)),
                                             tries=int(request.get("default_tries", 3))), seconds)
    except TimeoutError:
        facts = {"reached": False, "unauthenticated": "no answer", "login": "no answer",
                 "error": f"no complete answer within {seconds:g} s"}
    except Exception as exc:  # noqa: BLE001 - one odd device must not end the audit of the others
        facts = {"reached": False, "unauthenticated": "no answer", "login": "no answer",
                 "error": f"{type(exc).__name__}: {exc}"[:300]}
    facts["xaddrs"] = list((found or {}).get("xaddrs") or [])
    facts["requests"] = session.requests
    facts["logins"] = session.logins
    return facts


def run(request: dict, *, port: int | None = None) -> dict:
    """The whole audit: discovery, allow-list, every device's checks. No secret is in the result."""
    started = time.time()
    budget = Budget(seconds=float(request.get("discovery_seconds", 5.0)),
                    max_probes=int(request.get("max_probes", 1024)))
    found = sweep(list(request.get("camera_networks") or []), budget,
                  **({"port": port} if port else {}))
    named = {c["address"]: c for c in request.get("cameras") or []}
    addresses = sorted(set(named) | set(found.devices), key=ipaddress.IPv4Address)
    threads: dict[str, dict] = {}
    lock = threading.Lock()

    def one(address: str) -> None:
        camera = named.get(address) or {}
        # A device the inventory does not name is never sent the recorders' account (it could be anyone's).
        username = (camera.get("username") or request.get("username") or "") if camera else ""
        facts = audit_one(address, int(camera.get("onvif_port") or 80), username,
                          found.devices.get(address), request)
        with lock:
            threads[address] = facts

    _in_parallel(one, addresses, MAX_WORKERS)
    devices = []
    for address in addresses:
        facts = threads.get(address) or {"reached": False}
        camera = named.get(address)
        findings = site_findings(address, camera, address in found.devices, facts)
        if facts.get("reached"):
            findings += checks.device_findings(facts, request)
        devices.append({"address": address, "name": (camera or {}).get("name", ""), "named": camera is not None,
                        "discovered": address in found.devices, "facts": _public(facts), "findings": findings})
    net_findings = [checks._f("discovery", checks.FINDING, f"camera network {net} was not swept: more addresses "
                              "than the probe budget (narrow vms_camera_networks or raise --max-probes)",
                              checks.SEED_ALLOWLIST) for net in found.not_swept]
    return {"started": started, "seconds": round(time.time() - started, 2),
            "discovery": {"probed": found.probed, "answered": len(found.devices), "ignored": found.ignored,
                          "not_swept": found.not_swept, "seconds": found.seconds},
            "devices": devices, "findings": net_findings,
            "default_credentials_tried": bool(request.get("try_default_credentials"))}


def site_findings(address: str, camera: dict | None, discovered: bool, facts: dict) -> list[dict]:
    """Device allow-listing: every device on a camera network is named in the inventory, and every named camera
    answers (WS-Discovery or ONVIF).

    From: seed 001, "use device whitelisting to authenticate devices"."""
    if camera is None:
        return [checks._f("allow_list", checks.FINDING, "is on a camera network but not in the inventory "
                          "(vms_cameras)", checks.SEED_ALLOWLIST)]
    if not discovered and not facts.get("reached"):
        return [checks._f("allow_list", checks.FINDING, "is named in the inventory but answered neither "
                          "WS-Discovery nor ONVIF", checks.SEED_ALLOWLIST)]
    if not discovered:
        return [checks._f("discovery", checks.NOTE, "answers ONVIF but not WS-Discovery", checks.SEED_ALLOWLIST)]
    return []


def _public(facts: dict) -> dict:
    keep = ("reached", "unauthenticated", "login", "info", "clock_offset", "protocols", "stream_uris", "xaddrs",
            "default_logins", "default_tries", "requests", "logins", "error", "unread")
    out = {k: facts[k] for k in keep if k in facts}
    if isinstance(out.get("clock_offset"), float):
        out["clock_offset"] = round(out["clock_offset"], 1)
    return out


def _in_parallel(fn, items: list, workers: int) -> None:
    pending = list(items)
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not pending:
                    return
                item = pending.pop(0)
            fn(item)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(min(workers, len(items)))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
