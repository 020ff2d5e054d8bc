"""Run real servers for tests: uvicorn in a thread, ``redline`` as a subprocess.

Ports always come from the OS, already bound, so two tests (or two CI jobs on one machine)
can never race for the same port:

* in-process servers listen on a socket bound to port 0 (:func:`listening_socket`) that
  uvicorn is handed as is;
* ``redline serve`` runs with ``--port 0`` and the test reads the bound address from the
  ``redline: serving on URL`` line it prints once start-up succeeded;
* "nothing listens here" addresses come from :func:`closed_port`: a port bound (not
  listening) for the rest of the session, so connections to it are refused and no other
  process can take it.
"""

from __future__ import annotations

import atexit
import contextlib
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

SERVING = re.compile(r"^redline: serving on (https?://\S+)", re.MULTILINE)
"""The line ``redline serve`` prints when it serves (cli/serve.py)."""

_RESERVED: list[socket.socket] = []


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket on a port the OS picked, bound and listening."""
    return socket.create_server((host, 0))


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens and nothing else can bind, for this session.

    The socket is bound but never listens, so a connection attempt is refused at once.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    if not _RESERVED:
        atexit.register(_release)
    _RESERVED.append(sock)
    port: int = sock.getsockname()[1]
    return port


def _release() -> None:
    for sock in _RESERVED:
        sock.close()


class ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process owns signals
        pass


@contextlib.contextmanager
def run_in_thread(config: uvicorn.Config, sock: socket.socket) -> Iterator[None]:
    """Serve ``config`` on the listening ``sock`` in a daemon thread until the block ends."""
    server = ThreadedServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 with uvicorn in a daemon thread; yield its base URL."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", loop="asyncio", lifespan="on"
    )
    with run_in_thread(config, sock):
        yield f"http://127.0.0.1:{port}"


def redline_cli(
    *args: str, env: dict[str, str], timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``redline ARGS`` as a subprocess of this interpreter (in ``cwd`` if given)."""
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class ServeProcess:
    """A running ``redline serve``: its base URL and what it printed until it served."""

    url: str
    startup_output: str
    process: subprocess.Popen[str]
    log: Path
    """Everything it printed so far (standard output and error), while it runs."""


@contextlib.contextmanager
def redline_serve_process(
    env: dict[str, str], *extra: str, config: Path | None = None, timeout: float = 60
) -> Iterator[ServeProcess]:
    """Start ``redline serve --port 0``; yield it once it serves; stop it afterwards.

    Its output goes to a temporary file (a pipe nobody reads would fill up and stall it).
    """
    args = [sys.executable, "-m", "redline", "serve", "--port", "0", *extra]
    if config is not None:
        args += ["--config", str(config)]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with log.open("w") as out:
            proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            url, output = wait_serving(proc, log, timeout)
            yield ServeProcess(url=url, startup_output=output, process=proc, log=log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def redline_server(env: dict[str, str], *extra: str, config: Path | None = None) -> Iterator[str]:
    """Start ``redline serve`` as a subprocess; yield its base URL; stop it afterwards."""
    with redline_serve_process(env, *extra, config=config) as served:
        yield served.url


def wait_serving(proc: subprocess.Popen[str], log: Path, timeout: float) -> tuple[str, str]:
    """Wait for the ``serving on`` line: (URL, output so far). Raises if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        output = log.read_text(errors="replace")
        found = SERVING.search(output)
        if found:
            return found.group(1), output
        if proc.poll() is not None:
            raise RuntimeError(f"redline serve exited early ({proc.returncode}):\n{output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"redline serve did not start serving:\n{output}")
        time.sleep(0.05)


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment without REDLINE_* variables, plus ``extra``."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINE_")}  # noqa: TID251
    env.update(extra)
    return env
