"""The audit store for several gateway replicas: PostgreSQL, queue + one sequencer.

Spec: AUDIT_LOG.md §4.3 pattern (B) with (A)'s compare-and-swap inside. Replicas ``enqueue``
into an unordered ``pending`` table; the replica holding ``pg_try_advisory_lock`` (on a
dedicated session) drains it and integrates each batch in one transaction that locks the
``state`` row ``FOR UPDATE`` and checks the expected tree size, so a stalled ex-leader's
commit fails instead of forking the tree. Checkpoint publication is a CAS on the same row.

Invariants: ``leaves`` rows are never updated or deleted (triggers); a batch deletes exactly
the pending rows it integrates or rolls back; every psycopg error becomes
:class:`AuditStoreError` and the connection is re-opened on the next call. All tables live in
one schema (``schema=``), so tests and logs are isolated by schema name.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import psycopg

from redline.errors import AuditStoreError

from .store import Batch, PendingEvent, Wake

__all__ = ["PostgresLogStore", "audit_ddl", "sequencer_name"]

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.state (id int PRIMARY KEY CHECK (id = 0), size bigint NOT NULL,
    salt bytea NOT NULL, checkpoint_size bigint);
CREATE TABLE IF NOT EXISTS {s}.leaves (idx bigint PRIMARY KEY, hash bytea NOT NULL,
    entry bytea NOT NULL, pending_id bigint);
CREATE INDEX IF NOT EXISTS leaves_pending ON {s}.leaves (pending_id)
    WHERE pending_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS {s}.nodes (level int NOT NULL, idx bigint NOT NULL,
    hash bytea NOT NULL, PRIMARY KEY (level, idx));
CREATE TABLE IF NOT EXISTS {s}.requests (request_id text NOT NULL, idx bigint NOT NULL,
    PRIMARY KEY (request_id, idx));
CREATE TABLE IF NOT EXISTS {s}.checkpoints (size bigint PRIMARY KEY, note bytea NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.pending (id bigserial PRIMARY KEY, entry bytea NOT NULL,
    request_id text);
CREATE OR REPLACE FUNCTION {s}.append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'audit leaves are append-only'; END $$;
DROP TRIGGER IF EXISTS leaves_append_only ON {s}.leaves;
CREATE TRIGGER leaves_append_only BEFORE UPDATE OR DELETE ON {s}.leaves
    FOR EACH ROW EXECUTE FUNCTION {s}.append_only();
"""


def audit_ddl(schema: str) -> str:
    """The statements that create the log's tables in ``schema`` (idempotent)."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise AuditStoreError(f"invalid schema name {schema!r}")
    return _DDL.replace("{s}", schema)


def sequencer_name() -> str:
    """How this process's sequencer session names itself in ``pg_stat_activity``."""
    return f"redline-sequencer {socket.gethostname()}:{os.getpid()}"


