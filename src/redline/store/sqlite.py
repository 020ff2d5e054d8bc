"""Shared SQLite connection settings: WAL, synchronous=FULL, one writer at a time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["connect"]


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating parent directories) a durable SQLite database.

    ``synchronous=FULL`` makes a committed transaction survive power loss and ``kill -9``;
    WAL lets readers proceed while one writer commits. The connection may be used from
    other threads (``asyncio.to_thread``) but callers must serialise writes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
