"""Fixtures for the fleet tests: a fresh PostgreSQL database per test, upgraded, and the
fleet's key files in a directory of their own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.fleet.identity import register_identity
from redline.fleet.schema import upgrade
from redline.settings import Settings
from tests.support.fleet import REDIS_URL, fresh_database

FILES = ("audit.skey", "audit.vkey", "review-body.key", "monitor-salt.key", "confirmation.key")


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
def fleet_url(database: str, tmp_path: Path) -> str:
    upgrade(database)
    register_identity(database, tmp_path / "fleet")
    return database


def replica_dir(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    target.mkdir(mode=0o700)
    for file in FILES:
        shutil.copy2(tmp_path / "fleet" / file, target / file)
    return target


def fleet_settings(url: str, data_dir: Path, **extra: object) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, redis_url=REDIS_URL, **extra)  # type: ignore[arg-type]
