"""Fake ONVIF devices on loopback for the camera audit's tests: good, open, slow, trickling, wrong, silent.

The SOAP bodies follow the ONVIF device and media WSDLs (tds:/trt:/tt: elements, as ipycam's own templates);
WS-Security UsernameToken PasswordDigest is checked as the ONVIF Core Specification (5.12) states it:
Base64(SHA-1(nonce + created + password)).
"""
from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" '
            'xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><s:Body>{}</s:Body></s:Envelope>')
FAULT = ('<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value>'
         '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not authorized</s:Text></s:Reason></s:Fault>')


def _tag(body: str, name: str) -> str | None:
    m = re.search(rf"<(?:\w+:)?{name}\b[^>]*>([^<]*)</", body)
    return m.group(1) if m else None


def digest_ok(body: str, username: str, password: str) -> bool:
    user, digest, nonce, created = (_tag(body, n) for n in ("Username", "Password", "Nonce", "Created"))
    if user != username or digest is None:
        return False
    if nonce is None or created is None:  # PasswordText
        return digest == password
    want = base64.b64encode(hashlib.sha1(base64.b64decode(nonce) + created.encode() + password.encode()).digest())
    return want.decode() == digest


class Device:
    """One fake camera: mode good (auth), open (no auth), slow, trickle, garbage; clock offset; firmware."""

    def __init__(self, address: str, *, mode: str = "good", username: str = "recorder",
                 password: str = "S3cure-Camera-Pass", firmware: str = "5.7.3", clock_offset: float = 0.0,
                 https: bool = False, delay: float = 0.0):
        self.address, self.mode, self.username, self.password = address, mode, username, password
        self.firmware, self.clock_offset, self.https, self.delay = firmware, clock_offset, https, delay
        self.requests: list[tuple[float, str, str | None]] = []  # (time, operation, username)
        device = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
                device.handle(self, body)

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}/onvif/device_service"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, operation: str) -> str:
        t = time.gmtime(time.time() + self.clock_offset)
        base = f"http://{self.address}:{self.port}/onvif"
        return {
            "GetSystemDateAndTime": (
                "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
                "<tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime><tt:Time>"
                f"<tt:Hour>{t.tm_hour}</tt:Hour><tt:Minute>{t.tm_min}</tt:Minute><tt:Second>{t.tm_sec}</tt:Second>"
                f"</tt:Time><tt:Date><tt:Year>{t.tm_year}</tt:Year><tt:Month>{t.tm_mon}</tt:Month>"
                f"<tt:Day>{t.tm_mday}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
                "</tds:GetSystemDateAndTimeResponse>"),
            "GetDeviceInformation": (
                "<tds:GetDeviceInformationResponse><tds:Manufacturer>FakeCam</tds:Manufacturer>"
                f"<tds:Model>FC-1</tds:Model><tds:FirmwareVersion>{self.firmware}</tds:FirmwareVersion>"
                "<tds:SerialNumber>1</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId>"
                "</tds:GetDeviceInformationResponse>"),
            "GetServices": (
                "<tds:GetServicesResponse><tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl"
                f"</tds:Namespace><tds:XAddr>{base}/device_service</tds:XAddr></tds:Service><tds:Service>"
                "<tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace>"
                f"<tds:XAddr>{base}/media_service</tds:XAddr></tds:Service></tds:GetServicesResponse>"),
            "GetNetworkProtocols": (
                "<tds:GetNetworkProtocolsResponse><tds:NetworkProtocols><tt:Name>HTTP</tt:Name>"
                "<tt:Enabled>true</tt:Enabled><tt:Port>80</tt:Port></tds:NetworkProtocols><tds:NetworkProtocols>"
                f"<tt:Name>HTTPS</tt:Name><tt:Enabled>{'true' if self.https else 'false'}</tt:Enabled>"
                "<tt:Port>443</tt:Port></tds:NetworkProtocols><tds:NetworkProtocols><tt:Name>RTSP</tt:Name>"
                "<tt:Enabled>true</tt:Enabled><tt:Port>554</tt:Port></tds:NetworkProtocols>"
                "</tds:GetNetworkProtocolsResponse>"),
            "GetProfiles": (
                '<trt:GetProfilesResponse><trt:Profiles token="main" fixed="true"><tt:Name>main</tt:Name>'
                "</trt:Profiles></trt:GetProfilesResponse>"),
            "GetStreamUri": (
                f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://{self.address}:554/main</tt:Uri>"
                "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false"
                "</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>"),
        }.get(operation, "")

    def handle(self, handler, body: str) -> None:
        operation = next((op for op in ("GetSystemDateAndTime", "GetDeviceInformation", "GetServices",
                                        "GetCapabilities", "GetNetworkProtocols", "GetProfiles", "GetStreamUri")
                          if f"{op}" in body), "?")
        self.requests.append((time.monotonic(), operation, _tag(body, "Username")))
        if self.delay:
            time.sleep(self.delay)
        if self.mode == "trickle":  # a byte every half second: each read is quick, the whole never ends
            handler.send_response(200)
            handler.send_header("Content-Type", "application/soap+xml")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            try:
                for _ in range(200):
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            return
        if self.mode == "garbage":
            self._send(handler, 200, b"\x00\xffnot soap at all<<<")
            return
        authorised = self.mode == "open" or digest_ok(body, self.username, self.password)
        if not authorised:
            self._send(handler, 401, ENVELOPE.format(FAULT).encode())
            return
        inner = self.answer(operation)
        self._send(handler, 200 if inner else 400, ENVELOPE.format(inner or FAULT).encode())

    @staticmethod
    def _send(handler, status: int, data: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class Responder:
    """A WS-Discovery responder on one loopback address: answers a Probe with a ProbeMatch naming xaddr,
    or (mode) stays silent, answers garbage, answers late, or answers for another address."""

    def __init__(self, address: str, port: int, xaddr: str = "", mode: str = "match", delay: float = 0.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.settimeout(0.2)
        self.xaddr, self.mode, self.delay, self.probes, self.running = xaddr, mode, delay, 0, True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while self.running:
            try:
                data, sender = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            self.probes += 1
            if self.mode == "silent":
                continue
            if self.delay:
                time.sleep(self.delay)
            relates = _tag(data.decode(), "MessageID") or "x"
            reply = (b"garbage \x00" if self.mode == "garbage" else (
                '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
                'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Header>'
                f"<a:RelatesTo>{relates}</a:RelatesTo></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>"
                "<a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference>"
                "<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/name/fake"
                f"</d:Scopes><d:XAddrs>{self.xaddr}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
                "</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>").encode())
            try:
                self.sock.sendto(reply, sender)
            except OSError:
                pass

    def close(self):
        self.running = False
        self.sock.close()
