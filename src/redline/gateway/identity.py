"""Who is calling: an API key, a TLS client certificate, or both.

The certificate comes from the ASGI TLS scope extension (``scope["extensions"]["tls"]``,
filled by ``gateway/tls.py``); it has been verified by the TLS handshake (client CA,
validity period, CRL) before any request is read. The app's services hold the
:class:`CertificateAuthenticator` when the gateway requires client certificates.

The rule, in one place (:func:`authenticate_request`):

========================  ==========================  ==========================================
client certificate        ``Authorization`` header    principal
========================  ==========================  ==========================================
none (or mTLS off)        any                         the API key's (401 if missing or invalid)
present                   absent                      the certificate's (401 if subject unknown)
present                   present                     the API key's, if the certificate's
                                                      subject is known **and** both belong to
                                                      the same tenant; otherwise 401
========================  ==========================  ==========================================

A key therefore narrows a certificate to one of its tenant's principals (a service account
behind a host certificate), but can never move a connection into another tenant.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

from starlette.requests import Request

from redline.domain import Principal
from redline.errors import AuthenticationError
from redline.service import Authenticator
from redline.service.certs import CertificateAuthenticator

__all__ = ["authenticate_request", "client_certificate"]


async def authenticate_request(
    request: Request, keys: Authenticator, certificates: CertificateAuthenticator | None
) -> Principal:
    """The principal of ``request`` by the rule in the module docstring.

    Args:
        request: the incoming request.
        keys: the API-key authenticator.
        certificates: client-certificate identities, when mTLS is on.

    Raises:
        AuthenticationError: no valid credential, an unknown certificate subject, or a key
            and a certificate of different tenants.
    """
    authorization = request.headers.get("authorization")
    der = client_certificate(request)
    if certificates is None or der is None:
        return await keys.authenticate(authorization)
    by_certificate = certificates.authenticate(der)
    if not authorization:
        return by_certificate
    by_key = await keys.authenticate(authorization)
    if by_key.tenant != by_certificate.tenant:
        raise AuthenticationError(
            "the API key and the client certificate belong to different tenants"
        )
    return by_key


def client_certificate(request: Request) -> bytes | None:
    """The DER leaf certificate the client presented on this connection, if any."""
    extensions = request.scope.get("extensions")
    tls = extensions.get("tls") if isinstance(extensions, Mapping) else None
    chain = tls.get("client_cert_chain") if isinstance(tls, Mapping) else None
    if not isinstance(chain, list | tuple) or not chain or not isinstance(chain[0], str):
        return None
    return ssl.PEM_cert_to_DER_cert(chain[0])
