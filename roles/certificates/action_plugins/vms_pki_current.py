"""Action plugin vms_pki_current: is the controller-side PKI of one host already what auto.yml makes?

One in-process read of the site CA and the host's key, certificate and chain files (python
cryptography), instead of one community.crypto module run per file (each a new Python process: about
10 s of a no-change run of the demo site). It answers `current: true` only when every file is exactly
what the module tasks of roles/certificates/tasks/auto.yml would leave unchanged: the same key types
and sizes, subjects, extensions, names, issuer, key pairs, chain files, file modes, and no renewal or
rotation due. Anything else (`current: false`, with the reasons) runs those tasks as before, so they
stay the single authority on what is made; this check only skips them when there is nothing to do.
Changes nothing, so it runs in check mode too.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import runpy
import stat
from pathlib import Path

from ansible.plugins.action import ActionBase

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - community.crypto needs it too
    x509 = None

# The plugins' one import guard (plugins/filter/_vms_glue.py): certs.load_private_key, the one place that
# knows how to skip the RSA consistency check on this cryptography.
_GLUE = runpy.run_path(str(Path(__file__).resolve().parents[3] / "plugins" / "filter" / "_vms_glue.py"))
(certs,), IMPORT_ERROR = _GLUE["vms_import"]("vms_deploy.certs")

# What auto.yml asks community.crypto for (openssl_privatekey defaults: RSA 4096, ECC secp256r1).
RSA_BITS = 4096
CA_KEY_USAGE = {"key_cert_sign", "crl_sign"}
SERVER_KEY_USAGE = {"digital_signature", "key_encipherment"}
_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
           "key_cert_sign", "crl_sign")


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _key(path, passphrase, key_type, problems, label):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        problems.append(f"{label} {path} is missing")
        return None
    try:
        # No RSA consistency check of the private numbers (OpenSSL's check of a 4096-bit key costs about
        # 0.3 s, twice per host: the largest part of this action). These are the files auto.yml made on
        # the controller; the key pair is still proven below by comparing public keys with the
        # certificates (vms_cert_check, key_made_here, skips the same check for the same reason).
        key = certs.load_private_key(data, passphrase, validate=False)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        problems.append(f"{label} {path} cannot be read with the configured passphrase")
        return None
    if key_type == "ECC":
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            problems.append(f"{label} is not an ECC secp256r1 key")
    elif not isinstance(key, rsa.RSAPrivateKey) or key.key_size != RSA_BITS:
        problems.append(f"{label} is not an RSA {RSA_BITS} key")
    if _mode(path) != 0o600:
        problems.append(f"{label} {path} has mode {_mode(path):04o}, not 0600")
    return key


def _cert(path, problems, label):
    try:
        with open(path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError):
        problems.append(f"{label} {path} is missing or unreadable")
        return None
    if _mode(path) != 0o644:
        problems.append(f"{label} {path} has mode {_mode(path):04o}, not 0644")
    return cert


def _public(obj):
    return obj.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _ext(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def _usages(ext):
    usage = ext.value
    found = {name for name in _USAGES if getattr(usage, name)}
    return found


def _attrs(name, oid):
    return [a.value for a in name.get_attributes_for_oid(oid)]


def _sans(names):
    """community.crypto SAN strings ("DNS:x", "IP:1.2.3.4") as cryptography objects, in a set."""
    wanted = set()
    for entry in names:
        kind, _, value = str(entry).partition(":")
        if kind == "DNS":
            wanted.add(x509.DNSName(value))
        elif kind == "IP":
            wanted.add(x509.IPAddress(ipaddress.ip_address(value)))
        else:
            wanted.add(("other", entry))  # never equal to what a certificate holds: not current
    return wanted


def check(args, now=None):
    """List of reasons the PKI of this host is not current ([] = nothing for auto.yml to do)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    problems = []
    for directory in (args["ca_dir"], args["host_dir"]):
        if not os.path.isdir(directory):
            problems.append(f"directory {directory} is missing")
        elif _mode(directory) != 0o700:
            problems.append(f"directory {directory} has mode {_mode(directory):04o}, not 0700")
    if args.get("rotate"):
        problems.append("a rotation was asked for")
    if problems:
        return problems
    ca_dir, host_dir = args["ca_dir"], args["host_dir"]
    ca_key = _key(os.path.join(ca_dir, "ca.key"), args.get("ca_passphrase"), args["key_type"], problems, "CA key")
    ca_cert = _cert(os.path.join(ca_dir, "ca.crt"), problems, "CA certificate")
    key = _key(os.path.join(host_dir, "server.key"), None, args["key_type"], problems, "server key")
    cert = _cert(os.path.join(host_dir, "server.crt"), problems, "server certificate")
    if ca_key is None or ca_cert is None or key is None or cert is None:
        return problems

    # The CA: self-signed by its key, the subject and extensions auto.yml's CSR asks for.
    if _public(ca_cert) != _public(ca_key):
        problems.append("the CA certificate does not belong to the CA key")
    if _attrs(ca_cert.subject, NameOID.COMMON_NAME) != [args["ca_common_name"]] or \
            _attrs(ca_cert.subject, NameOID.ORGANIZATION_NAME) != ["vms-deploy"]:
        problems.append("the CA certificate's subject is not the site CA's")
    constraints = _ext(ca_cert, x509.BasicConstraints)
    if not constraints or not constraints.critical or not constraints.value.ca or constraints.value.path_length != 0:
        problems.append("the CA certificate lacks critical CA:TRUE, pathlen:0")
    usage = _ext(ca_cert, x509.KeyUsage)
    if not usage or not usage.critical or _usages(usage) != CA_KEY_USAGE:
        problems.append("the CA certificate's key usage is not keyCertSign, cRLSign (critical)")

    # The server certificate: this key, issued and signed by the CA, the names clients use.
    if _public(cert) != _public(key):
        problems.append("the server certificate does not belong to the server key")
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        problems.append("the server certificate is not signed by the site CA")
    if _attrs(cert.subject, NameOID.COMMON_NAME) != [args["common_name"]]:
        problems.append("the server certificate's common name is not " + args["common_name"])
    san = _ext(cert, x509.SubjectAlternativeName)
    if set(san.value if san else []) != _sans(args["subject_alt_names"]):
        problems.append("the server certificate does not name exactly the host's names")
    constraints = _ext(cert, x509.BasicConstraints)
    if not constraints or constraints.value.ca:
        problems.append("the server certificate lacks CA:FALSE")
    usage = _ext(cert, x509.KeyUsage)
    if not usage or _usages(usage) != SERVER_KEY_USAGE:
        problems.append("the server certificate's key usage is not digitalSignature, keyEncipherment")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if not eku or list(eku.value) != [ExtendedKeyUsageOID.SERVER_AUTH]:
        problems.append("the server certificate's extended key usage is not serverAuth")
    left = cert.not_valid_after_utc - now
    if left <= dt.timedelta(days=int(args["renew_days"])):
        problems.append(f"the server certificate expires within {args['renew_days']} days")

    # The chain files auto.yml writes (same text as its copy tasks).
    ca_text, leaf_text = _text(os.path.join(ca_dir, "ca.crt")), _text(os.path.join(host_dir, "server.crt"))
    # The copy tasks read them with the file lookup, which strips trailing whitespace.
    ca_text, leaf_text = (ca_text or "").rstrip(), (leaf_text or "").rstrip()
    for name, content in (("chain.pem", ca_text + "\n"), ("fullchain.pem", leaf_text + "\n" + ca_text + "\n")):
        path = os.path.join(host_dir, name)
        if _text(path) != content:
            problems.append(f"{path} is not the certificate chain")
        elif _mode(path) != 0o644:
            problems.append(f"{path} has mode {_mode(path):04o}, not 0644")
    return problems


def _text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("ca_dir", "host_dir", "ca_passphrase", "key_type", "ca_common_name", "common_name",
                             "subject_alt_names", "renew_days", "rotate"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if x509 is None:
            return dict(result, failed=True, msg="python cryptography is not installed on the controller")
        if IMPORT_ERROR is not None:
            return dict(result, failed=True, msg=f"{_GLUE['MISSING']} ({IMPORT_ERROR})")
        args = dict(self._task.args)
        missing = sorted({"ca_dir", "host_dir", "key_type", "ca_common_name", "common_name", "subject_alt_names",
                          "renew_days"} - set(args))
        if missing:
            return dict(result, failed=True, msg=f"vms_pki_current: missing argument(s) {', '.join(missing)}")
        args["rotate"] = str(args.get("rotate", False)).lower() in ("true", "yes", "1")
        reasons = check(args)
        return dict(result, changed=False, current=not reasons, reasons=reasons)
