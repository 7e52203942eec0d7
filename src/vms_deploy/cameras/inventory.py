"""Cameras in the inventory: the optional camera list, the recorders' camera credentials, the audit's knobs.

The inventory may name its cameras (vms_cameras, site-wide) or none: then the audit relies on discovery
alone and every device found is reported as not named. Credentials are the recorders' camera account
(vms_camera_username / vms_camera_password, the password in Ansible Vault); a camera entry holds no secret.
Validation of these variables is the rule module vms_deploy.validate.cameras.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Keys of one vms_cameras entry. No password: secrets live in vms_camera_password (Vault), never in a list.
CAMERA_KEYS = ("address", "name", "model", "username", "onvif_port")
DEFAULT_ONVIF_PORT = 80  # seed 002: "ONVIF (80 or custom)"; vms_camera_ports' "camera HTTP and ONVIF"
DEFAULT_CLOCK_TOLERANCE = 30  # seconds; recordings and WS-Security timestamps both need a clock this close
MAX_CLOCK_TOLERANCE = 3600
CAMERA_VARS = ("vms_cameras", "vms_camera_username", "vms_camera_password", "vms_camera_firmware_minimums",
               "vms_camera_clock_tolerance", "vms_camera_try_default_credentials")


@dataclass(frozen=True)
class Camera:
    """One camera the inventory names."""
    address: str
    name: str = ""
    model: str = ""
    username: str = ""
    onvif_port: int = DEFAULT_ONVIF_PORT

    def label(self) -> str:
        return f"{self.name} ({self.address})" if self.name else self.address


def cameras_of(entries: Any) -> list[Camera]:
    """The Camera of each vms_cameras entry (a validated list; anything else gives no camera)."""
    out = []
    for entry in entries or ():
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
            continue
        out.append(Camera(address=entry["address"], name=str(entry.get("name") or ""),
                          model=str(entry.get("model") or ""), username=str(entry.get("username") or ""),
                          onvif_port=int(entry.get("onvif_port") or DEFAULT_ONVIF_PORT)))
    return sorted(out, key=lambda c: tuple(int(p) for p in c.address.split(".")))


def audit_request(site_var, *, discovery_seconds: float, max_probes: int, try_defaults: bool | None = None,
                  now_source: str = "controller") -> dict:
    """What the auditing host needs, from the site's variables (site_var(name, default)): camera networks,
    named cameras, credentials, the minimum-firmware table and the budgets. The request holds the camera
    password: it is passed on stdin and never written to disk."""
    cameras = cameras_of(site_var("vms_cameras", None))
    tries = site_var("vms_camera_try_default_credentials", False) if try_defaults is None else try_defaults
    return {
        "camera_networks": list(site_var("vms_camera_networks", None) or []),
        "cameras": [c.__dict__ for c in cameras],
        "username": site_var("vms_camera_username", None) or "",
        "password": site_var("vms_camera_password", None) or "",
        "firmware_minimums": dict(site_var("vms_camera_firmware_minimums", None) or {}),
        "clock_tolerance": int(site_var("vms_camera_clock_tolerance", None) or DEFAULT_CLOCK_TOLERANCE),
        "try_default_credentials": bool(tries),
        "discovery_seconds": float(discovery_seconds),
        "max_probes": int(max_probes),
        "clock_source": now_source,
    }
