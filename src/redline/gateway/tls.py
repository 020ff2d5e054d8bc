"""HTTPS and mutual TLS for the gateway on uvicorn (``[tls]`` in the configuration).

Two things uvicorn 0.54 does not do on its own, and how they are done here:

1. **Revocation.** uvicorn builds its ``SSLContext`` from file names and has no CRL
   option. :func:`server_config` passes an ``ssl_context_factory`` that takes uvicorn's
   default context (certificate chain, ``CERT_REQUIRED``, client CA) and adds the CRL
   with ``VERIFY_CRL_CHECK_LEAF``, plus a TLS 1.2 floor. Certificates from another CA,
   expired or not yet valid ones, and (with a CRL) revoked ones therefore fail the
   handshake itself: no HTTP request is ever read from such a connection. With a CRL
   configured, a CRL past its ``nextUpdate`` makes every handshake fail (fail closed).
2. **Handing the peer certificate to the app.** uvicorn's HTTP protocols do not put
   TLS details into the ASGI scope. :class:`TlsHttpToolsProtocol` (a subclass of
   uvicorn's httptools protocol, the one ``redline serve`` runs) reads the verified leaf
   certificate once per connection in ``connection_made`` (the handshake is complete
   by then) and adds the ASGI TLS extension (``scope["extensions"]["tls"]``,
   https://asgi.readthedocs.io/en/latest/specs/tls.html) to every request scope.
   Python 3.11's ``ssl`` exposes only the leaf, so ``client_cert_chain`` holds one PEM
   certificate. A pure ASGI middleware cannot do this: it never sees the transport.

The subclass relies on two uvicorn internals (``on_message_begin`` builds ``self.scope``;
``connection_made`` receives the transport); ``tests/integration/test_mtls.py`` fails if
an upgrade changes either.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

import uvicorn
from cryptography import x509
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from redline.errors import ConfigError
from redline.settings import Settings, TlsConfig

__all__ = ["TlsHttpToolsProtocol", "server_config", "ssl_context_factory"]

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

ContextFactory = Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]


def server_config(app: ASGIApp, settings: Settings, *, loop: str = "uvloop") -> uvicorn.Config:
    """The uvicorn configuration ``redline serve`` runs (tests run the same one)."""
    tls = settings.tls
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop=loop,
        http=TlsHttpToolsProtocol if tls else "httptools",
        access_log=False,
        log_config=None,  # uvicorn's lines go through the root handler (JSON or text)
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
        ssl_certfile=tls.certfile if tls else None,
        ssl_keyfile=tls.keyfile if tls else None,
        ssl_ca_certs=tls.client_ca if tls else None,
        ssl_cert_reqs=ssl.CERT_REQUIRED if tls and tls.client_ca else ssl.CERT_NONE,
        ssl_context_factory=ssl_context_factory(tls) if tls else None,
    )


def ssl_context_factory(tls: TlsConfig) -> ContextFactory:
    """Wrap uvicorn's default server context: TLS ≥ 1.2 and the CRL, if any.

    The factory raises :class:`ConfigError` when a file does not load (uvicorn calls it
    at start-up, so the server does not start).
    """

    def build(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        try:
            context = default()
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if tls.crl is not None:
                context.load_verify_locations(cafile=tls.crl)
                context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"[tls]: cannot build the TLS server context: {exc}") from exc
        return context

    return build


class TlsHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus the ASGI TLS scope extension (module docstring)."""

    _tls: dict[object, object] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._tls = _tls_extension(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": dict(self._tls)}


def _tls_extension(transport: asyncio.Transport) -> dict[object, object] | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    name: str | None = None
    if der:
        chain.append(ssl.DER_cert_to_PEM_cert(der))
        name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(version) if version else None,
        "cipher_suite": None,
    }
