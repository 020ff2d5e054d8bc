"""Kill-switch persistence and broadcast: SQLite, PostgreSQL, Redis pub/sub.

The store keeps one row: the halt state as opaque JSON (``redline.policy.HaltState.to_json``;
this layer sits below ``policy`` and never parses it), a **version** counter and an audit
backlog. Channels tell other replicas that the version moved; they carry only the version
number, never the state, so a lost or forged message can at worst cause an extra read.

Invariants:

* every successful :meth:`HaltStore.swap` increments the version by exactly one; a swap
  whose ``expected_version`` is not the stored one changes nothing and returns ``None``
  (compare-and-swap: two replicas can never overwrite each other's transition);
* version 0 means "never written" and reads as an empty state (``state_json == ""``);
* the backlog holds audit events (JSON objects) written by a writer that could not reach
  the audit log (``redline halt --data-dir``); the gateway records them and clears it;
* every driver error becomes :class:`~redline.errors.StoreError`.

Channels (:class:`HaltChannel`) are best-effort: the gateway also polls the version, so a
dropped message delays a change by at most one poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from redline.errors import StoreError
from redline.store.sqlite import connect

if TYPE_CHECKING:  # drivers are imported when a PostgreSQL or Redis store is used
    import psycopg
    import redis.asyncio

__all__ = [
    "DEFAULT_CHANNEL",
    "HaltChannel",
    "HaltStore",
    "OnVersion",
    "PostgresHaltChannel",
    "PostgresHaltStore",
    "RedisHaltChannel",
    "SqliteHaltStore",
    "StoredHalts",
]

logger = logging.getLogger(__name__)

DEFAULT_CHANNEL = "redline:halt"
_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_RECONNECT_S = (0.1, 0.5, 1.0, 2.0, 5.0)

OnVersion = Callable[[int], Awaitable[None]]
"""Called by a channel with the version another replica announced."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredHalts:
    """The stored row: state JSON (``""`` if never written), version, audit backlog."""

    version: int
    state_json: str
    backlog: tuple[str, ...] = ()


