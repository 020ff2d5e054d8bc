"""The embedded audit store: one SQLite file, WAL, ``synchronous=FULL``.

Spec: AUDIT_LOG.md §3.2 and §4.2. Tables: ``leaves(idx, hash, entry)``, ``nodes(level, idx,
hash)`` (tile-level nodes, byte-identical to tlog-tiles levels >= 1), ``requests(request_id,
idx)``, ``state`` (the committed size, the salt) and ``checkpoints`` (every signed head).

Invariants: each :meth:`SqliteLogStore.integrate` is one ``BEGIN IMMEDIATE`` transaction that
checks the stored size first (compare-and-swap), so two processes on one file cannot fork
the tree; with WAL + ``synchronous=FULL`` a returned commit survives power loss. All methods
run on the caller's thread; :class:`~redline.audit.log.AuditLog` uses one dedicated thread.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from redline.errors import AuditStoreError

from .store import Batch

__all__ = ["SqliteLogStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL, salt BLOB NOT NULL, checkpoint_size INTEGER);
CREATE TABLE IF NOT EXISTS leaves (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL,
    entry BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL,
    hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (request_id TEXT NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (request_id, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS leaves_immutable BEFORE UPDATE ON leaves
    BEGIN SELECT RAISE(ABORT, 'audit leaves are append-only'); END;
CREATE TRIGGER IF NOT EXISTS leaves_undeletable BEFORE DELETE ON leaves
    BEGIN SELECT RAISE(ABORT, 'audit leaves are append-only'); END;
"""


class SqliteLogStore:
    """A :class:`~redline.audit.store.LogStore` in ``<data_dir>/audit.db`` (or ``path``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> SqliteLogStore:
        """The store at ``DATA_DIR/audit.db``."""
        return cls(Path(data_dir) / "audit.db")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise AuditStoreError(f"audit store {self.path}: {exc}") from exc

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise AuditStoreError("audit store is not open")
        return self._db

    def open(self) -> int:
        """Create the file and schema if needed; return the committed size."""
        with self._errors():
            if self._db is None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                # Owner-only before SQLite creates it (its -wal and -shm files inherit the mode).
                with suppress(FileExistsError):
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA busy_timeout=5000")
                db.executescript(_SCHEMA)
                db.execute(
                    "INSERT OR IGNORE INTO state (id, size, salt) VALUES (0, 0, ?)",
                    (os.urandom(32),),
                )
                self._db = db
            return self.size()

    def size(self) -> int:
        """The committed tree size."""
        with self._errors():
            row = self.db.execute("SELECT size FROM state WHERE id = 0").fetchone()
        return int(row[0])

    def salt(self) -> bytes:
        """The per-log body-digest salt."""
        with self._errors():
            row = self.db.execute("SELECT salt FROM state WHERE id = 0").fetchone()
        return bytes(row[0])

    def integrate(self, batch: Batch) -> None:
        """Commit ``batch`` in one transaction if the size is still ``batch.old_size``."""
        db = self.db
        with self._errors():
            db.execute("BEGIN IMMEDIATE")
            try:
                (size,) = db.execute("SELECT size FROM state WHERE id = 0").fetchone()
                if size != batch.old_size:
                    raise AuditStoreError(
                        f"tree size is {size}, expected {batch.old_size}: another writer"
                    )
                first = batch.old_size
                db.executemany(
                    "INSERT INTO leaves (idx, hash, entry) VALUES (?, ?, ?)",
                    zip(
                        range(first, first + len(batch.entries)),
                        batch.leaf_hashes,
                        batch.entries,
                        strict=True,
                    ),
                )
                db.executemany("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", batch.nodes)
                db.executemany(
                    "INSERT INTO requests (request_id, idx) VALUES (?, ?)", batch.request_ids
                )
                db.execute("UPDATE state SET size = ? WHERE id = 0", (first + len(batch.entries),))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes of tile level ``level`` in ``[start, end)``."""
        with self._errors():
            if level == 0:
                rows = self.db.execute(
                    "SELECT hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
                ).fetchall()
            else:
                rows = self.db.execute(
                    "SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
                    (level, start, end),
                ).fetchall()
        return [bytes(r[0]) for r in rows]

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)``."""
        with self._errors():
            rows = self.db.execute(
                "SELECT entry FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def find_request(self, request_id: str) -> list[int]:
        """Indices logged for ``request_id``."""
        with self._errors():
            rows = self.db.execute(
                "SELECT idx FROM requests WHERE request_id = ? ORDER BY idx", (request_id,)
            ).fetchall()
        return [int(r[0]) for r in rows]

    def latest_checkpoint(self) -> bytes | None:
        """The last saved checkpoint note."""
        with self._errors():
            row = self.db.execute(
                "SELECT note FROM checkpoints WHERE size = (SELECT checkpoint_size FROM state)"
            ).fetchone()
        return None if row is None else bytes(row[0])

    def save_checkpoint(self, size: int, note: bytes, *, previous_size: int | None) -> None:
        """Save ``note`` if the last saved checkpoint is still at ``previous_size``."""
        db = self.db
        with self._errors():
            db.execute("BEGIN IMMEDIATE")
            try:
                (current,) = db.execute("SELECT checkpoint_size FROM state").fetchone()
                if current != previous_size:
                    raise AuditStoreError("another writer saved a checkpoint concurrently")
                db.execute(
                    "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)", (size, note)
                )
                db.execute("UPDATE state SET checkpoint_size = ? WHERE id = 0", (size,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            self._db.close()
            self._db = None
