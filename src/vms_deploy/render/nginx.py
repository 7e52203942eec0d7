"""Render the hardened reverse-proxy gateway (nginx) for one Linux gateway host from the plan.

The gateway keeps the port numbers the plan gives the Internet Gateway (the edge forwards to
them unchanged), but every web port is served by nginx with the site certificate:

- HTTPS ports (gateway_https 9443, web_player_https 3001): TLS 1.2+ only, modern ciphers,
  security headers, proxied to the Application Server's web server;
- HTTP ports (gateway_http 9080, web_player_http 3000): nothing but a 301 to the HTTPS port
  clients use (the external port of the forward, so a browser that came in on :80 lands on :9443);
- streaming (gateway_streaming 9081): passed through as TCP (stream module) to the streaming
  port of the recorder the plan lets the gateway reach.

Upstreams come only from the plan: a port is used as an upstream only when the plan lets the
gateway's address reach it, so the host firewalls already admit every proxied connection.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

# Service names (catalogs/valerus.yml) and the role each plays on the gateway.
HTTPS_SERVICES = {"gateway_https": "gateway_http", "web_player_https": "web_player_http"}
STREAM_SERVICES = ("gateway_streaming",)
WEB_UPSTREAMS = {True: ("app_web_https", "app_web_http"), False: ("app_web_http", "app_web_https")}
STREAM_UPSTREAMS = ("recorder_streaming",)

# Mozilla "intermediate" TLS 1.2 suites (TLS 1.3 suites are always on in OpenSSL).
CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
           "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
           "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384")

SECURITY_HEADERS = (
    ("Strict-Transport-Security", '"max-age=31536000"'),
    ("X-Content-Type-Options", '"nosniff"'),
    ("X-Frame-Options", '"SAMEORIGIN"'),
    ("Referrer-Policy", '"strict-origin-when-cross-origin"'),
    # The VMS web client is the upstream's page: restrict framing and mixed content only, so the
    # proxy cannot break scripts it does not know.
    ("Content-Security-Policy", "\"frame-ancestors 'self'; upgrade-insecure-requests\""),
    ("Permissions-Policy", '"camera=(), microphone=(), geolocation=()"'),
)


HEALTH_PATH = "/vms-gateway/health"


class ProxyError(ValueError):
    """The plan gives the gateway nothing it can proxy to; the message says what to change."""


# What may stand as one nginx token (server_name, a redirect host, a path, proxy_ssl_name): nothing
# that ends a directive (;), opens or closes a block ({ }), starts a comment (#), expands a variable
# ($), quotes, or separates tokens (whitespace). The validator already refuses such names; this is
# the renderer's own guard for plans that did not come through it (a plan.json from elsewhere).
_NGINX_TOKEN = re.compile(r"[A-Za-z0-9_.:*/=+@%,\[\]-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def nginx_token(value, what: str) -> str:
    text = str(value)
    if not _NGINX_TOKEN.fullmatch(text):
        raise ProxyError(f"{what} {text[:80]!r} cannot be written into nginx.conf (only letters, digits and "
                         "._:*/=+@%,-[] are allowed): correct it in the inventory and plan again")
    return text


def nginx_comment(value) -> str:
    """Text for a '#' comment: one line (a newline would end the comment and start a directive)."""
    return _CONTROL.sub(" ", str(value))[:200]


@dataclass
class ProxySettings:
    """Host-side paths and choices that are not in the plan."""

    cert_file: str = "/etc/nginx/vms-tls/fullchain.pem"
    key_file: str = "/etc/nginx/vms-tls/server.key"
    public_host: str | None = None          # name or address in redirects; default the plan's public address
    upstream_tls: bool | None = None        # None: HTTPS to Windows (real Valerus IIS), HTTP to Linux stand-ins
    upstream_ca_file: str | None = None     # verify the upstream's certificate against this CA when set
    stream_host: str | None = None          # which recorder gets the streaming port; default the first allowed
    client_max_body_size: str = "64m"
    extra_server_names: list[str] = field(default_factory=list)


@dataclass
class Route:
    kind: str              # "https", "redirect", "stream"
    service: str
    port: int
    upstream: str | None = None    # "address:port"
    upstream_host: str | None = None
    scheme: str = "http"
    redirect_port: int | None = None


def _covers(cidrs, address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(c, strict=False) for c in cidrs)


def _reachable(plan: dict, gateway: str, services) -> list[tuple[str, dict, dict]]:
    """(host name, host, inbound rule) for each named service the gateway may connect to.

    Another host's service counts when its sources admit the gateway's address; a service on the
    gateway host itself (all-in-one) is reached over loopback, which host firewalls always admit.
    """
    source = plan["hosts"][gateway]["address"]
    found = []
    for name in sorted(plan["hosts"]):
        host = plan["hosts"][name]
        for rule in host.get("inbound", []):
            if rule.get("service") not in services or rule["protocol"] != "tcp":
                continue
            if name == gateway:
                found.append((name, dict(host, address="127.0.0.1"), rule))
            elif _covers(rule["sources"], source):
                found.append((name, host, rule))
    return found


def _pick(found, order, prefer_host=None):
    for service in order:
        for name, host, rule in found:
            if rule["service"] == service and (prefer_host is None or name == prefer_host):
                return name, host, rule
    return None


def _external_port(plan: dict, host: str, service: str, port: int) -> int:
    """The port clients type: the edge forward's external port, else the port itself (VPN, LAN)."""
    for fwd in plan.get("forwards") or []:
        if fwd.get("to_host") == host and fwd.get("service") == service:
            return int(fwd["external_ports"][0])
    return port