class HaltStore(Protocol):
    """Where the halt state lives; see the module docstring for the invariants."""

    async def read(self) -> StoredHalts:
        """The current row (version 0 and empty state if nothing was ever written)."""
        ...

    async def version(self) -> int:
        """The current version only: the cheap call the poll loop makes."""
        ...

    async def swap(
        self, *, expected_version: int, state_json: str, backlog: Sequence[str] = ()
    ) -> int | None:
        """Write a new state if the version is still ``expected_version``.

        Returns:
            The new version, or ``None`` if someone else wrote first.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class HaltChannel(Protocol):
    """Tells the other replicas that the halt state changed (best effort)."""

    async def publish(self, version: int) -> None:
        """Announce ``version``. Raises :class:`StoreError` if the message was not sent."""
        ...

    async def listen(self, on_version: OnVersion) -> None:
        """Call ``on_version`` for every announcement; runs (reconnecting) until cancelled."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS halt_state (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    backlog TEXT NOT NULL DEFAULT '[]'
)
"""


class SqliteHaltStore:
    """The halt state in ``halts.db`` under the data directory (one machine).

    Several processes may share the file (the gateway and ``redline halt --data-dir``):
    the compare-and-swap is a single ``UPDATE ... WHERE version = ?`` statement.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._conn = connect(path)
            self._conn.execute(_SQLITE_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open halt store {path}: {exc}") from exc

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SqliteHaltStore:
        """The store at ``DATA_DIR/halts.db``."""
        return cls(data_dir / "halts.db")

    def read_sync(self) -> StoredHalts:
        """Synchronous :meth:`read` (CLI)."""
        with self._guard():
            row = self._conn.execute(
                "SELECT version, state, backlog FROM halt_state WHERE id = 0"
            ).fetchone()
        if row is None:
            return StoredHalts(version=0, state_json="")
        return StoredHalts(version=row[0], state_json=row[1], backlog=_backlog(row[2]))

    def swap_sync(
        self, *, expected_version: int, state_json: str, backlog: Sequence[str] = ()
    ) -> int | None:
        """Synchronous :meth:`swap` (CLI)."""
        encoded = json.dumps(list(backlog))
        with self._guard():
            if expected_version == 0:
                cursor = self._conn.execute(
                    "INSERT OR IGNORE INTO halt_state (id, version, state, backlog) "
                    "VALUES (0, 1, ?, ?)",
                    (state_json, encoded),
                )
            else:
                cursor = self._conn.execute(
                    "UPDATE halt_state SET version = version + 1, state = ?, backlog = ? "
                    "WHERE id = 0 AND version = ?",
                    (state_json, encoded, expected_version),
                )
        return expected_version + 1 if cursor.rowcount == 1 else None

    def _version_sync(self) -> int:
        with self._guard():
            row = self._conn.execute("SELECT version FROM halt_state WHERE id = 0").fetchone()
        return int(row[0]) if row else 0

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise StoreError(f"halt store {self.path}: {exc}") from exc

    async def read(self) -> StoredHalts:
        return await asyncio.to_thread(self.read_sync)

    async def version(self) -> int:
        return await asyncio.to_thread(self._version_sync)

    async def swap(
        self, *, expected_version: int, state_json: str, backlog: Sequence[str] = ()
    ) -> int | None:
        return await asyncio.to_thread(
            lambda: self.swap_sync(
                expected_version=expected_version, state_json=state_json, backlog=backlog
            )
        )

    def close(self) -> None:
        """Close the connection (synchronous, for the CLI)."""
        with self._lock:
            self._conn.close()

    async def aclose(self) -> None:
        self.close()


class PostgresHaltStore:
    """The halt state in one PostgreSQL table, shared by every replica.

    One ``psycopg.AsyncConnection`` (autocommit) is opened lazily and re-opened after a
    connection failure; psycopg serialises concurrent use of it.
    """

    def __init__(self, url: str, *, table: str = "redline_halt_state") -> None:
        if not _TABLE_NAME.fullmatch(table):
            raise StoreError(f"invalid table name {table!r}")
        self.url = url
        self.table = table
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._connect_lock = asyncio.Lock()

    async def _db(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        async with self._connect_lock:
            if self._conn is None or self._conn.closed:
                self._conn = await _psycopg().AsyncConnection.connect(self.url, autocommit=True)
                await self._conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} ("
                    "id int PRIMARY KEY CHECK (id = 0), version bigint NOT NULL, "
                    "state text NOT NULL, backlog text NOT NULL DEFAULT '[]')"
                )
            return self._conn

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        try:
            yield
        except _psycopg().Error as exc:
            if self._conn is not None and self._conn.broken:
                self._conn = None
            raise StoreError(f"halt store (postgres): {exc}") from exc

    async def read(self) -> StoredHalts:
        async with self._errors():
            db = await self._db()
            cursor = await db.execute(
                f"SELECT version, state, backlog FROM {self.table} WHERE id = 0"  # noqa: S608 - validated name
            )
            row = await cursor.fetchone()
        if row is None:
            return StoredHalts(version=0, state_json="")
        return StoredHalts(
            version=int(str(row[0])), state_json=str(row[1]), backlog=_backlog(row[2])
        )

    async def version(self) -> int:
        async with self._errors():
            db = await self._db()
            cursor = await db.execute(f"SELECT version FROM {self.table} WHERE id = 0")  # noqa: S608
            row = await cursor.fetchone()
        return int(str(row[0])) if row else 0

    async def swap(
        self, *, expected_version: int, state_json: str, backlog: Sequence[str] = ()
    ) -> int | None:
        encoded = json.dumps(list(backlog))
        async with self._errors():
            db = await self._db()
            if expected_version == 0:
                cursor = await db.execute(
                    f"INSERT INTO {self.table} (id, version, state, backlog) "  # noqa: S608
                    "VALUES (0, 1, %s, %s) ON CONFLICT (id) DO NOTHING",
                    (state_json, encoded),
                )
            else:
                cursor = await db.execute(
                    f"UPDATE {self.table} SET version = version + 1, state = %s, "  # noqa: S608
                    "backlog = %s WHERE id = 0 AND version = %s",
                    (state_json, encoded, expected_version),
                )
        return expected_version + 1 if cursor.rowcount == 1 else None

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def unsafe_drop(self) -> None:
        """Drop the table (tests only)."""
        async with self._errors():
            db = await self._db()
            await db.execute(f"DROP TABLE IF EXISTS {self.table}")


class PostgresHaltChannel:
    """Announcements over PostgreSQL ``LISTEN``/``NOTIFY`` on ``channel``."""

    def __init__(self, url: str, *, channel: str = DEFAULT_CHANNEL) -> None:
        if not channel or '"' in channel or len(channel) > 63:
            raise StoreError(f"invalid channel name {channel!r}")
        self.url = url
        self.channel = channel
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def publish(self, version: int) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await _psycopg().AsyncConnection.connect(self.url, autocommit=True)
            await self._conn.execute("SELECT pg_notify(%s, %s)", (self.channel, str(version)))
        except _psycopg().Error as exc:
            self._conn = None
            raise StoreError(f"halt broadcast (postgres): {exc}") from exc

    async def listen(self, on_version: OnVersion) -> None:
        attempt = 0
        while True:
            try:
                async with await _psycopg().AsyncConnection.connect(
                    self.url, autocommit=True
                ) as conn:
                    await conn.execute(f'LISTEN "{self.channel}"')
                    attempt = 0
                    async for notice in conn.notifies():
                        await _deliver(notice.payload, on_version)
            except _psycopg().Error as exc:
                delay = _RECONNECT_S[min(attempt, len(_RECONNECT_S) - 1)]
                attempt += 1
                logger.warning("halt LISTEN lost (%s); reconnecting in %ss", exc, delay)
                await asyncio.sleep(delay)

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


class RedisHaltChannel:
    """Announcements over Redis pub/sub on ``channel`` (default ``redline:halt``).

    A channel carries numbers only; the fleet also announces policy reloads on one of its
    own (``what="policy"`` names it in errors and logs).
    """

    def __init__(self, url: str, *, channel: str = DEFAULT_CHANNEL, what: str = "halt") -> None:
        self.url = url
        self.channel = channel
        self.what = what
        self._client: redis.asyncio.Redis | None = None

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is None:
            self._client = _redis_module().asyncio.Redis.from_url(self.url)
        return self._client

    async def publish(self, version: int) -> None:
        try:
            await self._redis().publish(self.channel, str(version))
        except _redis_module().RedisError as exc:
            raise StoreError(f"{self.what} broadcast (redis): {exc}") from exc

    async def listen(self, on_version: OnVersion) -> None:
        attempt = 0
        task = asyncio.current_task()
        while True:
            if task is not None and task.cancelling():
                # a cancellation the client library swallowed: stop here, do not reconnect
                raise asyncio.CancelledError
            pubsub = self._redis().pubsub()
            try:
                await pubsub.subscribe(self.channel)
                attempt = 0
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        data = message.get("data")
                        text = data.decode() if isinstance(data, bytes) else str(data)
                        await _deliver(text, on_version)
            except (_redis_module().RedisError, OSError) as exc:
                delay = _RECONNECT_S[min(attempt, len(_RECONNECT_S) - 1)]
                attempt += 1
                logger.warning(
                    "%s subscription lost (%s); reconnecting in %ss", self.what, exc, delay
                )
                await asyncio.sleep(delay)
            finally:
                # Bounded: closing a pub/sub blocked in a read can wait on that read.
                with contextlib.suppress(_redis_module().RedisError, OSError, TimeoutError):
                    async with asyncio.timeout(1.0):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _deliver(payload: str, on_version: OnVersion) -> None:
    try:
        version = int(payload)
    except ValueError:
        logger.warning("ignoring malformed halt announcement (%d bytes)", len(payload))
        return
    await on_version(version)


def _backlog(raw: object) -> tuple[str, ...]:
    try:
        items = json.loads(str(raw))
    except ValueError as exc:
        raise StoreError(f"halt store: corrupt audit backlog: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise StoreError("halt store: corrupt audit backlog")
    return tuple(items)


def _psycopg() -> Any:
    """The PostgreSQL driver, imported on first use (the embedded default never needs it)."""
    import psycopg

    return psycopg


def _redis_module() -> Any:
    """The Redis client, imported on first use."""
    import redis
    import redis.asyncio

    return redis
