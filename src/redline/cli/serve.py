"""``redline serve``: run the gateway on uvicorn (uvloop + httptools).

Start-up, in order:

1. settings (``--config`` or ``$REDLINE_CONFIG``, the environment, the flags): a bad value
   exits 2 naming the key;
2. the data directory (created 0700) and the listening socket, bound here so that
   ``--port 0`` lets the OS pick a free port (no race between choosing and binding);
3. the application's start-up (stores, audit log, policy, safety stack): a failure prints
   one line naming what was wrong, no traceback, and exits 2 (configuration or policy) or
   3 (the environment: a store, a file, the safety-stack artifacts);
4. only then, on a data directory that holds no key at all, the **bootstrap key** is
   created and printed, followed by the line every script can wait for::

       redline: serving on http://127.0.0.1:8080 (data dir /home/op/.local/share/redline)

   (with the bound port when ``--port 0`` was given).

A start that fails therefore never creates the bootstrap key: the first start that
succeeds prints it. Exit codes: 0 after a clean shutdown (Ctrl-C, SIGTERM), 2 and 3 as
above, 4 an internal error (a bug).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import socket
import stat
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from redline.cli.common import UsageError, add_data_dir_argument, load_settings
from redline.settings import Settings

__all__ = ["register"]

_CONFIG_FAILURE = 2  # configuration or policy: the operator's input names the fix
_START_FAILURE = 3  # the environment: port in use, unwritable data directory, store down
_BACKLOG = 2048  # uvicorn's default

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    add_data_dir_argument(parser)
    parser.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port (default 8080; 0: the OS picks a free one, printed when serving)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing the port, each a replica of the fleet "
        "(needs REDLINE_DATABASE_URL and REDLINE_REDIS_URL; default 1)",
    )
    parser.set_defaults(handler=run)


_SWITCH_INTERVAL_S = 0.0005
# The cyclic collector's youngest generation is collected after this many net container
# allocations (CPython's default is 700). A request allocates thousands of short-lived
# containers, nearly all freed by reference counting; collecting every 700 traverses the
# live objects of every request in flight again and again. Cyclic garbage still goes, a
# little later.
_GC_YOUNG_THRESHOLD = 20_000


def run(args: argparse.Namespace) -> int:
    from redline.observability.logs import configure_logging
    from redline.store.sqlite import create_private_dir

    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be in 0..65535 (0: any free port), got {args.port}")
    if not 1 <= args.workers <= 64:
        raise UsageError(f"--workers must be in 1..64, got {args.workers}")
    settings = load_settings(args, host=args.host, port=args.port or None)
    if args.workers > 1 and not settings.database_url:
        raise UsageError(
            "--workers N runs N replicas of a fleet on one port: set REDLINE_DATABASE_URL and "
            "REDLINE_REDIS_URL (after `redline db upgrade`); the embedded SQLite default "
            "serves from one process"
        )
    # One JSON object per line by default (REDLINE_LOG_FORMAT=text for a terminal).
    configure_logging(settings.log_level, settings.log_format)
    _check_routes(settings, args.config)
    # Screening of long requests runs on threads; a short GIL switch interval keeps the
    # event loop (and every small request) responsive while they run.
    sys.setswitchinterval(_SWITCH_INTERVAL_S)
    try:
        create_private_dir(settings.data_dir)
    except OSError as exc:
        return _failed(f"cannot create the data directory {settings.data_dir}: {exc.strerror}")
    _warn_if_shared(settings.data_dir)
    port = 0 if args.port == 0 else settings.port
    try:
        listener = socket.create_server(
            (settings.host, port),
            family=socket.AF_INET6 if ":" in settings.host else socket.AF_INET,
            backlog=_BACKLOG,
        )
    except OSError as exc:
        return _failed(f"cannot listen on {settings.host}:{port}: {exc.strerror or exc}")
    settings = dataclasses.replace(settings, port=listener.getsockname()[1])
    if args.workers > 1:
        from redline.cli.workers import supervise

        return supervise(
            args.workers,
            listener,
            serve=lambda started: _serve(settings, listener, started),
            announce=lambda: _announce(settings, workers=args.workers),
        )
    return _serve(settings, listener, lambda: _announce(settings))


def _serve(settings: Settings, listener: socket.socket, started: Callable[[], None]) -> int:
    """Run the app on ``listener`` until shutdown; ``started`` once start-up succeeded."""
    import uvicorn

    from redline.bootstrap import build_app
    from redline.gateway.tls import server_config

    watch = _StartupWatch(build_app(settings), on_started=started)
    # uvicorn.run minus reload/workers, which Redline does not use; server_config carries
    # the TLS wiring (gateway/tls.py) so that tests run exactly what production runs.
    server = uvicorn.Server(server_config(watch, settings))
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C after a graceful shutdown
            server.run(sockets=[listener])
    except SystemExit:  # uvicorn exits 3 when the application did not start
        if watch.error is None:
            raise
    finally:
        listener.close()
    if watch.error is not None:
        return _start_failed(watch.error)
    return 0 if server.started else _START_FAILURE


def _check_routes(settings: Settings, config: Path | None) -> None:
    """Refuse a route with an unknown accreditation before anything is created, naming it."""
    from redline.access import route_ceiling
    from redline.errors import ConfigError

    for model, route in settings.routes.items():
        try:
            route_ceiling(route.accreditation, sci_systems=route.sci_systems)
        except ConfigError as exc:
            where = f"{config}: " if config else ""
            raise ConfigError(f"{where}[[routes]] model {model!r}: accreditation: {exc}") from None


def _warn_if_shared(data_dir: Path) -> None:
    mode = stat.S_IMODE(data_dir.stat().st_mode)
    if mode & 0o077:
        print(
            f"redline: warning: the data directory {data_dir} is open to group or others "
            f"(mode {mode:04o}); it holds keys and the audit log: chmod 700 {data_dir}",
            file=sys.stderr,
        )


def _announce(settings: Settings, *, workers: int = 1) -> None:
    """Start-up succeeded: issue the bootstrap key if needed, then say where we serve."""
    _bootstrap_key(settings)
    scheme = "https" if settings.tls else "http"
    mtls = " with client certificates" if settings.tls and settings.tls.client_ca else ""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    processes = f", {workers} worker processes" if workers > 1 else ""
    print(
        f"redline: serving on {scheme}://{host}:{settings.port}{mtls} "
        f"(data dir {settings.data_dir}{processes})",
        file=sys.stderr,
        flush=True,
    )


def _bootstrap_key(settings: Settings) -> None:
    """On a key store without any key, issue one so the first run is usable at once.

    Not on a fleet: replicas starting together would each issue one; the operator creates
    the fleet's keys with ``redline keys create`` (it uses ``REDLINE_DATABASE_URL``).
    """
    from redline.store.keys import SqliteKeyStore

    if settings.database_url:
        return

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
        flush=True,
    )


def _settle_heap() -> None:
    """After start-up: move what start-up built (models, tables, policy, compiled patterns,
    ~100k objects that live as long as the process) out of the cyclic collector's sight, so
    that a full collection no longer traverses them, and collect the youngest generation
    less often (:data:`_GC_YOUNG_THRESHOLD`).

    Measured with short requests at 32 concurrent: the collector took ~0.28 ms of CPU per
    request (one full collection ~85 ms every ~500 requests, young ones the rest), ~0.02 ms
    after this; judgements are not touched."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, middle, oldest)


