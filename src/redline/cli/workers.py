"""``redline serve --workers N``: N worker processes on one listening socket, each a replica
of the fleet.

Each worker runs the whole gateway, exactly as one ``redline serve`` of the fleet does: it
passes the fleet's start-up checks, joins the replica register and takes part in the audit
sequencer election, so the workers of one host share keys, reviews, halts and the one audit
log through PostgreSQL and Redis (docs/FLEET.md). The embedded SQLite default is one
process: ``--workers`` above 1 without a fleet is refused by ``redline serve``.

The supervisor (this process) binds the socket, forks the workers, and prints the
``serving on`` line once every worker has started. A worker that fails to start stops them
all (the exit code is the worker's); a worker that dies later (even by SIGKILL) is replaced
after a second, while the others keep serving and one of them takes the audit sequencer
over if the dead one held it. SIGTERM or Ctrl-C stops every worker gracefully. Linux and
other POSIX systems only (``os.fork``), forked before any thread or event loop exists.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType

__all__ = ["supervise"]

_RESTART_DELAY_S = 1.0


def supervise(
    count: int,
    listener: socket.socket,
    *,
    serve: Callable[[Callable[[], None]], int],
    announce: Callable[[], None],
) -> int:
    """Run ``count`` workers calling ``serve(started)`` on the shared ``listener``.

    Returns:
        0 after a clean stop, else the exit code of the worker that failed to start.
    """
    ready_r, ready_w = os.pipe()

    def spawn() -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        code = 4
        try:  # the worker: default signal handlers until uvicorn installs its own
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.close(ready_r)
            code = serve(lambda: _say_ready(ready_w))
        except BaseException as exc:  # noqa: BLE001 - a worker reports and exits, never returns
            print(f"redline serve: worker {os.getpid()}: {exc!r}", file=sys.stderr)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    workers = {spawn() for _ in range(count)}
    listener.close()  # the workers hold it
    failed = _wait_started(workers, count, ready_r)
    if failed is not None:
        _stop(workers)
        return failed
    announce()
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in workers:
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while workers:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        workers.discard(pid)
        if not stopping:
            print(
                f"redline serve: worker {pid} ended ({_describe(status)}); starting another",
                file=sys.stderr,
                flush=True,
            )
            time.sleep(_RESTART_DELAY_S)
            if not stopping:
                workers.add(spawn())
    return 0


def _say_ready(fd: int) -> None:
    os.write(fd, b"r")


def _wait_started(workers: set[int], count: int, ready_r: int) -> int | None:
    """Wait until ``count`` workers said they serve; the exit code of one that ended."""
    ready = 0
    while ready < count:
        readable, _, _ = select.select([ready_r], [], [], 0.2)
        if readable:
            ready += len(os.read(ready_r, count))
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            workers.discard(pid)
            return os.waitstatus_to_exitcode(status) or 3
    return None


def _stop(workers: set[int]) -> None:
    for pid in workers:
        _signal(pid, signal.SIGTERM)
    for pid in list(workers):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        workers.discard(pid)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"signal {-code}" if code < 0 else f"exit {code}"
