"""Fixtures for the audit integration tests: keys, SQLite and PostgreSQL stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.audit import NoteSigner, PostgresLogStore, SqliteLogStore, generate_signer

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def signer() -> NoteSigner:
    return generate_signer("audit.test/redline")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SqliteLogStore:
    return SqliteLogStore.in_data_dir(tmp_path / "data")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"redline_audit_test_{uuid.uuid4().hex[:12]}"
    yield schema
    cleanup = PostgresLogStore(PG_URL, schema=schema)
    cleanup.unsafe_drop_schema()
    cleanup.close()