def _failed(message: str) -> int:
    print(f"redline serve: error: {message}", file=sys.stderr)
    return _START_FAILURE


def _start_failed(exc: BaseException) -> int:
    """Report why the application did not start: one line, no traceback."""
    from redline.errors import ConfigError, GatewayError, PolicyError

    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, ConfigError | PolicyError):
        code = _CONFIG_FAILURE
    elif isinstance(exc, GatewayError | OSError):
        code = _START_FAILURE
    else:
        raise exc  # a bug: main() reports it as an internal error
    print(
        f"redline serve: error: the gateway did not start: {exc}\n"
        "redline serve: nothing was served and no API key was created; fix the above and "
        "start again",
        file=sys.stderr,
    )
    return code


class _StartupWatch:
    """The app, wrapped to learn how its start-up ended.

    It calls ``on_started`` when the app reports start-up complete (before uvicorn serves
    the socket), keeps the exception of a failed start-up, and replaces the traceback the
    app hands uvicorn for logging with nothing (``redline serve`` prints one line instead).
    """

    def __init__(self, app: App, *, on_started: Callable[[], None]) -> None:
        self.app = app
        self.on_started = on_started
        self.error: BaseException | None = None
        self.started = False

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def watched(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                _settle_heap()
                self.on_started()
                self.started = True
            elif message["type"] == "lifespan.startup.failed":
                message = {"type": "lifespan.startup.failed", "message": ""}
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except BaseException as exc:
            if not self.started:
                self.error = exc
            raise
