"""Certificate checks run on the controller before any host is touched.

A site certificate is checked as clients will see it: the key must match, the chain must lead to a
root (shipped in the chain, a CA file the user names, or the system trust store), the subject
alternative names must cover every name and address clients use, and it must be valid now. Each
problem comes back as one `CertIssue` naming the variable, the file and the fix, so a user gets one
readable line per problem and never a traceback.

Only the `cryptography` package is used (ansible-core already depends on it).
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID

SYSTEM_TRUST_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class CertIssue:
    """One problem (severity "error") or notice (severity "warning") about one input."""

    severity: str
    variable: str
    value: str
    problem: str
    fix: str
    host: str | None = None

    def __str__(self) -> str:
        where = f"host {self.host}: " if self.host else ""
        return f"{where}{self.variable}={self.value!s}: {self.problem}. Fix: {self.fix}"


@dataclass
class Material:
    """What was loaded: leaf certificate, its key, and the rest of the chain as given."""

    cert: x509.Certificate | None = None
    key: object | None = None
    chain: list[x509.Certificate] = field(default_factory=list)


# --------------------------------------------------------------------------- loading

def _load_pem_certs(data: bytes) -> list[x509.Certificate]:
    return list(x509.load_pem_x509_certificates(data)) if b"-----BEGIN CERTIFICATE-----" in data else []


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """All certificates in PEM (one or many) or a single DER certificate; ValueError if none."""
    certs = _load_pem_certs(data)
    if certs:
        return certs
    return [x509.load_der_x509_certificate(data)]


def _rsa_check_switch() -> dict:
    """The keyword that skips cryptography's RSA consistency check, where this cryptography has it (39 and
    later; an empty key is refused with ValueError then, TypeError before), else none: keys are validated."""
    try:
        serialization.load_pem_private_key(b"", password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        return {}
    except ValueError:
        return {"unsafe_skip_rsa_key_validation": True}
    return {}  # pragma: no cover


_SKIP_RSA_CHECK = _rsa_check_switch()


def load_private_key(data: bytes, passphrase: str | None = None, validate: bool = True):
    """validate=False skips cryptography's RSA consistency check (a third of a second for RSA 4096): only for
    keys the certificates role made itself; the key-pair match with the certificate is checked either way."""
    pw = passphrase.encode() if passphrase else None
    load = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    return load(data, password=pw, **({} if validate else _SKIP_RSA_CHECK))


def _public_der(obj) -> bytes:
    return obj.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(cert: x509.Certificate, key) -> bool:
    """True when the private key belongs to the certificate (public keys are identical)."""
    return _public_der(cert.public_key()) == _public_der(key.public_key())


# --------------------------------------------------------------------------- names

def certificate_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) from the subject alternative name extension."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _dns_covered(name: str, patterns: Iterable[str]) -> bool:
    name = name.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.rstrip(".")
        if pattern == name:
            return True
        # RFC 6125: a wildcard stands for exactly one left-most label.
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def uncovered_names(cert: x509.Certificate, names: Iterable[str]) -> list[str]:
    """The names/addresses clients use that the certificate does not cover (IPs need IP SANs)."""
    dns, ips = certificate_names(cert)
    missing = []
    for name in names:
        name = str(name).strip()
        if not name:
            continue
        try:
            ip = ipaddress.ip_address(name)
        except ValueError:
            if not _dns_covered(name, dns):
                missing.append(name)
            continue
        if str(ip) not in ips:
            missing.append(name)
    return missing


def split_names(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Sorted unique (DNS names, IP addresses), as a CSR's subjectAltName wants them."""
    dns, ips = set(), set()
    for name in names:
        name = str(name).strip()
        if not name:
            continue
        try:
            ips.add(str(ipaddress.ip_address(name)))
        except ValueError:
            dns.add(name.lower())
    return sorted(dns), sorted(ips, key=lambda a: ipaddress.ip_address(a))


