"""The fleet database's schema: explicit, versioned migrations (``redline db upgrade``).

Every table a fleet keeps in PostgreSQL is created here and nowhere else: API keys and
review items (schema ``redline``), the halt state (``redline_halt_state``), the audit log's
queue and tree (schema ``redline_audit``), the fleet's identity and the replicas' register.
``redline.schema_version`` holds one row per applied migration.

Invariants:

* :func:`upgrade` applies the missing migrations in order, all in one transaction under an
  advisory lock, so two operators upgrading at once apply each migration once;
* a serving replica calls :func:`require_current`: a database without the schema, or with an
  older or newer version than this Redline knows, stops it with a message naming the fix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from redline.audit.postgres_store import audit_ddl
from redline.errors import ConfigError, StoreError

__all__ = [
    "AUDIT_SCHEMA",
    "HALT_TABLE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "require_current",
    "schema_version",
    "upgrade",
]

AUDIT_SCHEMA = "redline_audit"
HALT_TABLE = "redline_halt_state"
_UPGRADE_LOCK = 0x7265646C696E6501  # "redline" + 1: serialises concurrent upgrades

Conn = psycopg.Connection[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: ``apply`` runs inside the upgrade transaction."""

    version: int
    description: str
    apply: Callable[[Conn], None]


_V1 = f"""
CREATE TABLE redline.api_keys (
    key_id text PRIMARY KEY, tenant text NOT NULL, label text NOT NULL,
    secret_sha256 bytea NOT NULL, principal_json bytea NOT NULL, created_at text NOT NULL,
    revoked_at text);
CREATE TABLE redline.review_items (
    id text PRIMARY KEY, tenant text NOT NULL, state text NOT NULL,
    created_us bigint NOT NULL, expires_us bigint NOT NULL, decided_us bigint,
    version int NOT NULL, item_json bytea NOT NULL, body bytea, answer bytea);
CREATE INDEX review_items_state ON redline.review_items (state, created_us);
CREATE INDEX review_items_decided ON redline.review_items (decided_us);
CREATE TABLE redline.fleet (
    id int PRIMARY KEY CHECK (id = 0), fleet_id text NOT NULL, audit_vkey text NOT NULL,
    fingerprints jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE redline.replicas (
    replica_id text PRIMARY KEY, host text NOT NULL, pid int NOT NULL, version text NOT NULL,
    floor_sha256 text NOT NULL, policy_sha256 text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(), seen_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {HALT_TABLE} (
    id int PRIMARY KEY CHECK (id = 0), version bigint NOT NULL, state text NOT NULL,
    backlog text NOT NULL DEFAULT '[]');
"""


def _v1(db: Conn) -> None:
    db.execute(_V1.encode())
    db.execute(audit_ddl(AUDIT_SCHEMA).encode())
    db.execute(
        f"INSERT INTO {AUDIT_SCHEMA}.state (id, size, salt) VALUES (0, 0, %s) "  # noqa: S608 - constant
        "ON CONFLICT (id) DO NOTHING",
        (os.urandom(32),),
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "keys, reviews, halts, the audit log (queue and tree), fleet, replicas", _v1),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this Redline serves on."""


def _connect(url: str) -> Conn:
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the fleet database: {exc}") from exc


def schema_version(url: str) -> int:
    """The applied schema version (0: no Redline schema).

    Raises:
        StoreError: the database cannot be reached.
    """
    with _connect(url) as db:
        return _version(db)


def _version(db: Conn) -> int:
    try:
        row = db.execute("SELECT to_regclass('redline.schema_version')").fetchone()
        if row is None or row[0] is None:
            return 0
        found = db.execute("SELECT max(version) FROM redline.schema_version").fetchone()
    except psycopg.Error as exc:
        raise StoreError(f"cannot read the fleet database's schema version: {exc}") from exc
    return 0 if found is None or found[0] is None else int(str(found[0]))


def upgrade(url: str) -> list[Migration]:
    """Apply the migrations the database lacks; return those applied (oldest first).

    Raises:
        StoreError: the database cannot be reached or a migration failed (nothing applied).
        ConfigError: the database is newer than this Redline.
    """
    with _connect(url) as db:
        try:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
                db.execute(
                    "CREATE SCHEMA IF NOT EXISTS redline; CREATE TABLE IF NOT EXISTS "
                    "redline.schema_version (version int PRIMARY KEY, description text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
                current = _version(db)
                if current > SCHEMA_VERSION:
                    raise ConfigError(_newer(current))
                applied = [m for m in MIGRATIONS if m.version > current]
                for migration in applied:
                    migration.apply(db)
                    db.execute(
                        "INSERT INTO redline.schema_version (version, description) VALUES (%s, %s)",
                        (migration.version, migration.description),
                    )
        except psycopg.Error as exc:
            raise StoreError(f"the schema upgrade failed, nothing was changed: {exc}") from exc
    return applied


def require_current(url: str) -> None:
    """Refuse to serve on a schema this Redline does not know.

    Raises:
        ConfigError: no schema, an older one (run ``redline db upgrade``) or a newer one.
        StoreError: the database cannot be reached.
    """
    current = schema_version(url)
    if current == SCHEMA_VERSION:
        return
    if current == 0:
        raise ConfigError(
            "REDLINE_DATABASE_URL: the database has no Redline schema: run `redline db upgrade`"
        )
    if current < SCHEMA_VERSION:
        raise ConfigError(
            f"REDLINE_DATABASE_URL: the database schema is version {current}, this Redline "
            f"needs {SCHEMA_VERSION}: run `redline db upgrade`"
        )
    raise ConfigError(_newer(current))


def _newer(current: int) -> str:
    return (
        f"REDLINE_DATABASE_URL: the database schema is version {current}, newer than this "
        f"Redline knows ({SCHEMA_VERSION}): upgrade Redline on this replica"
    )
