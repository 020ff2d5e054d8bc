"""A throwaway PKI for TLS tests: CAs, server and client certificates, a CRL (PEM files)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    """A certificate and its key on disk."""

    cert: Path
    key: Path
    serial: int


def name(cn: str, org: str = "Agency", country: str = "US") -> x509.Name:
    """``CN=<cn>,O=<org>,C=<country>`` in RFC 4514 order (written C, O, CN in the cert)."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


class Authority:
    """A self-signed CA that issues certificates and CRLs into ``directory``."""

    def __init__(self, directory: Path, label: str) -> None:
        self.directory = directory
        self.label = label
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = name(f"{label} CA", org="Test PKI")
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + 30 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(ski, critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = directory / f"{label}-ca.pem"
        self.cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        file_stem: str,
        subject: x509.Name,
        *,
        server: bool = False,
        not_before: dt.datetime = NOW - DAY,
        not_after: dt.datetime = NOW + 10 * DAY,
    ) -> Issued:
        """A leaf certificate (client, or server for 127.0.0.1/localhost)."""
        key = ec.generate_private_key(ec.SECP256R1())
        serial = x509.random_serial_number()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
        cert = builder.sign(self.key, hashes.SHA256())
        cert_path = self.directory / f"{file_stem}.pem"
        key_path = self.directory / f"{file_stem}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return Issued(cert=cert_path, key=key_path, serial=serial)

    def crl(self, revoked: list[int]) -> Path:
        """A CRL revoking ``revoked`` serials, valid for a day."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.name)
            .last_update(NOW - dt.timedelta(minutes=5))
            .next_update(NOW + DAY)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(x509.CRLNumber(1), critical=False)
        )
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(NOW - dt.timedelta(minutes=1))
                .build()
            )
        path = self.directory / f"{self.label}.crl"
        path.write_bytes(
            builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        )
        return path


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