def subject_alt_names(names: Iterable[str]) -> list[str]:
    """community.crypto style SAN list: ["DNS:name", "IP:1.2.3.4"], DNS first, stable order."""
    dns, ips = split_names(names)
    return [f"DNS:{n}" for n in dns] + [f"IP:{a}" for a in ips]


# --------------------------------------------------------------------------- chain

def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    return _signed_by(cert, cert)


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


# Debian's (and others') system bundle holds old roots with a serial number that is not positive: python
# cryptography warns on each, on every check of every host (issue 20, item 9). They are the operating system's
# roots, not the site's certificates: only this warning, only while reading the system bundle, is silenced.
_SYSTEM_ROOT_SERIAL_WARNING = r"Parsed a serial number which wasn't positive"


def _load_system_anchors(data: bytes) -> list[x509.Certificate]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SYSTEM_ROOT_SERIAL_WARNING, category=CryptographyDeprecationWarning)
        certificates = _load_pem_certs(data)
        for cert in certificates:
            _ = cert.extensions  # parsed (and warned about) lazily: do it inside the filter
    return certificates


def load_trust_anchors(extra_files: Sequence[str] = (), use_system: bool = True) -> list[x509.Certificate]:
    anchors: list[x509.Certificate] = []
    files = [(name, False) for name in extra_files] + [(name, True) for name in (SYSTEM_TRUST_FILES if use_system
                                                                               else ())]
    for name, system in files:
        path = Path(name)
        if path.is_file() and path.stat().st_size <= MAX_TLS_FILE_BYTES:
            try:
                data = path.read_bytes()
                anchors.extend(_load_system_anchors(data) if system else _load_pem_certs(data))
            except ValueError:
                continue
    return anchors


def build_chain(leaf: x509.Certificate, pool: Sequence[x509.Certificate],
                anchors: Sequence[x509.Certificate]) -> tuple[list[x509.Certificate], bool, str]:
    """Follow issuers from the leaf through `pool` (the given chain).

    Returns (path, complete, why_not). Complete means the path ends at a self-signed certificate
    or at a certificate issued by a trust anchor; each link's signature is verified.
    """
    path = [leaf]
    current = leaf
    for _ in range(len(pool) + 1):
        if _self_signed(current):
            return path, True, ""
        if any(a.subject == current.issuer and _signed_by(current, a) for a in anchors):
            return path, True, ""
        issuers = [c for c in pool if c.subject == current.issuer and c not in path]
        signed = [c for c in issuers if _signed_by(current, c)]
        if not signed:
            if issuers:
                return path, False, (f"the certificate for {current.issuer.rfc4514_string()} in the chain did not "
                                     f"sign {current.subject.rfc4514_string()}")
            return path, False, f"no certificate for the issuer {current.issuer.rfc4514_string()}"
        current = signed[0]
        path.append(current)
    return path, False, "the chain loops"


# --------------------------------------------------------------------------- time

def _utc(value: _dt.datetime) -> _dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def days_left(cert: x509.Certificate, now: _dt.datetime) -> int:
    return (cert.not_valid_after_utc - _utc(now)).days


# --------------------------------------------------------------------------- the check

@dataclass
class CheckInput:
    """Where the certificate came from, by variable name, so every issue can name them."""

    cert_file: str | None = None
    key_file: str | None = None
    chain_file: str | None = None
    pfx_file: str | None = None
    pfx_password: str | None = None
    key_passphrase: str | None = None
    trust_files: Sequence[str] = ()
    use_system_trust: bool = True
    names: Sequence[str] = ()
    warning_days: int = 30
    host: str | None = None
    # False only for a key the certificates role made on this controller (see load_private_key).
    validate_key: bool = True
    # The bytes of each file, when the caller already read them (e.g. through Ansible Vault).
    contents: dict = field(default_factory=dict)


@dataclass
class CheckResult:
    errors: list[CertIssue] = field(default_factory=list)
    warnings: list[CertIssue] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# A certificate chain, key or PFX is a few kilobytes; a system CA bundle about 200 KB.
MAX_TLS_FILE_BYTES = 4 * 1024 * 1024


