"""Quiet when nothing is wrong (issue 20, item 9): the controller's system trust store does not make python
cryptography warn once per host, and the site's own certificates are not silenced with it.

The expectation is the operating system's own bundle: Debian's ca-certificates holds roots whose serial
number is not positive, on which cryptography (>= 42) emits CryptographyDeprecationWarning."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from vms_deploy import certs

BUNDLE = next((Path(p) for p in certs.SYSTEM_TRUST_FILES if Path(p).is_file()), None)


def _loud_roots() -> list[x509.Certificate]:
    """The system roots cryptography warns about (read here with every warning recorded)."""
    loud = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for cert in x509.load_pem_x509_certificates(BUNDLE.read_bytes()):
            before = len(seen)
            _ = cert.extensions
            if any(issubclass(w.category, CryptographyDeprecationWarning) for w in seen[before:]):
                loud.append(cert)
    return loud


pytestmark = pytest.mark.skipif(BUNDLE is None or not _loud_roots(),
                                reason="no system trust bundle with a root cryptography warns about")


def _warnings_of(call) -> list[str]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in seen if issubclass(w.category, CryptographyDeprecationWarning)]


def test_reading_the_system_trust_store_is_quiet():
    assert _warnings_of(lambda: certs.load_trust_anchors([], use_system=True)) == []


def test_the_same_root_given_as_the_sites_trust_file_still_warns(tmp_path):
    """Only the operating system's bundle is filtered: a site's own file with such a certificate is news."""
    own = tmp_path / "site-ca.pem"
    own.write_bytes(_loud_roots()[0].public_bytes(serialization.Encoding.PEM))
    found = _warnings_of(lambda: [c.extensions for c in certs.load_trust_anchors([str(own)], use_system=False)])
    assert found and "serial number" in found[0]
