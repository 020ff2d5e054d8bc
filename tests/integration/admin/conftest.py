"""Fixtures for the kill-switch integration tests: real SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redline.audit import SqliteLogStore, decode_record
from redline.killswitch.stores import PostgresHaltStore
from redline.store.keys import SqliteKeyStore

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def pg_table(unique: str) -> AsyncIterator[str]:
    table = f"redline_halt_test_{unique}"
    yield table
    cleanup = PostgresHaltStore(PG_URL, table=table)
    await cleanup.unsafe_drop()
    await cleanup.aclose()


def create_key(data_dir: Path, tenant: str, *roles: str) -> str:
    store = SqliteKeyStore(data_dir / "keys.db")
    try:
        return store.create(tenant=tenant, roles=frozenset(roles)).plaintext
    finally:
        store.close()


def audit_events(data_dir: Path) -> list[tuple[str, dict[str, object]]]:
    """Every record in ``DATA_DIR/audit.db`` as (event type, payload)."""
    store = SqliteLogStore.in_data_dir(data_dir)
    try:
        size = store.open()
        records = [decode_record(e) for e in store.entries(0, size)] if size else []
    finally:
        store.close()
    return [(r.event_type.value, dict(r.payload)) for r in records]
