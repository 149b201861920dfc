"""A demo certificate authority and the bureau's demo signing certificate, for development and tests only.

Production signs with the bureau's own certificate (a PKCS#12 file and its password from the
environment); `claims seed --demo` and the test suite create these instead, under the data directory
(var/, never in git). Every name in them says 演示 / DEMO so nobody mistakes one for a real seal.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

DEMO_PASSWORD = "demo-only-not-a-secret"  # the demo key protects nothing; a real one comes from the environment
DEMO_CA_NAME = "DEMO CA 演示根证书（仅供演示）"
DEMO_SIGNER_NAME = "市财政局（演示签章 DEMO）"


@dataclass(frozen=True)
class DemoCredentials:
    """Where the demo files are: the signer's PKCS#12 (with the CA inside) and the CA certificate as PEM."""

    p12: Path
    ca_pem: Path
    password: str = DEMO_PASSWORD


def demo_paths(data_dir: Path) -> DemoCredentials:
    """The demo files' locations under a data directory."""
    folder = data_dir / "signing"
    return DemoCredentials(p12=folder / "demo-bureau-signer.p12", ca_pem=folder / "demo-ca.pem")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DEMO 演示"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key, signing_key, *, ca: bool, days: int,
                 issuer_key=None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                                            crl_sign=ca, encipher_only=False, decipher_only=False), critical=True))
    if issuer_key is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key),
                                        critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def ensure_demo_credentials(data_dir: Path) -> tuple[DemoCredentials, bool]:
    """The demo CA and signing certificate, created on first use; (their files, whether they were created now)."""
    paths = demo_paths(data_dir)
    if paths.p12.is_file() and paths.ca_pem.is_file():
        return paths, False
    paths.p12.parent.mkdir(parents=True, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = _certificate(_name(DEMO_CA_NAME), _name(DEMO_CA_NAME), ca_key.public_key(), ca_key, ca=True,
                           days=3650)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _certificate(_name(DEMO_SIGNER_NAME), ca_cert.subject, key.public_key(), ca_key, ca=False, days=825,
                        issuer_key=ca_key.public_key())
    bundle = pkcs12.serialize_key_and_certificates(
        b"demo-bureau-signer", key, cert, [ca_cert],
        serialization.BestAvailableEncryption(paths.password.encode()))
    # Written under temporary names and renamed, so a concurrent first use never reads half a file.
    for path, data in ((paths.ca_pem, ca_cert.public_bytes(serialization.Encoding.PEM)), (paths.p12, bundle)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return paths, True
