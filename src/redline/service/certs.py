"""Resolve a TLS client certificate to a :class:`Principal` (ARCHITECTURE.md "edge").

The TLS handshake has already done the cryptography by the time a certificate gets here:
the chain ends at the configured client CA, the leaf is within its validity period and,
when a CRL is configured, not revoked (see ``gateway/tls.py``). What is left is identity:
the leaf's subject, serialised as RFC 4514 by ``x509.Name.rfc4514_string()``, is looked up
in the configured identities (``[[tls.identities]]``, keyed by the same serialisation).

Invariants:
    * A subject that is not configured is an :class:`AuthenticationError`, never a
      default principal: a certificate from the right CA is not by itself a permission.
    * Matching is exact on the normalised string; there is no wildcard and no
      case folding (fail closed on look-alike names).

Parsing is cached per DER encoding (bounded) because a keep-alive connection presents the
same certificate on every request.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography import x509

from redline.domain import Principal
from redline.errors import AuthenticationError

__all__ = ["CertificateAuthenticator", "certificate_subject"]

_MAX_CACHE = 10_000


def certificate_subject(der: bytes) -> str:
    """The subject of a DER certificate as ``x509.Name.rfc4514_string()`` writes it.

    Raises:
        AuthenticationError: ``der`` is not a certificate.
    """
    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError as exc:
        raise AuthenticationError("the client certificate could not be parsed") from exc


class CertificateAuthenticator:
    """Client-certificate subject → principal, from configured identities."""

    def __init__(self, identities: Mapping[str, Principal]) -> None:
        """Args:
        identities: principals keyed by normalised RFC 4514 subject
            (``Settings.tls.identities``).
        """
        self._identities = dict(identities)
        self._cache: dict[bytes, str] = {}

    def authenticate(self, der: bytes) -> Principal:
        """The principal configured for the subject of the (already verified) certificate.

        Raises:
            AuthenticationError: unparsable certificate or unknown subject.
        """
        subject = self._cache.get(der)
        if subject is None:
            subject = certificate_subject(der)
            if len(self._cache) >= _MAX_CACHE:
                self._cache.clear()
            self._cache[der] = subject
        principal = self._identities.get(subject)
        if principal is None:
            raise AuthenticationError("the client certificate's subject is not a known identity")
        return principal