def _read(inp: CheckInput, variable: str, path: str | None, result: CheckResult) -> bytes | None:
    if path in inp.contents:
        return inp.contents[path]
    p = Path(path)
    if not p.is_file():
        result.errors.append(CertIssue("error", variable, path, "the file does not exist or is not a regular file",
                                       f"point {variable} at an existing file on the controller", inp.host))
        return None
    try:
        size = p.stat().st_size
        if size > MAX_TLS_FILE_BYTES:
            # Measured before it is read: a 2 GB file was read whole (issue 23, class 5).
            result.errors.append(CertIssue("error", variable, path, f"is {size} bytes, more than {MAX_TLS_FILE_BYTES}",
                                           f"point {variable} at the PEM or PFX file itself (a certificate chain "
                                           "is a few kilobytes)", inp.host))
            return None
        with p.open("rb") as handle:
            return handle.read(MAX_TLS_FILE_BYTES + 1)
    except OSError as exc:
        result.errors.append(CertIssue("error", variable, path, f"cannot read it ({exc.strerror})",
                                       "make it readable by the user running ansible-playbook", inp.host))
        return None


def _load(inp: CheckInput, result: CheckResult) -> Material:
    mat = Material()
    err = result.errors
    if inp.pfx_file:
        data = _read(inp, "vms_tls_pfx_file", inp.pfx_file, result)
        if data is None:
            return mat
        password = inp.pfx_password.encode() if inp.pfx_password else None
        try:
            bundle = pkcs12.load_pkcs12(data, password)
        except ValueError:
            err.append(CertIssue("error", "vms_tls_pfx_password", "(vaulted)",
                                 f"cannot open the PFX file {inp.pfx_file}: the password is wrong or the file is not "
                                 "PKCS#12",
                                 "set vms_tls_pfx_password (in Ansible Vault) to the PFX export password, "
                                 "or export the PFX again", inp.host))
            return mat
        if bundle.cert is None or bundle.key is None:
            err.append(CertIssue("error", "vms_tls_pfx_file", inp.pfx_file,
                                 "the PFX holds no certificate with its private key",
                                 "export the certificate WITH its private key (\"Yes, export the private key\")",
                                 inp.host))
            return mat
        mat.cert, mat.key = bundle.cert.certificate, bundle.key
        mat.chain = [c.certificate for c in bundle.additional_certs]
        return mat

    for variable, path in (("vms_tls_cert_file", inp.cert_file), ("vms_tls_key_file", inp.key_file)):
        if not path:
            err.append(CertIssue("error", variable, "(unset)", "vms_tls_mode is 'provided' but this file is not given",
                                 f"set {variable} (PEM) or give vms_tls_pfx_file + vms_tls_pfx_password", inp.host))
    cert_data = _read(inp, "vms_tls_cert_file", inp.cert_file, result) if inp.cert_file else None
    key_data = _read(inp, "vms_tls_key_file", inp.key_file, result) if inp.key_file else None
    if cert_data is not None:
        try:
            certs = load_certificates(cert_data)
            mat.cert, mat.chain = certs[0], certs[1:]
        except ValueError:
            err.append(CertIssue("error", "vms_tls_cert_file", inp.cert_file, "it holds no PEM or DER certificate",
                                 "give the server certificate in PEM (-----BEGIN CERTIFICATE-----)", inp.host))
    if key_data is not None:
        try:
            mat.key = load_private_key(key_data, inp.key_passphrase, inp.validate_key)
        except TypeError:
            err.append(CertIssue("error", "vms_tls_key_file", inp.key_file,
                                 "the key is encrypted and no passphrase was given, or one was given for a plain key",
                                 "set vms_tls_key_passphrase (in Ansible Vault) to the key's passphrase", inp.host))
        except (ValueError, UnsupportedAlgorithm):
            err.append(CertIssue("error", "vms_tls_key_file", inp.key_file,
                                 "it holds no readable private key (or the passphrase is wrong)",
                                 "give the unencrypted PEM key, or the right vms_tls_key_passphrase", inp.host))
    if inp.chain_file:
        chain_data = _read(inp, "vms_tls_chain_file", inp.chain_file, result)
        if chain_data is not None:
            try:
                mat.chain.extend(load_certificates(chain_data))
            except ValueError:
                err.append(CertIssue("error", "vms_tls_chain_file", inp.chain_file, "it holds no certificates",
                                     "give the intermediate CA certificates in PEM", inp.host))
    return mat


