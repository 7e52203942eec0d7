#!/usr/bin/python
"""Module vms_nginx_site: the reverse-proxy gateway's files and nginx in one round trip."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: vms_nginx_site
short_description: Install the gateway's nginx.conf, certificate and key, and keep nginx running (one round trip)
description:
  - One module run does what used to take about a dozen tasks (package facts, a directory, three
    file copies, the configuration, a service-manager probe, the service, a pgrep, a reload
    handler). On a no-change run it reads the files, finds them equal and nginx running, and
    returns. Every task is a round trip to the host; the no-change re-run benchmark
    (docs/BENCHMARKS.md) found the role's round trips the largest cost of a re-run.
  - When I(packages) names packages that are not installed it does nothing else and returns them in
    C(missing_packages), so the role installs them with ansible.builtin.apt and runs it again. In check
    mode it goes on and reports what it would change as well.
  - Files that differ are written to temporary files next to their destinations first; the new
    configuration, pointed at the new certificate and key, is checked with C(nginx -t) before any of
    them replaces the old one. Only then are they renamed into place and nginx reloaded (or started
    when it is not running). Owner root, group root and the modes below are kept.
  - Works with systemd (service started, enabled, reloaded) and without it (containers, where nginx
    daemonizes itself and C(nginx -s reload) reloads it).
  - Supports check mode (nothing is written, reloaded or started) and diff mode (the configuration,
    the certificate chain and the upstream CA; the private key is named, never shown).
options:
  conf:
    description: Text of the nginx configuration (the vms_nginx_conf filter's output).
    type: str
    required: true
  conf_path:
    description: Where the configuration goes (mode 0644).
    type: path
    default: /etc/nginx/nginx.conf
  tls_dir:
    description: Private directory (mode 0750) for the certificate chain, the key and the upstream CA.
    type: path
    required: true
  cert:
    description: >-
      PEM certificate chain, written to I(tls_dir)/fullchain.pem (mode 0600; a PFX unpacked into one PEM
      holds the key too).
    type: str
    required: true
  key:
    description: PEM private key, written to I(tls_dir)/server.key (mode 0600).
    type: str
    required: true
  upstream_ca:
    description: PEM CA of the application server, written to I(tls_dir)/upstream-ca.crt (mode 0644) when not empty.
    type: str
    default: ""
  packages:
    description: Debian packages that must be installed first (checked with dpkg-query); an empty list skips the check.
    type: list
    elements: str
    default: []
author: vms-deploy
"""

EXAMPLES = r"""
- name: Gateway files and nginx in one module run
  vms_nginx_site:
    conf: "{{ plan | vms_nginx_conf(inventory_hostname) }}"
    tls_dir: /etc/nginx/vms-tls
    cert: "{{ lookup('ansible.builtin.file', certificates_cert_path, rstrip=false) }}"
    key: "{{ lookup('ansible.builtin.file', certificates_key_path, rstrip=false) }}"
    packages: [nginx, libnginx-mod-stream]
  register: gateway
"""

RETURN = r"""
missing_packages:
  description: Packages of I(packages) that are not installed; when not empty nothing else was done (but in check mode).
  returned: always
  type: list
  elements: str
  sample: []
files_changed:
  description: Paths written or whose owner or mode was fixed (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/nginx.conf]
nginx:
  description: C(running) (nothing to do), C(reloaded), C(started), or in check mode C(would reload) / C(would start).
  returned: when missing_packages is empty
  type: str
  sample: running
cert_sha256:
  description:
    - SHA-256 of the certificate file nginx serves (I(tls_dir)/fullchain.pem) as it is when the module ends (as found,
      in check mode), or null when there is none. The audit role compares it with the site certificate instead of
      reading the file again when this run changed nothing.
  returned: when missing_packages is empty (always in check mode)
  type: str
  sample: 0f343b0931126a20f133d67c2b018a3b8a5a2bd3e5b2e1d0e6a8dbf55c1c6e02
"""

import hashlib
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

KEY = "server.key"


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _sha256(data):
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _attrs_wrong(path, mode):
    try:
        st = os.stat(path)
    except OSError:
        return True
    return st.st_uid != 0 or st.st_gid != 0 or stat.S_IMODE(st.st_mode) != mode


def _run(module, argv):
    rc, out, err = module.run_command(argv)
    return rc, (out or "") + (err or "")


def missing_packages(module, packages):
    if not packages:
        return []
    dpkg = module.get_bin_path("dpkg-query")
    if not dpkg:
        module.fail_json(msg="dpkg-query not found: the reverse_proxy role supports Debian-family gateways only")
    _, out, _ = module.run_command([dpkg, "-W", "-f", "${Package} ${db:Status-Abbrev}\\n"] + list(packages))
    installed = {line.split()[0].split(":")[0] for line in out.splitlines()
                 if len(line.split()) > 1 and line.split()[1].startswith("ii")}
    return [name for name in packages if name not in installed]


def nginx_running(module, systemd):
    if systemd:
        active = _run(module, ["systemctl", "is-active", "--quiet", "nginx"])[0] == 0
        enabled = _run(module, ["systemctl", "is-enabled", "--quiet", "nginx"])[0] == 0
        return active, enabled
    pgrep = module.get_bin_path("pgrep", required=True)
    return module.run_command([pgrep, "-x", "nginx"])[0] == 0, True


