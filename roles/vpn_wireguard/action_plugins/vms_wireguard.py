"""Action plugin vms_wireguard: WireGuard keys and client files on the controller.

Thin over vms_deploy.render.wireguard. For the plan's VPN it makes sure a key pair exists for the
edge and for every peer that was not given one (kept under `dir`/keys, 0600), writes one client
file per peer (`dir`/<peer>.conf, 0600), removes the files of peers no longer in the plan, and
returns the edge's wg0.conf text. Keys given in the inventory (vaulted) are used as they are.
Supports check mode (nothing written) and diff (file names, never key material).

Arguments:
  plan              the plan dict (vms_plan result or its .plan)
  dir               controller directory for keys and client files (vms_vpn_dir)
  endpoint          name or address VPN clients dial (vms_public_name / vms_public_address)
  peers             vms_vpn_peers as given: [{name, address, public_key?, private_key?}]
  edge_private_key  optional given edge key (vaulted)
Returns: server_config (no_log it), edge_public_key, peers [{name, public_key, config}], files.
"""
from __future__ import annotations

import os
import runpy
import tempfile
from pathlib import Path

from ansible.plugins.action import ActionBase

# The plugins' one import guard (plugins/filter/_vms_glue.py): wg is None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[3] / "plugins" / "filter" / "_vms_glue.py"))
(wg,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.render.wireguard")
MISSING = _GLUE["MISSING"]


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write_private(path, text):
    """Atomic write with 0600 from the start (never briefly world-readable)."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".vms-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if IMPORT_ERROR is not None:
            return dict(result, failed=True, msg=f"{MISSING} ({IMPORT_ERROR})")
        args = self._task.args
        plan = args.get("plan") or {}
        if isinstance(plan, dict) and "plan" in plan and "hosts" not in plan:
            plan = plan["plan"]
        directory = args.get("dir")
        if not directory:
            return dict(result, failed=True, msg="vms_wireguard: dir (vms_vpn_dir) is required")
        check = bool(self._task.check_mode)
        try:
            out = self._apply(plan, os.path.abspath(os.path.expanduser(str(directory))), args, check)
        except wg.WireGuardError as exc:
            return dict(result, failed=True, msg=str(exc))
        except OSError as exc:
            return dict(result, failed=True, msg=f"vms_vpn_dir={directory}: cannot write ({exc.strerror}). "
                        "Fix: point vms_vpn_dir at a directory you can write")
        result.update(out)
        return result

    def _apply(self, plan, directory, args, check):
        names = wg.peer_names(plan)
        given = {}
        for entry in args.get("peers") or []:
            if isinstance(entry, dict) and entry.get("name"):
                given[entry["name"]] = entry
        keys_dir = os.path.join(directory, "keys")
        removed = []
        wants = {}  # path -> text to write (keys and client files)

        def ensure_key(path):
            text = _read(path)
            if text is None:
                text = wg.generate_private_key() + "\n"
                wants[path] = text
            return text.strip()

        edge_given = args.get("edge_private_key")
        if edge_given:
            edge_key = str(edge_given).strip()
            edge_pub = wg.public_key(edge_key, "vms_vpn_edge_private_key")
        else:
            edge_key = ensure_key(os.path.join(keys_dir, "edge.key"))
            edge_pub = wg.public_key(edge_key, f"{keys_dir}/edge.key")

        endpoint = str(args.get("endpoint") or "")
        peers_out, pubs = [], {}
        for name in names:
            entry = given.get(name, {})
            private = None
            if entry.get("private_key"):
                private = str(entry["private_key"]).strip()
                pub = wg.public_key(private, f"vms_vpn_peers[{name}].private_key")
            elif entry.get("public_key"):
                pub = wg.check_public_key(entry["public_key"], f"vms_vpn_peers[{name}].public_key")
            else:
                private = ensure_key(os.path.join(keys_dir, f"{name}.key"))
                pub = wg.public_key(private, f"{keys_dir}/{name}.key")
            pubs[name] = pub
            conf_path = os.path.join(directory, f"{name}.conf")
            text = wg.peer_config(plan, name, private, edge_pub, endpoint)
            if _read(conf_path) != text:
                wants[conf_path] = text
            peers_out.append({"name": name, "public_key": pub, "config": conf_path,
                              "private_key_known": private is not None})

        server = wg.server_config(plan, edge_key, pubs)

        # Client files and generated keys of peers that left the plan.
        if os.path.isdir(directory):
            for fname in sorted(os.listdir(directory)):
                if fname.endswith(".conf") and fname[:-5] not in names:
                    removed.append(os.path.join(directory, fname))
        if os.path.isdir(keys_dir):
            for fname in sorted(os.listdir(keys_dir)):
                if fname.endswith(".key") and fname[:-4] not in names and fname != "edge.key":
                    removed.append(os.path.join(keys_dir, fname))

        changed_files = sorted(wants)
        if not check:
            for path in (directory, keys_dir):
                os.makedirs(path, mode=0o700, exist_ok=True)
                os.chmod(path, 0o700)
            for path in changed_files:
                _write_private(path, wants[path])
            for path in removed:
                os.unlink(path)
        diff = {"before": "".join(f"{p}\n" for p in removed),
                "after": "".join(f"{p}\n" for p in changed_files),
                "before_header": "removed", "after_header": "written"}
        return {
            "changed": bool(changed_files or removed),
            "server_config": server,
            "edge_public_key": edge_pub,
            "peers": peers_out,
            "files": {"written": changed_files, "removed": removed},
            "diff": diff if (changed_files or removed) else {},
        }