class PostgresLogStore:
    """A :class:`~redline.audit.store.SharedLogStore` in one PostgreSQL schema.

    With ``create=False`` (a fleet replica) :meth:`open` creates nothing: the schema is made
    by ``redline db upgrade`` and a missing one is an error.
    """

    def __init__(self, url: str, *, schema: str = "redline_audit", create: bool = True) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise AuditStoreError(f"invalid schema name {schema!r}")
        self.url = url
        self.schema = schema
        self.create = create
        self._lock_key = int.from_bytes(
            hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True
        )
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock_conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._holding = False

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            if self._conn is not None and self._conn.broken:
                self._conn = None
            raise AuditStoreError(f"audit store (postgres): {exc}") from exc

    def _db(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
            self._conn.execute("SET synchronous_commit = on")
        return self._conn

    def _q(self, sql: str) -> str:
        return sql.replace("{s}", self.schema)

    def open(self) -> int:
        """Create the schema if needed; return the committed size."""
        with self._errors():
            db = self._db()
            if not self.create:
                return self.size()
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key ^ 1,))
                db.execute(self._q(_DDL).encode())
                db.execute(
                    self._q(
                        "INSERT INTO {s}.state (id, size, salt) VALUES (0, 0, %s) "
                        "ON CONFLICT (id) DO NOTHING"
                    ),
                    (os.urandom(32),),
                )
        return self.size()

    def _one(self, sql: str, params: Sequence[object] = ()) -> tuple[object, ...] | None:
        with self._errors():
            return self._db().execute(self._q(sql), params).fetchone()

    def size(self) -> int:
        """The committed tree size."""
        row = self._one("SELECT size FROM {s}.state WHERE id = 0")
        if row is None:
            raise AuditStoreError("audit store is not initialised")
        return int(str(row[0]))

    def salt(self) -> bytes:
        """The per-log body-digest salt."""
        row = self._one("SELECT salt FROM {s}.state WHERE id = 0")
        if row is None or not isinstance(row[0], bytes):
            raise AuditStoreError("audit store is not initialised")
        return row[0]

    def integrate(self, batch: Batch) -> None:
        """Commit ``batch`` atomically if the size is still ``batch.old_size`` (CAS)."""
        first, count = batch.old_size, len(batch.entries)
        pending: Sequence[int | None] = batch.pending_ids or [None] * count
        with self._errors():
            db = self._db()
            with db.transaction(), db.cursor() as cur:
                row = cur.execute(self._q("SELECT size FROM {s}.state WHERE id = 0 FOR UPDATE"))
                found = row.fetchone()
                if found is None or found[0] != first:
                    raise AuditStoreError(f"tree size moved from {first}: stale sequencer")
                copy_sql = self._q("COPY {s}.leaves (idx, hash, entry, pending_id) FROM STDIN")
                with cur.copy(copy_sql.encode()) as copy:
                    for i, (h, e, p) in enumerate(
                        zip(batch.leaf_hashes, batch.entries, pending, strict=True)
                    ):
                        copy.write_row((first + i, h, e, p))
                if batch.nodes:
                    cur.executemany(
                        self._q("INSERT INTO {s}.nodes VALUES (%s, %s, %s)"), batch.nodes
                    )
                if batch.request_ids:
                    cur.executemany(
                        self._q("INSERT INTO {s}.requests VALUES (%s, %s)"), batch.request_ids
                    )
                if batch.pending_ids:
                    cur.execute(
                        self._q("DELETE FROM {s}.pending WHERE id = ANY(%s)"),
                        (list(batch.pending_ids),),
                    )
                    if cur.rowcount != len(batch.pending_ids):
                        raise AuditStoreError("queued events were taken by another sequencer")
                cur.execute(
                    self._q("UPDATE {s}.state SET size = %s WHERE id = 0"), (first + count,)
                )
                cur.execute("SELECT pg_notify(%s, '')", (self._channel(Wake.INTEGRATED),))

    def _bytes_rows(self, sql: str, params: Sequence[object]) -> list[bytes]:
        with self._errors():
            rows = self._db().execute(self._q(sql), params).fetchall()
        return [bytes(r[0]) for r in rows if isinstance(r[0], bytes | memoryview)]

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes of tile level ``level`` in ``[start, end)``."""
        if level == 0:
            return self._bytes_rows(
                "SELECT hash FROM {s}.leaves WHERE idx >= %s AND idx < %s ORDER BY idx",
                (start, end),
            )
        return self._bytes_rows(
            "SELECT hash FROM {s}.nodes WHERE level = %s AND idx >= %s AND idx < %s ORDER BY idx",
            (level, start, end),
        )

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)``."""
        return self._bytes_rows(
            "SELECT entry FROM {s}.leaves WHERE idx >= %s AND idx < %s ORDER BY idx", (start, end)
        )

    def find_request(self, request_id: str) -> list[int]:
        """Indices logged for ``request_id``."""
        with self._errors():
            rows = (
                self._db()
                .execute(
                    self._q("SELECT idx FROM {s}.requests WHERE request_id = %s ORDER BY idx"),
                    (request_id,),
                )
                .fetchall()
            )
        return [int(str(r[0])) for r in rows]

    def latest_checkpoint(self) -> bytes | None:
        """The last saved checkpoint note."""
        row = self._one(
            "SELECT note FROM {s}.checkpoints WHERE size = "
            "(SELECT checkpoint_size FROM {s}.state WHERE id = 0)"
        )
        return None if row is None or not isinstance(row[0], bytes) else row[0]

    def save_checkpoint(self, size: int, note: bytes, *, previous_size: int | None) -> None:
        """Save ``note`` if the last saved checkpoint is still at ``previous_size`` (CAS)."""
        with self._errors():
            db = self._db()
            with db.transaction():
                row = db.execute(
                    self._q("SELECT checkpoint_size FROM {s}.state WHERE id = 0 FOR UPDATE")
                ).fetchone()
                if row is None or row[0] != previous_size:
                    raise AuditStoreError("another sequencer saved a checkpoint concurrently")
                db.execute(
                    self._q(
                        "INSERT INTO {s}.checkpoints VALUES (%s, %s) "
                        "ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note"
                    ),
                    (size, note),
                )
                db.execute(
                    self._q("UPDATE {s}.state SET checkpoint_size = %s WHERE id = 0"), (size,)
                )

    def enqueue(self, items: Sequence[tuple[bytes, str | None]]) -> list[int]:
        """Durably queue ``(entry, request_id)`` items; return their pending ids in order."""
        with self._errors():
            db = self._db()
            with db.transaction(), db.cursor() as cur:
                cur.execute(
                    self._q(
                        "SELECT nextval(pg_get_serial_sequence('{s}.pending', 'id')) "
                        "FROM generate_series(1, %s)"
                    ),
                    (len(items),),
                )
                ids = [int(str(r[0])) for r in cur.fetchall()]
                with cur.copy(
                    self._q("COPY {s}.pending (id, entry, request_id) FROM STDIN").encode()
                ) as copy:
                    for pid, (entry, request_id) in zip(ids, items, strict=True):
                        copy.write_row((pid, entry, request_id))
                cur.execute("SELECT pg_notify(%s, '')", (self._channel(Wake.QUEUED),))
        return ids

    def _channel(self, wake: Wake) -> str:
        return f"{self.schema}_{wake.value}"

    def listen(self, on_wake: Callable[[Wake], None], stop: threading.Event) -> None:
        """Deliver ``NOTIFY``s on the log's channels until ``stop`` is set (reconnecting).

        Enqueue and integrate transactions notify on commit, so the sequencer starts on a
        batch, and appenders learn their entries are in the tree, without waiting for
        their next poll.
        """
        channels = {self._channel(w): w for w in Wake}
        while not stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    for channel in channels:
                        conn.execute(f'LISTEN "{channel}"'.encode())
                    on_wake(Wake.QUEUED)  # anything queued while we were not listening
                    while not stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            wake = channels.get(note.channel)
                            if wake is not None:
                                on_wake(wake)
            except psycopg.Error:
                stop.wait(1.0)

    def pending(self, limit: int) -> list[PendingEvent]:
        """The oldest queued events."""
        with self._errors():
            rows = (
                self._db()
                .execute(
                    self._q("SELECT id, entry, request_id FROM {s}.pending ORDER BY id LIMIT %s"),
                    (limit,),
                )
                .fetchall()
            )
        return [
            PendingEvent(
                pending_id=int(str(r[0])),
                entry=bytes(r[1]),  # type: ignore[call-overload]
                request_id=None if r[2] is None else str(r[2]),
            )
            for r in rows
        ]

    def integrated(self, pending_ids: Sequence[int]) -> dict[int, tuple[int, bytes]]:
        """``pending_id -> (index, leaf hash)`` for queued events now in the tree."""
        with self._errors():
            rows = (
                self._db()
                .execute(
                    self._q(
                        "SELECT pending_id, idx, hash FROM {s}.leaves WHERE pending_id = ANY(%s)"
                    ),
                    (list(pending_ids),),
                )
                .fetchall()
            )
        return {int(str(r[0])): (int(str(r[1])), bytes(r[2])) for r in rows}  # type: ignore[call-overload]

    def acquire_sequencer(self) -> bool:
        """Hold the advisory lock on a dedicated session; ``False`` if another has it.

        The session is kept while waiting, so a follower asks again on the same connection
        (no connection per attempt); losing the session loses the lock.
        """
        try:
            if self._lock_conn is None or self._lock_conn.closed:
                self._holding = False
                self._lock_conn = psycopg.connect(
                    self.url, autocommit=True, application_name=sequencer_name()
                )
            if self._holding:
                self._lock_conn.execute("SELECT 1")  # still alive => still holding the lock
                return True
            row = self._lock_conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (self._lock_key,)
            ).fetchone()
        except psycopg.Error:
            self._drop_lock()
            return False
        self._holding = row is not None and row[0] is True
        return self._holding

    def sequencer(self) -> str | None:
        """The ``application_name`` of the session holding the sequencer lock, if any
        (``redline-sequencer <host>:<pid>``: which replica sequences now)."""
        unsigned = self._lock_key & 0xFFFFFFFFFFFFFFFF
        with self._errors():
            rows = (
                self._db()
                .execute(
                    "SELECT l.classid::bigint, l.objid::bigint, a.application_name"
                    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                    " AND l.database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
                .fetchall()
            )
        for classid, objid, name in rows:
            if (int(str(classid)) << 32) | int(str(objid)) == unsigned:
                return str(name)
        return None

    def _drop_lock(self) -> None:
        self._holding = False
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn = None

    def unsafe_drop_schema(self) -> None:
        """Delete the whole log (tests and benchmarks only)."""
        with self._errors():
            self._db().execute(self._q("DROP SCHEMA IF EXISTS {s} CASCADE"))

    def close(self) -> None:
        """Close both sessions (releasing the sequencer lock)."""
        self._drop_lock()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