def routes(plan: dict, host: str, settings: ProxySettings) -> list[Route]:
    if host not in plan.get("hosts", {}):
        raise ProxyError(f"host {host!r} is not in the plan")
    me = plan["hosts"][host]
    if "gateway" not in me.get("components", []):
        raise ProxyError(f"host {host!r} has no gateway component: put it in the vms_gateways group")
    own = {r["service"]: r for r in me.get("inbound", []) if r.get("component") == "gateway"
           or r.get("service") in HTTPS_SERVICES or r.get("service") in HTTPS_SERVICES.values()}
    address = me["address"]
    out: list[Route] = []

    web_found = _reachable(plan, host, WEB_UPSTREAMS[True])
    web = None
    if any(s in own for s in HTTPS_SERVICES):
        # Prefer HTTPS to real (Windows) application servers; stand-ins in the lab speak plain HTTP.
        candidates = sorted({n for n, _h, _r in web_found})
        if not candidates:
            raise ProxyError(f"gateway {host}: the plan lets {address} reach no application server web port "
                             "(app_web_http/app_web_https); check vms_app_servers and vms_port_overrides")
        target = host if host in candidates else candidates[0]
        tls = settings.upstream_tls
        if tls is None:
            tls = plan["hosts"][target].get("platform") == "windows"
        web = _pick(web_found, WEB_UPSTREAMS[bool(tls)], target)
    for https, http in sorted(HTTPS_SERVICES.items()):
        if https in own:
            port = own[https]["ports"][0]
            name, target, rule = web
            scheme = "https" if rule["service"] == "app_web_https" else "http"
            out.append(Route("https", https, port, f"{target['address']}:{rule['ports'][0]}", name, scheme))
            if http in own:
                out.append(Route("redirect", http, own[http]["ports"][0],
                                 redirect_port=_external_port(plan, host, https, port)))
        elif http in own:
            raise ProxyError(f"gateway {host}: {http} is open but {https} is not, so there is nowhere to "
                             "redirect to; enable the HTTPS port or drop the HTTP one")

    for service in STREAM_SERVICES:
        if service not in own:
            continue
        found = _reachable(plan, host, STREAM_UPSTREAMS)
        pick = _pick(found, STREAM_UPSTREAMS, settings.stream_host) if found else None
        if pick is None:
            raise ProxyError(f"gateway {host}: {service} is open but the plan lets {address} reach no recorder "
                             "streaming port" + (f" on {settings.stream_host}" if settings.stream_host else ""))
        name, target, rule = pick
        out.append(Route("stream", service, own[service]["ports"][0], f"{target['address']}:{rule['ports'][0]}", name))
    if not out:
        raise ProxyError(f"gateway {host}: the plan opens no gateway port (9080/9443/9081) on it")
    return sorted(out, key=lambda r: r.port)


def _public_host(plan: dict, settings: ProxySettings, host: str) -> str:
    return settings.public_host or (plan.get("edge") or {}).get("public_address") or plan["hosts"][host]["address"]