def check(inp: CheckInput, now: _dt.datetime | None = None) -> CheckResult:
    """Every problem with one certificate input, at once."""
    now = _utc(now or _dt.datetime.now(_dt.timezone.utc))
    result = CheckResult()
    mat = _load(inp, result)
    if mat.cert is None:
        return result
    cert = mat.cert
    cert_var, cert_path = ("vms_tls_pfx_file", inp.pfx_file) if inp.pfx_file else ("vms_tls_cert_file", inp.cert_file)
    key_var, key_path = ("vms_tls_pfx_file", inp.pfx_file) if inp.pfx_file else ("vms_tls_key_file", inp.key_file)
    chain_var = "vms_tls_pfx_file" if inp.pfx_file else "vms_tls_chain_file"
    chain_path = inp.pfx_file or inp.chain_file or "(unset)"
    host = inp.host

    def error(variable, value, problem, fix):
        result.errors.append(CertIssue("error", variable, value, problem, fix, host))

    dns, ips = certificate_names(cert)
    result.info = {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "days_left": days_left(cert, now),
        "dns_names": dns,
        "ip_addresses": ips,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }

    if mat.key is not None and not key_matches(cert, mat.key):
        error(key_var, key_path, f"the private key does not match the certificate {cert_path} "
              f"({cert.subject.rfc4514_string()})",
              "give the key the certificate was issued for (compare `openssl x509 -noout -pubkey` and `openssl pkey "
              "-pubout`)")

    pub = cert.public_key()
    if isinstance(pub, rsa.RSAPublicKey) and pub.key_size < MIN_RSA_BITS:
        error(cert_var, cert_path, f"the RSA key has {pub.key_size} bits, fewer than {MIN_RSA_BITS}",
              "issue the certificate for an RSA key of 2048 bits or more (or an EC P-256 key)")
    elif not isinstance(pub, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        result.warnings.append(CertIssue("warning", cert_var, cert_path, f"key type {type(pub).__name__} may not be "
                                         "accepted by every VMS client", "prefer RSA 2048+ or EC P-256", host))

    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.SERVER_AUTH not in eku:
            error(cert_var, cert_path, "the certificate is not for TLS servers (extended key usage lacks serverAuth)",
                  "issue a server (web server / TLS Web Server Authentication) certificate")
    except x509.ExtensionNotFound:
        pass

    if cert.not_valid_after_utc <= now:
        error(cert_var, cert_path, f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}",
              "renew it (vms_tls_mode: auto renews by itself) and give the new files")
    elif cert.not_valid_before_utc > now:
        error(cert_var, cert_path,
              f"the certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
              "check the controller's clock or wait until it is valid")
    elif days_left(cert, now) < inp.warning_days:
        result.warnings.append(CertIssue(
            "warning", cert_var, cert_path,
            f"the certificate expires in {days_left(cert, now)} days ({cert.not_valid_after_utc:%Y-%m-%d}), "
            f"within vms_tls_expiry_warning_days={inp.warning_days}", "renew it soon", host))

    missing = uncovered_names(cert, inp.names)
    if missing:
        have = ", ".join([f"DNS:{n}" for n in dns] + [f"IP:{a}" for a in ips]) or "none"
        error(cert_var, cert_path, f"the certificate does not cover {', '.join(missing)} that clients use "
              f"(its subject alternative names: {have})",
              "issue a certificate whose SANs include these names/addresses, or correct vms_tls_names / "
              "vms_public_name / vms_public_address")

    anchors = load_trust_anchors(inp.trust_files, inp.use_system_trust)
    path, complete, why = build_chain(cert, mat.chain, anchors)
    result.info["chain"] = [c.subject.rfc4514_string() for c in path]
    if not complete:
        error(chain_var, chain_path, f"the certificate chain is incomplete: {why}",
              "add the intermediate CA certificate(s) to vms_tls_chain_file (PEM, leaf issuer first) "
              "or name the private root in vms_tls_trust_file")
    elif _self_signed(cert):
        result.warnings.append(CertIssue("warning", cert_var, cert_path,
                                         "the certificate is self-signed: clients will warn unless they trust it",
                                         "use a CA-issued certificate or vms_tls_mode: auto and distribute the site CA",
                                         host))
    return result


