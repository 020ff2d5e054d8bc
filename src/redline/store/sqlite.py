"""Shared SQLite connection settings (WAL, synchronous=FULL) and private file creation.

Every file Redline creates in the data directory is readable by its owner only: the
directory is created 0700 and each database file 0600 *before* SQLite opens it. SQLite
creates a database's ``-wal`` and ``-shm`` files with the mode of the database file, so
they are 0600 too. The modes are passed to ``mkdir``/``open`` directly, so no umask can
widen them; existing files and directories are left as they are (an operator may have
chosen a group-readable directory on purpose; ``redline serve`` warns about it).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "connect", "create_private_dir", "create_private_file"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def create_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) if absent; the directory itself gets 0700.

    Parents created on the way get the default mode, as ``mkdir -p`` gives them.
    """
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:  # created concurrently (another process starting up)
        return


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (its directory 0700)."""
    create_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:  # existing files (and their readers' access) are kept
        return
    os.close(fd)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating it 0600, and its directory 0700) a durable SQLite database.

    ``synchronous=FULL`` makes a committed transaction survive power loss and ``kill -9``;
    WAL lets readers proceed while one writer commits. The connection may be used from
    other threads (``asyncio.to_thread``) but callers must serialise writes.
    """
    create_private_file(path)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
