"""A replica joins a fleet only when it agrees with it; otherwise it refuses to start and
says what differs. Real PostgreSQL and Redis; the app's own start-up (``open_services``)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest

from redline.bootstrap import open_services
from redline.errors import ConfigError
from redline.fleet.identity import ReplicaRegister
from redline.fleet.schema import SCHEMA_VERSION, schema_version, upgrade
from redline.settings import Settings
from tests.integration.fleet.conftest import fleet_settings, replica_dir

TIGHTER = """
schema_version = 1
[[routes]]
model = "redline-echo"
on_error = "block"
"""


async def start(settings: Settings) -> None:
    async with asynccontextmanager(open_services)(settings, sighup=False):
        pass


def test_database_without_redis_or_redis_without_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REDLINE_DATABASE_URL is set but REDLINE_REDIS_URL"):
        Settings.load({"REDLINE_DATABASE_URL": "postgresql://x/y"}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="REDLINE_REDIS_URL is set but REDLINE_DATABASE_URL"):
        Settings.load({"REDLINE_REDIS_URL": "redis://x"}, data_dir=tmp_path)


async def test_a_database_without_the_schema_is_refused_with_the_fix(
    database: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"no Redline schema: run `redline db upgrade`"):
        await start(fleet_settings(database, tmp_path / "r1"))


def test_upgrade_is_versioned_and_idempotent(database: str) -> None:
    assert schema_version(database) == 0
    assert [m.version for m in upgrade(database)] == list(range(1, SCHEMA_VERSION + 1))
    assert upgrade(database) == []
    assert schema_version(database) == SCHEMA_VERSION


async def test_a_newer_schema_is_refused(fleet_url: str, tmp_path: Path) -> None:
    with psycopg.connect(fleet_url, autocommit=True) as db:
        db.execute(
            "INSERT INTO redline.schema_version VALUES (%s, 'future')", (SCHEMA_VERSION + 1,)
        )
    with pytest.raises(ConfigError, match="newer than this Redline knows"):
        await start(fleet_settings(fleet_url, replica_dir(tmp_path, "r1")))


async def test_a_replica_without_the_fleet_identity_is_refused(
    database: str, tmp_path: Path
) -> None:
    upgrade(database)
    with pytest.raises(ConfigError, match="no identity yet"):
        await start(fleet_settings(database, tmp_path / "r1"))


@pytest.mark.parametrize(
    ("file", "what"),
    [
        ("audit.skey", "audit signing key"),
        ("review-body.key", "review body key"),
        ("monitor-salt.key", "monitor salt"),
        ("confirmation.key", "confirmation key"),
    ],
)
def test_a_replica_with_another_secret_is_refused(
    fleet_url: str, tmp_path: Path, file: str, what: str
) -> None:
    data_dir = replica_dir(tmp_path, "r1")
    if file == "audit.skey":
        (data_dir / file).unlink()
        from redline.store.secrets import load_or_create_signer

        load_or_create_signer(data_dir)  # a key of its own
    else:
        (data_dir / file).write_bytes(b"x" * 32)
    with pytest.raises(ConfigError, match=f"this replica's {what} .* differs from the fleet's"):
        asyncio.run(start(fleet_settings(fleet_url, data_dir)))


async def test_a_replica_missing_a_secret_is_refused_and_nothing_is_created(
    fleet_url: str, tmp_path: Path
) -> None:
    data_dir = replica_dir(tmp_path, "r1")
    (data_dir / "review-body.key").unlink()
    with pytest.raises(ConfigError, match=r"review body key \(review-body.key\) is missing"):
        await start(fleet_settings(fleet_url, data_dir))
    assert not (data_dir / "review-body.key").exists()


async def test_a_replica_with_another_policy_than_the_live_ones_is_refused(
    fleet_url: str, tmp_path: Path
) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_text(TIGHTER)
    first = fleet_settings(fleet_url, replica_dir(tmp_path, "r1"))
    async with asynccontextmanager(open_services)(first, sighup=False):
        other = fleet_settings(fleet_url, replica_dir(tmp_path, "r2"), policy_overlay=overlay)
        with pytest.raises(ConfigError, match=r"policy digest .* differs from the fleet's"):
            await start(other)
        await start(fleet_settings(fleet_url, replica_dir(tmp_path, "r3")))  # same: joins
    # Once no replica is live, a replica with the new policy sets the fleet's policy.
    await start(other)


def test_a_replica_with_another_floor_is_refused(fleet_url: str) -> None:
    live, other = ReplicaRegister(fleet_url), ReplicaRegister(fleet_url)
    live.join(floor_sha256="a" * 64, policy_sha256="p" * 64)
    try:
        with pytest.raises(ConfigError, match=r"policy floor .* differs from the fleet's"):
            other.join(floor_sha256="b" * 64, policy_sha256="p" * 64)
    finally:
        other.close()
        live.leave()


async def test_keys_reviews_and_audit_are_the_fleets(fleet_url: str, tmp_path: Path) -> None:
    """Nothing of a fleet replica is written to its data directory."""
    data_dir = replica_dir(tmp_path, "r1")
    await start(fleet_settings(fleet_url, data_dir))
    assert sorted(p.name for p in data_dir.iterdir()) == [
        "audit.skey",
        "audit.vkey",
        "confirmation.key",
        "monitor-salt.key",
        "review-body.key",
    ]


async def test_a_reload_on_one_replica_reloads_every_replica(
    fleet_url: str, tmp_path: Path
) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_text("schema_version = 1\n")
    open_replica = asynccontextmanager(open_services)
    one = fleet_settings(fleet_url, replica_dir(tmp_path, "r1"), policy_overlay=overlay)
    two = fleet_settings(fleet_url, replica_dir(tmp_path, "r2"), policy_overlay=overlay)
    async with open_replica(one, sighup=False) as first, open_replica(two, sighup=False) as second:
        before = second.control.policy.current.sha256
        assert first.control.policy.current.sha256 == before
        overlay.write_text(TIGHTER)  # the operator updates the files on every host
        result = await first.control.policy.reload(by="key:admin", trigger="admin")
        assert result.ok
        after = first.control.policy.current.sha256
        assert after != before
        for _ in range(300):
            if second.control.policy.current.sha256 == after:
                break
            await asyncio.sleep(0.05)
        assert second.control.policy.current.sha256 == after