# --------------------------------------------------------------------------- inventory inputs

VAULT_HEADER = b"$ANSIBLE_VAULT"
_INPUT_FILES = (("vms_tls_cert_file", "cert_file"), ("vms_tls_key_file", "key_file"),
                ("vms_tls_chain_file", "chain_file"), ("vms_tls_pfx_file", "pfx_file"))


def resolve_path(path: str, base_dir: str | None) -> str:
    """A controller path by the one rule (docs/tls.md, "Controller paths"): absolute, else relative to the
    directory of the inventory file that defines the host (Ansible's inventory_dir, which the certificates
    role joins it to as well); the working directory only when no inventory directory is known."""
    expanded = Path(path).expanduser()
    if expanded.is_absolute():
        return str(expanded)
    if base_dir:
        return str(Path(base_dir) / expanded)
    return str(expanded.resolve())


def inventory_issues(hvars: dict, base_dir: str | None = None, vaulted: str = "(vault-encrypted)",
                     now: _dt.datetime | None = None) -> list[CertIssue]:
    """The errors certs.check finds for one host's vms_tls_* inventory variables (vms_tls_mode:
    provided), for the validator: files that are missing, not certificates or keys, keys that do
    not match, expired certificates, broken chains. Names are left to the certificates stage (it
    knows every name clients use). A vault-encrypted file, or a password that is still encrypted
    (review mode), can only be checked for existence here; the certificates stage decrypts it."""
    paths = {}
    for variable, field_name in _INPUT_FILES:
        value = hvars.get(variable)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            return []  # the validator reports the type
        paths[field_name] = resolve_path(value, base_dir)
    trust = hvars.get("vms_tls_trust_file")
    inp = CheckInput(**paths, trust_files=[resolve_path(trust, base_dir)] if isinstance(trust, str) and trust else [],
                     warning_days=0)
    opaque = False
    for _variable, field_name in _INPUT_FILES:
        path = paths.get(field_name)
        if path is None:
            continue
        file = Path(path)
        if not file.is_file():
            continue  # check() reports it
        try:
            with file.open("rb") as handle:
                opaque |= handle.read(len(VAULT_HEADER)) == VAULT_HEADER
        except OSError:
            continue
    for secret, field_name in (("vms_tls_pfx_password", "pfx_password"), ("vms_tls_key_passphrase", "key_passphrase")):
        value = hvars.get(secret)
        if value == vaulted:
            opaque = True
        elif isinstance(value, str) and value:
            setattr(inp, field_name, value)
    if opaque:
        result = CheckResult()
        for variable, field_name in _INPUT_FILES:
            path = getattr(inp, field_name)
            if path is not None:
                _read(inp, variable, path, result)
        if not inp.pfx_file:
            for variable, path in (("vms_tls_cert_file", inp.cert_file), ("vms_tls_key_file", inp.key_file)):
                if not path:
                    result.errors.append(CertIssue("error", variable, "(unset)", "vms_tls_mode is 'provided' but this "
                                                   "file is not given",
                                                   f"set {variable} (PEM) or give vms_tls_pfx_file "
                                                   "+ vms_tls_pfx_password"))
        return [e for e in result.errors if "does not exist" in e.problem or "not given" in e.problem]
    return check(inp, now).errors
