"""API keys in PostgreSQL, shared by every replica of a fleet (``redline.api_keys``).

The same rules as :class:`~redline.store.keys.SqliteKeyStore` (:func:`new_key` checks the
tenant, roles and clearance; only the SHA-256 of the secret is stored). The table is created
by ``redline db upgrade`` (:mod:`redline.fleet.schema`), never here.

One connection (autocommit) guarded by a lock; it is re-opened after a connection failure.
Every driver error becomes :class:`~redline.errors.StoreError`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from redline.clock import Clock, SystemClock, rfc3339
from redline.errors import StoreError
from redline.store.keys import ApiKey, IssuedKey, new_key, principal_json, row_to_key

__all__ = ["PostgresKeyStore"]

_COLUMNS = "key_id, tenant, label, secret_sha256, principal_json, created_at, revoked_at"


class PostgresKeyStore:
    """Keys in the fleet database (the same methods as the SQLite key store)."""

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        self.url = url
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    @contextmanager
    def _db(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    self._conn = psycopg.connect(self.url, autocommit=True)
                yield self._conn
            except psycopg.Error as exc:
                raise StoreError(f"key store (postgres): {exc}") from exc

    def create(
        self,
        *,
        tenant: str,
        label: str = "",
        roles: frozenset[str] = frozenset(),
        clearance: str = "U",
        nationality: str = "USA",
        read_ins: frozenset[str] = frozenset(),
        need_to_know: frozenset[str] = frozenset(),
    ) -> IssuedKey:
        """Issue a new key for a tenant; returns the plaintext once.

        Raises:
            StoreError: invalid tenant, role or clearance; the database failed.
        """
        issued = new_key(
            tenant=tenant,
            label=label,
            roles=roles,
            clearance=clearance,
            nationality=nationality,
            read_ins=read_ins,
            need_to_know=need_to_know,
            now=rfc3339(self._clock.now()),
        )
        key = issued.key
        with self._db() as db:
            db.execute(
                f"INSERT INTO redline.api_keys ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, NULL)",  # noqa: S608 - constant
                (
                    key.key_id,
                    key.tenant,
                    key.label,
                    key.secret_sha256,
                    principal_json(key.principal),
                    key.created_at,
                ),
            )
        return issued

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; False if no active key has this id."""
        with self._db() as db:
            cursor = db.execute(
                "UPDATE redline.api_keys SET revoked_at = %s"
                " WHERE key_id = %s AND revoked_at IS NULL",
                (rfc3339(self._clock.now()), key_id),
            )
        return cursor.rowcount == 1

    def list(self, *, tenant: str | None = None) -> list[ApiKey]:
        """All keys, optionally of one tenant, oldest first."""
        query = f"SELECT {_COLUMNS} FROM redline.api_keys"  # noqa: S608 - constant
        args: tuple[str, ...] = ()
        if tenant:
            query, args = query + " WHERE tenant = %s", (tenant,)
        with self._db() as db:
            rows = db.execute(query + " ORDER BY created_at, key_id", args).fetchall()
        return [_key(row) for row in rows]

    def get(self, key_id: str) -> ApiKey | None:
        """Synchronous lookup (CLI and tests)."""
        with self._db() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM redline.api_keys WHERE key_id = %s",  # noqa: S608 - constant
                (key_id,),
            ).fetchone()
        return _key(row) if row else None

    async def lookup(self, key_id: str) -> ApiKey | None:
        return await asyncio.to_thread(self.get, key_id)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _key(row: tuple[object, ...]) -> ApiKey:
    key_id, tenant, label, digest, raw, created_at, revoked_at = row
    return row_to_key(
        (
            str(key_id),
            str(tenant),
            str(label),
            bytes(digest),  # type: ignore[call-overload]
            bytes(raw),  # type: ignore[call-overload]
            str(created_at),
            None if revoked_at is None else str(revoked_at),
        )
    )
