"""A lean HTTP/1.1 client with a keep-alive connection pool, for the gateway's hot path.

Why not httpx: measured in ``benchmarks/gateway_overhead.py``, httpx/httpcore spent about
half of the gateway's CPU per request (connection-pool bookkeeping polls every pooled socket
on each request), capping one gateway process near 500 requests/s at concurrency 32. This
client does only what an OpenAI-compatible upstream needs: POST with a body, responses
framed by Content-Length, chunked encoding or connection close, TLS via :mod:`ssl`,
connect and per-read timeouts, and a bounded pool of idle connections.

Invariants:
    * A connection returns to the pool only after its response was read completely and
      the server did not ask to close; anything else (error, cancellation, a consumer that
      stops early) closes it, so a half-read response can never leak into the next request.
    * Every wait on the network is bounded by the connect or read timeout.
    * A request is retried at most once, and only when nothing of the response arrived on a
      *reused* idle connection (the server had closed it) or the connection attempt failed:
      in neither case can the upstream have processed the request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

__all__ = ["ConnectFailed", "Http1Pool", "Http1Response", "ProtocolFailure", "ReadTimedOut"]

T = TypeVar("T")

_MAX_HEAD = 64 * 1024
_MAX_CHUNK_LINE = 1024


class TransportFailure(Exception):
    """Base of this module's errors (mapped to UpstreamError by the caller)."""


class ConnectFailed(TransportFailure):
    """The TCP/TLS connection could not be established in time."""


class ReadTimedOut(TransportFailure):
    """The upstream did not send the next bytes within the read timeout."""


class ProtocolFailure(TransportFailure):
    """The connection broke or the upstream sent something that is not HTTP/1.1."""


class _StaleConnection(ProtocolFailure):
    """A reused connection was closed before any response byte: safe to retry."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False

    def close(self) -> None:
        self.writer.close()


class Http1Response:
    """Status, headers and a body that must be consumed through :meth:`read` or
    :meth:`iter_bytes` (or discarded with :meth:`close`)."""

    def __init__(
        self, pool: Http1Pool, conn: _Connection, status: int, headers: dict[str, str]
    ) -> None:
        self.status = status
        self.headers = headers
        self._pool = pool
        self._conn: _Connection | None = conn
        length = headers.get("content-length")
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._length = int(length) if length is not None and length.isdigit() else None
        self._keep_alive = headers.get("connection", "").lower() != "close"

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body (or its first ``limit`` bytes, closing the connection)."""
        parts: list[bytes] = []
        size = 0
        async for chunk in self.iter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size >= limit:
                self.close()
                break
        return b"".join(parts)

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive; the connection is released when the body ends."""
        conn = self._conn
        if conn is None:
            return
        done = False
        try:
            if self._chunked:
                async for chunk in self._chunks(conn):
                    yield chunk
            elif self._length is not None:
                remaining = self._length
                while remaining > 0:
                    data = await self._pool.timed(conn.reader.read(min(remaining, 65536)))
                    if not data:
                        raise ProtocolFailure("connection closed before the end of the body")
                    remaining -= len(data)
                    yield data
            else:
                self._keep_alive = False
                while data := await self._pool.timed(conn.reader.read(65536)):
                    yield data
            done = True
        finally:
            if done and self._keep_alive:
                self._conn = None
                self._pool.release(conn)
            else:
                self.close()

    async def _chunks(self, conn: _Connection) -> AsyncIterator[bytes]:
        reader = conn.reader
        while True:
            line = await self._pool.timed(reader.readline())
            if not line.endswith(b"\n") or len(line) > _MAX_CHUNK_LINE:
                raise ProtocolFailure("connection closed inside a chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolFailure("malformed chunk size") from None
            if size == 0:
                while (await self._pool.timed(reader.readline())) not in (b"\r\n", b"\n"):
                    pass  # trailers are ignored
                return
            try:
                data = await self._pool.timed(reader.readexactly(size + 2))
            except asyncio.IncompleteReadError:
                raise ProtocolFailure("connection closed inside a chunk") from None
            yield data[:-2]

    def close(self) -> None:
        """Abandon the rest of the body; the connection is closed, never reused."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._pool.discard(conn)


