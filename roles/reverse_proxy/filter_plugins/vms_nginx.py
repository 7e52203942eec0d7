"""Reverse-proxy filters for the reverse_proxy role (thin wrappers over vms_deploy.render.nginx)."""
from __future__ import annotations

import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one import guard of the filter plugins (plugins/filter/_vms_glue.py): None without the package.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[3] / "plugins" / "filter" / "_vms_glue.py"))
(nginx,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.render.nginx")
MISSING = _GLUE["MISSING"]
_SETTINGS = ("cert_file", "key_file", "public_host", "upstream_tls", "upstream_ca_file", "stream_host",
             "client_max_body_size", "extra_server_names")


def _settings(settings):
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(_SETTINGS))
    if unknown:
        raise AnsibleFilterError(f"unknown reverse-proxy setting(s): {', '.join(unknown)}")
    if settings.get("upstream_tls") in ("auto", "", None):
        settings["upstream_tls"] = None
    else:
        settings["upstream_tls"] = str(settings["upstream_tls"]).lower() in ("true", "yes", "1", "on")
    return nginx.ProxySettings(**{k: v for k, v in settings.items() if v not in ("", None) or k == "upstream_tls"})


def _call(func, plan, host, settings):
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"{MISSING} ({IMPORT_ERROR})")
    plan = _GLUE["vms_plan_arg"](plan, getattr(func, "__name__", "filter"))
    try:
        return func(plan, host, _settings(settings))
    except nginx.ProxyError as exc:
        raise AnsibleFilterError(str(exc)) from None


def vms_nginx_conf(plan, host, settings=None):
    """plan | vms_nginx_conf(host, settings) -> text of /etc/nginx/nginx.conf."""
    return _call(nginx.render_nginx_conf, plan, host, settings)


def vms_nginx_owned_ports(plan, host, settings=None):
    """plan | vms_nginx_owned_ports(host) -> ["tcp/9443", ...] the ports nginx listens on."""
    return _call(nginx.owned_ports, plan, host, settings)


class FilterModule:
    def filters(self):
        return {"vms_nginx_conf": vms_nginx_conf, "vms_nginx_owned_ports": vms_nginx_owned_ports}