def render_nginx_conf(plan: dict, host: str, settings: ProxySettings | None = None) -> str:
    """The complete /etc/nginx/nginx.conf for the gateway (deterministic text)."""
    settings = settings or ProxySettings()
    rts = routes(plan, host, settings)
    public = nginx_token(_public_host(plan, settings, host), "the public name")
    names = " ".join(["_"] + sorted({nginx_token(n, "the server name") for n in settings.extra_server_names}))
    for path, what in ((settings.cert_file, "the certificate path"), (settings.key_file, "the key path"),
                       (settings.upstream_ca_file, "the upstream CA path")):
        if path is not None:
            nginx_token(path, what)
    for r in rts:
        if r.upstream_host is not None:
            nginx_token(r.upstream_host, "the upstream host name")
    lines = [
        (f"# vms-deploy: reverse-proxy gateway for site {nginx_comment(plan.get('site'))} on {nginx_comment(host)}. "
         "Generated; do not edit."),
        "user www-data;",
        "worker_processes auto;",
        "pid /run/nginx.pid;",
        "error_log /var/log/nginx/error.log warn;",
        "include /etc/nginx/modules-enabled/*.conf;",
        "",
        "events {",
        "    worker_connections 1024;",
        "}",
        "",
        "http {",
        "    include /etc/nginx/mime.types;",
        "    default_type application/octet-stream;",
        "    access_log /var/log/nginx/access.log;",
        "    sendfile on;",
        "    server_tokens off;",
        f"    client_max_body_size {settings.client_max_body_size};",
        "",
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        f"    ssl_ciphers {CIPHERS};",
        "    ssl_prefer_server_ciphers off;",
        "    ssl_session_cache shared:vms_tls:10m;",
        "    ssl_session_timeout 1d;",
        "    ssl_session_tickets off;",
        f"    ssl_certificate {settings.cert_file};",
        f"    ssl_certificate_key {settings.key_file};",
        "",
        "    # WebSocket upgrade for live video in the web client.",
        "    map $http_upgrade $vms_connection_upgrade {",
        "        default upgrade;",
        "        ''      close;",
        "    }",
    ]
    for r in rts:
        if r.kind == "redirect":
            target = f"https://{public}" + ("" if r.redirect_port == 443 else f":{r.redirect_port}")
            lines += ["",
                      f"    # {r.service}: plain HTTP only redirects to HTTPS.",
                      "    server {",
                      f"        listen {r.port} default_server;",
                      f"        server_name {names};",
                      f"        return 301 {target}$request_uri;",
                      "    }"]
        elif r.kind == "https":
            lines += ["",
                      f"    # {r.service}: TLS terminated with the site certificate, proxied to {r.upstream_host}.",
                      "    server {",
                      f"        listen {r.port} ssl default_server;",
                      f"        server_name {names};"]
            lines += [f"        add_header {k} {v} always;" for k, v in SECURITY_HEADERS]
            # Answered by nginx itself: monitoring (and the lab) can check TLS and headers
            # without depending on the upstream.
            lines += [f"        location = {HEALTH_PATH} {{",
                      "            access_log off;",
                      "            default_type text/plain;",
                      '            return 200 "ok\\n";',
                      "        }"]
            lines += ["        location / {",
                      f"            proxy_pass {r.scheme}://{r.upstream};",
                      "            proxy_http_version 1.1;",
                      "            proxy_set_header Host $host;",
                      "            proxy_set_header X-Real-IP $remote_addr;",
                      "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                      "            proxy_set_header X-Forwarded-Proto https;",
                      "            proxy_set_header Upgrade $http_upgrade;",
                      "            proxy_set_header Connection $vms_connection_upgrade;",
                      "            proxy_read_timeout 3600s;"]
            if r.scheme == "https":
                if settings.upstream_ca_file:
                    lines += ["            proxy_ssl_verify on;",
                              f"            proxy_ssl_trusted_certificate {settings.upstream_ca_file};",
                              f"            proxy_ssl_name {r.upstream_host};",
                              "            proxy_ssl_server_name on;"]
                else:
                    lines += ["            # The upstream's certificate is not verified: set "
                              "vms_proxy_upstream_ca_file.",
                              "            proxy_ssl_verify off;"]
            lines += ["        }", "    }"]
    lines.append("}")
    streams = [r for r in rts if r.kind == "stream"]
    if streams:
        lines += ["", "stream {"]
        for r in streams:
            lines += [f"    # {r.service}: TCP passed through to {r.upstream_host}.",
                      "    server {",
                      f"        listen {r.port};",
                      f"        proxy_pass {r.upstream};",
                      "        proxy_connect_timeout 10s;",
                      "        proxy_timeout 1h;",
                      "    }"]
        lines.append("}")
    return "\n".join(lines) + "\n"


def owned_ports(plan: dict, host: str, settings: ProxySettings | None = None) -> list[str]:
    """["tcp/3000", "tcp/9443", ...]: the ports nginx takes over (stand-in listeners must skip them)."""
    return [f"tcp/{r.port}" for r in routes(plan, host, settings or ProxySettings())]


def proxied_ports(plan: dict, host: str, settings: ProxySettings | None = None) -> list[str]:
    """The ports a Linux gateway's nginx takes over on `host` (stand-in listeners skip them): owned_ports
    when the product's gateway_proxy trait is nginx and the host runs the gateway on Linux, else []."""
    from vms_deploy.catalog import plan_traits
    entry = (plan.get("hosts") or {}).get(host) or {}
    if plan_traits(plan).get("gateway_proxy") != "nginx" or "gateway" not in (entry.get("components") or []) \
            or entry.get("platform") != "linux":
        return []
    return owned_ports(plan, host, settings)