def main():
    module = AnsibleModule(
        argument_spec={"conf": {"type": "str", "required": True},
                       "conf_path": {"type": "path", "default": "/etc/nginx/nginx.conf"},
                       "tls_dir": {"type": "path", "required": True},
                       "cert": {"type": "str", "required": True},
                       "key": {"type": "str", "required": True, "no_log": True},
                       "upstream_ca": {"type": "str", "default": ""},
                       "packages": {"type": "list", "elements": "str", "default": []}},
        supports_check_mode=True)
    p = module.params
    missing = missing_packages(module, p["packages"])
    if missing and not module.check_mode:
        module.exit_json(changed=False, missing_packages=missing, files_changed=[])

    tls_dir, conf_path = p["tls_dir"], p["conf_path"]
    # (destination, content, mode), in the order they are put in place: the configuration last.
    wanted = [(os.path.join(tls_dir, "fullchain.pem"), p["cert"], 0o600),
              (os.path.join(tls_dir, KEY), p["key"], 0o600)]
    if p["upstream_ca"]:
        wanted.append((os.path.join(tls_dir, "upstream-ca.crt"), p["upstream_ca"], 0o644))
    wanted.append((conf_path, p["conf"], 0o644))

    dir_wrong = not os.path.isdir(tls_dir) or _attrs_wrong(tls_dir, 0o750)
    cert_path, found_cert = wanted[0][0], None  # the certificate nginx serves, as found (cert_sha256)
    new_content, attrs_only, diffs = [], [], []
    for path, text, mode in wanted:
        data = text.encode("utf-8")
        old = _read(path)
        if path == cert_path:
            found_cert = old
        if old != data:
            new_content.append((path, data, mode))
            if module._diff:
                if path.endswith(KEY) or b"PRIVATE KEY" in data or b"PRIVATE KEY" in (old or b""):
                    # A provided PFX unpacks into one PEM holding the key: never in a diff.
                    diffs.append({"prepared": f"{path}: changes (holds a private key: not shown)"})
                else:
                    diffs.append({"before": (old or b"").decode("utf-8", "replace"), "after": text,
                                  "before_header": path, "after_header": path})
        elif _attrs_wrong(path, mode):
            attrs_only.append((path, mode))
    files_changed = ([tls_dir] if dir_wrong else []) + [w[0] for w in new_content] + [a[0] for a in attrs_only]

    systemd = os.path.isdir("/run/systemd/system")
    nginx_bin = module.get_bin_path("nginx")
    running, enabled = nginx_running(module, systemd) if nginx_bin else (False, False)
    if not running:
        action = "start"
    elif new_content:
        action = "reload"
    else:
        action = None
    changed = bool(files_changed) or action is not None or not enabled
    result = {"changed": changed, "missing_packages": missing, "files_changed": files_changed,
              "cert_sha256": _sha256(found_cert)}
    if diffs:
        result["diff"] = diffs
    if module.check_mode:
        module.exit_json(nginx=("would " + action) if action else "running", **result)
    if not nginx_bin:
        module.fail_json(msg="nginx is not installed (list it in reverse_proxy_packages)", **result)

    if dir_wrong:
        os.makedirs(tls_dir, mode=0o750, exist_ok=True)
        os.chown(tls_dir, 0, 0)
        os.chmod(tls_dir, 0o750)
    staged = []  # (temporary path, destination)
    try:
        for path, data, mode in new_content:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".vms-")
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chown(tmp, 0, 0)
            os.chmod(tmp, mode)
        if staged:
            # nginx -t on the new configuration pointed at the new certificate and key, before any is in force.
            check_conf = p["conf"]
            for tmp, path in staged:
                if path != conf_path:
                    check_conf = check_conf.replace(path, tmp)
            fd, check_path = tempfile.mkstemp(dir=os.path.dirname(conf_path), prefix=".nginx-check.vms-")
            staged.append((check_path, None))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(check_conf)
            rc, out = _run(module, [nginx_bin, "-t", "-q", "-c", check_path])
            if rc != 0:
                refused = out.replace(check_path, conf_path).strip()
                module.fail_json(msg="nginx -t refused the new gateway configuration (nothing was replaced): "
                                     f"{refused}", **result)
            for tmp, path in staged:
                if path is not None:
                    os.replace(tmp, path)
            written = {path: data for path, data, _ in new_content}
            if cert_path in written:
                result["cert_sha256"] = _sha256(written[cert_path])
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
    for path, mode in attrs_only:
        os.chown(path, 0, 0)
        os.chmod(path, mode)

    if systemd:
        if not enabled:
            rc, out = _run(module, ["systemctl", "enable", "nginx"])
            if rc != 0:
                module.fail_json(msg=f"systemctl enable nginx failed: {out.strip()}", **result)
        if action:
            rc, out = _run(module, ["systemctl", "start" if action == "start" else "reload", "nginx"])
    elif action == "start":
        rc, out = _run(module, [nginx_bin])  # daemonizes itself (containers: no init system)
    elif action == "reload":
        rc, out = _run(module, [nginx_bin, "-s", "reload"])
    if action and rc != 0:
        module.fail_json(msg=f"nginx {action} failed: {out.strip()}", **result)
    module.exit_json(nginx={"start": "started", "reload": "reloaded"}.get(action, "running"), **result)


if __name__ == "__main__":
    main()
