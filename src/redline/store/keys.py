"""API keys: issued once, stored hashed, revocable.

A key reads ``rl_<key id>_<secret>``. Only the key id and SHA-256 of the secret are stored;
the secret has 256 bits of entropy, so a plain hash (not a password hash) is enough and keeps
authentication off the hot path's critical budget. Verification compares digests with
``hmac.compare_digest``.

Roles (:data:`ROLES`) are a closed set: each one is checked somewhere in the gateway, and a
key created with a misspelt role would silently grant nothing, so :meth:`SqliteKeyStore.create`
refuses any other name.

Invariants:
    * The plaintext key exists only in the return value of :meth:`SqliteKeyStore.create`.
    * A revoked key never authenticates again (the gateway's cache holds a lookup for at most
      ``cache_ttl_s`` seconds, so revocation reaches a running gateway within that time).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import orjson

from redline.access import clearance_label
from redline.clock import Clock, SystemClock, rfc3339
from redline.domain import Principal
from redline.errors import AuthenticationError, ConfigError, StoreError
from redline.store.sqlite import connect

__all__ = [
    "CLEARANCES",
    "ROLES",
    "ApiKey",
    "IssuedKey",
    "KeyStore",
    "SqliteKeyStore",
    "new_key",
    "parse_api_key",
    "principal_json",
    "row_to_key",
]

_PREFIX = "rl"

ROLES: Mapping[str, str] = {
    "admin": "admin API: halt, resume, policy reload, monitor counts",
    "auditor": "reads the live oversight report and decision receipts (/redline/v1/oversight)",
    "operator": "confirms an agent's effector call (POST /redline/v1/confirmations)",
    "reviewer": "decides held requests in the reviewer console (/console)",
    "reviewer:all": "with 'reviewer': sees held requests of every tenant, not only its own",
}
"""Every role the gateway checks, with what it allows (``redline keys create --role``)."""

CLEARANCES = ("U", "C", "S", "TS")
"""Clearance levels a key may carry (``redline keys create --clearance``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A stored key (never the secret)."""

    key_id: str
    tenant: str
    label: str
    created_at: str
    revoked_at: str | None
    principal: Principal
    secret_sha256: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedKey:
    """A freshly created key: ``plaintext`` is shown once and never stored."""

    key: ApiKey
    plaintext: str = field(repr=False)


class KeyStore(Protocol):
    """Looks up keys by id."""

    async def lookup(self, key_id: str) -> ApiKey | None:
        """The key with this id, revoked or not, or None."""
        ...


def parse_api_key(presented: str) -> tuple[str, str]:
    """Split a presented key into (key id, secret).

    Raises:
        AuthenticationError: the text is not shaped like a Redline key.
    """
    parts = presented.split("_")
    if len(parts) != 3 or parts[0] != _PREFIX or not parts[1] or not parts[2]:
        raise AuthenticationError("invalid API key")
    return parts[1], parts[2]


def verify_secret(key: ApiKey, secret: str) -> bool:
    """Constant-time comparison of a presented secret with the stored digest."""
    digest = hashlib.sha256(secret.encode()).digest()
    return hmac.compare_digest(digest, key.secret_sha256)


def new_key(
    *,
    tenant: str,
    label: str,
    roles: frozenset[str],
    clearance: str,
    nationality: str,
    read_ins: frozenset[str],
    need_to_know: frozenset[str],
    now: str,
) -> IssuedKey:
    """A new key (not yet stored): the checks every key store applies, then the secret.

    Raises:
        StoreError: a malformed tenant, a role not in :data:`ROLES` or an unknown clearance.
    """
    if not tenant or not tenant.replace("-", "").replace(".", "").isalnum():
        raise StoreError(f"tenant must be letters, digits, '-' or '.', got {tenant!r}")
    unknown = sorted(roles - ROLES.keys())
    if unknown:
        raise StoreError(
            f"unknown role(s) {', '.join(map(repr, unknown))}: valid roles are " + ", ".join(ROLES)
        )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32).replace("_", "-")
    principal = Principal(
        id=f"key:{key_id}",
        tenant=tenant,
        roles=roles,
        clearance=clearance,
        nationality=nationality,
        read_ins=read_ins,
        need_to_know=need_to_know | {tenant},
    )
    try:
        clearance_label(principal)
    except ConfigError:
        raise StoreError(f"unknown clearance {clearance!r}: use {', '.join(CLEARANCES)}") from None
    key = ApiKey(
        key_id=key_id,
        tenant=tenant,
        label=label,
        created_at=now,
        revoked_at=None,
        principal=principal,
        secret_sha256=hashlib.sha256(secret.encode()).digest(),
    )
    return IssuedKey(key=key, plaintext=f"{_PREFIX}_{key_id}_{secret}")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    label TEXT NOT NULL,
    secret_sha256 BLOB NOT NULL,
    principal_json BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""


class SqliteKeyStore:
    """Keys in ``keys.db`` under the data directory."""

    def __init__(self, path: Path, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        try:
            self._conn = connect(path)
            self._conn.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open key store {path}: {exc}") from exc

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
            StoreError: a malformed tenant, a role not in :data:`ROLES` or an unknown
                clearance (the message lists the valid values).
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
        with self._lock:
            self._conn.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
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
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (rfc3339(self._clock.now()), key_id),
            )
        return cursor.rowcount == 1

    def list(self, *, tenant: str | None = None) -> list[ApiKey]:
        """All keys, optionally of one tenant, oldest first."""
        query = "SELECT * FROM api_keys"
        args: tuple[str, ...] = ()
        if tenant:
            query, args = query + " WHERE tenant = ?", (tenant,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY created_at, key_id", args).fetchall()
        return [row_to_key(row) for row in rows]

    def get(self, key_id: str) -> ApiKey | None:
        """Synchronous lookup (CLI and tests)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM api_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
        return row_to_key(row) if row else None

    async def lookup(self, key_id: str) -> ApiKey | None:
        try:
            return await asyncio.to_thread(self.get, key_id)
        except sqlite3.Error as exc:
            raise StoreError(f"key store failed: {exc}") from exc

    def close(self) -> None:
        self._conn.close()


def principal_json(principal: Principal) -> bytes:
    return orjson.dumps(
        {
            "id": principal.id,
            "roles": sorted(principal.roles),
            "clearance": principal.clearance,
            "nationality": principal.nationality,
            "read_ins": sorted(principal.read_ins),
            "need_to_know": sorted(principal.need_to_know),
        }
    )


def row_to_key(row: tuple[str, str, str, bytes, bytes, str, str | None]) -> ApiKey:
    key_id, tenant, label, digest, raw_principal, created_at, revoked_at = row
    data = orjson.loads(raw_principal)
    principal = Principal(
        id=data["id"],
        tenant=tenant,
        roles=frozenset(data["roles"]),
        clearance=data["clearance"],
        nationality=data["nationality"],
        read_ins=frozenset(data["read_ins"]),
        need_to_know=frozenset(data["need_to_know"]),
    )
    return ApiKey(
        key_id=key_id,
        tenant=tenant,
        label=label,
        created_at=created_at,
        revoked_at=revoked_at,
        principal=principal,
        secret_sha256=digest,
    )
