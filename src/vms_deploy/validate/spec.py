"""The inventory's vocabulary: documented variables (from the roles' argument specs), their types, and
which of them describe the whole site.

Variable names and types come from the validate_inventory role's argument specs (entry point
"inventory"), the single source of truth for the inventory reference. The roles' argument specs are
package data (src/vms_deploy/specs/<role>.yml; roles/<role>/meta/argument_specs.yml link to them), so an
installed package validates without a checkout.
"""
from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any

import yaml

from ..catalog import NETWORK_ROLES, safe_load

SPEC_DIR = Path(__file__).resolve().parent.parent / "specs"  # <role>.yml: each role's meta/argument_specs.yml
SPEC_PATH = SPEC_DIR / "validate_inventory.yml"
NETWORK_VARS = ("vms_client_networks", "vms_camera_networks", "vms_remote_allowlist", "vms_server_networks",
                "vms_dmz_networks", "vms_management_networks") + tuple(
                    v for v in NETWORK_ROLES.values() if v.endswith("_networks") and v not in (
                        "vms_client_networks", "vms_camera_networks", "vms_management_networks"))
# Variables that describe the whole site: every host must see the same value (set them in group_vars/all).
SITE_VARS = ("vms_product", "vms_site", "vms_remote_access", "vms_edge_backend", "vms_web_player",
             "vms_enabled_features", "vms_tls_enabled", "vms_device_count", "vms_camera_ports", "vms_vpn_listen_port",
             "vms_vpn_network", "vms_vpn_peers", "vms_cameras", "vms_camera_username",
             "vms_camera_firmware_minimums", "vms_camera_clock_tolerance",
             "vms_camera_try_default_credentials") + NETWORK_VARS
TYPE_WORDS = {"str": "a string", "int": "an integer", "bool": "true or false", "list": "a list",
              "dict": "a mapping (key: value)", "raw": "a value"}


@functools.cache
def inventory_spec(path: str = str(SPEC_PATH)) -> dict[str, dict]:
    """name -> option spec of every documented inventory variable."""
    try:
        raw = safe_load(Path(path).read_text(encoding="utf-8"))
        return dict(raw["argument_specs"]["inventory"]["options"])
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise RuntimeError(f"cannot read the inventory variable reference {path}: {exc}") from None


@functools.cache
def role_variables(spec_dir: str = str(SPEC_DIR)) -> frozenset[str]:
    """vms_* options documented by the other roles' argument_specs (their own inventory knobs, e.g.
    vms_win_installer_source). They are accepted by the unknown-variable check; their roles check
    their types."""
    names: set[str] = set()
    for path in sorted(Path(spec_dir).glob("*.yml")):
        try:
            raw = safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue  # a broken role spec is that role's lint failure, not an inventory error
        for entry in (raw.get("argument_specs") or {}).values():
            names.update(n for n in ((entry or {}).get("options") or {}) if str(n).startswith("vms_"))
    return frozenset(names)


def did_you_mean(word: str, choices) -> str:
    if len(word) > 100:  # no documented name is that long; difflib is quadratic (a 5 MB name hung the run)
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def type_ok(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "dict":
        return isinstance(value, dict)
    return True


def example(name: str, spec: dict) -> str:
    """`name: value` for a fix: the documented default, else the first choice, else the type."""
    if "default" in spec:
        return f"{name}: {yaml.safe_dump(spec['default'], default_flow_style=True).strip().removesuffix('...').strip()}"
    if spec.get("choices"):
        return f"{name}: {spec['choices'][0]}"
    return f"{name}: <{TYPE_WORDS.get(spec.get('type', 'raw'), 'value')}>"


def list_key(value: Any) -> tuple | None:
    """A list of strings as a dict key; None for anything else (not memoised). Every host of a big site
    carries the same lists (one object each when read from JSON), so this runs per host: C-level only."""
    if isinstance(value, list) and set(map(type, value)) <= _STR_ONLY:
        return tuple(value)
    return None


_STR_ONLY = {str}
