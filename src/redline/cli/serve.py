"""``redline serve``: run the gateway on uvicorn (uvloop + httptools)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys

from redline.cli.common import add_data_dir_argument, load_settings
from redline.settings import Settings

__all__ = ["register"]

_STARTUP_FAILURE = 3  # uvicorn's exit code when the server could not start


def register(parser: argparse.ArgumentParser, name: str) -> None:
    add_data_dir_argument(parser)
    parser.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8080)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from redline.bootstrap import build_app
    from redline.gateway.tls import server_config

    settings = load_settings(args, host=args.host, port=args.port)
    # Request log lines are JSON objects (see gateway/app.py); this prefix keeps them greppable.
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    _bootstrap_key(settings)
    scheme = "https" if settings.tls else "http"
    mtls = " with client certificates" if settings.tls and settings.tls.client_ca else ""
    print(
        f"redline: serving on {scheme}://{settings.host}:{settings.port}{mtls} "
        f"(data dir {settings.data_dir})",
        file=sys.stderr,
    )
    # uvicorn.run minus reload/workers, which Redline does not use; server_config carries
    # the TLS wiring (gateway/tls.py) so that tests run exactly what production runs.
    server = uvicorn.Server(server_config(build_app(settings), settings))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C after a graceful shutdown
        server.run()
    return 0 if server.started else _STARTUP_FAILURE


def _bootstrap_key(settings: Settings) -> None:
    """On a fresh data directory, issue one key so the first run is usable at once."""
    from redline.store.keys import SqliteKeyStore

    store = SqliteKeyStore(settings.data_dir / "keys.db")
    try:
        if store.list():
            return
        issued = store.create(tenant="default", label="bootstrap")
    finally:
        store.close()
    print(
        "redline: first start: created an API key for tenant 'default' (shown once):\n"
        f"    {issued.plaintext}\n"
        "  (manage keys with `redline keys create|list|revoke`)",
        file=sys.stderr,
    )