class Http1Pool:
    """Keep-alive connections to one origin (scheme, host, port), at most ``max_connections``
    open at once; callers beyond that wait for a connection to be released."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        max_connections: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        self.host_header = parts.netloc.rpartition("@")[2]
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._connect_timeout = connect_timeout_s
        self._read_timeout = read_timeout_s
        self._max = max_connections
        self._open = 0
        self._idle: list[_Connection] = []
        self._waiters: deque[asyncio.Future[_Connection | None]] = deque()

    async def timed(self, awaitable: Awaitable[T]) -> T:
        """Await one network read under the read timeout, mapping failures."""
        try:
            async with asyncio.timeout(self._read_timeout):
                return await awaitable
        except TimeoutError:
            raise ReadTimedOut("the upstream sent nothing within the read timeout") from None
        except OSError as exc:
            raise ProtocolFailure(f"connection failed: {exc!r}") from None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Http1Response:
        """Send one request; return once the status line and headers have arrived.

        Raises:
            ConnectFailed, ReadTimedOut, ProtocolFailure.
        """
        head = self._head(method, path, headers, len(body))
        for attempt in (1, 2):
            conn = await self._acquire()
            try:
                conn.writer.write(head + body)
                status, response_headers = await self._read_head(conn)
            except _StaleConnection:
                self.discard(conn)
                if attempt == 2:
                    raise
                continue
            except BaseException:
                self.discard(conn)
                raise
            return Http1Response(self, conn, status, response_headers)
        raise ProtocolFailure("unreachable")  # pragma: no cover

    def _head(self, method: str, path: str, headers: dict[str, str], length: int) -> bytes:
        lines = [f"{method} {self.base_path}{path} HTTP/1.1", f"host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"content-length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _acquire(self) -> _Connection:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.reader.at_eof() and not conn.writer.is_closing():
                    conn.reused = True
                    return conn
                self.discard(conn)
            if self._open < self._max:
                return await self._connect()
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self.release(waiter.result())  # type: ignore[arg-type]
                raise
            if handed is not None:
                handed.reused = True
                return handed
            # A slot was freed: loop to open a connection.

    async def _connect(self) -> _Connection:
        self._open += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl, limit=_MAX_HEAD
                )
        except (OSError, TimeoutError) as exc:
            self._closed()
            raise ConnectFailed(f"cannot connect to {self.host}:{self.port}: {exc!r}") from exc
        except BaseException:
            self._closed()
            raise
        return _Connection(reader=reader, writer=writer)

    async def _read_head(self, conn: _Connection) -> tuple[int, dict[str, str]]:
        try:
            async with asyncio.timeout(self._read_timeout):
                raw = await conn.reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            raise ReadTimedOut("no response headers within the read timeout") from None
        except asyncio.IncompleteReadError as exc:
            if conn.reused and not exc.partial:
                raise _StaleConnection("idle connection was closed by the upstream") from None
            raise ProtocolFailure("connection closed before the response headers") from None
        except asyncio.LimitOverrunError:
            raise ProtocolFailure("response headers too large") from None
        except OSError as exc:
            if conn.reused:
                raise _StaleConnection(f"idle connection failed: {exc!r}") from None
            raise ProtocolFailure(f"connection failed: {exc!r}") from None
        lines = raw.decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)
        if len(status) < 2 or not status[0].startswith("HTTP/1.") or not status[1].isdigit():
            raise ProtocolFailure(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return int(status[1]), headers

    def release(self, conn: _Connection) -> None:
        """A response was read completely: hand the connection to a waiter or keep it idle."""
        if conn.writer.is_closing():
            self.discard(conn)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def discard(self, conn: _Connection) -> None:
        """Close a connection that must not be reused."""
        conn.close()
        self._closed()

    def _closed(self) -> None:
        self._open -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        """Close idle connections."""
        while self._idle:
            self.discard(self._idle.pop())
