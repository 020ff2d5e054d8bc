"""Halt stores and channels against real SQLite, PostgreSQL and Redis; replicas in one loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from redline.killswitch.service import HaltService
from redline.killswitch.stores import (
    HaltChannel,
    HaltStore,
    PostgresHaltChannel,
    PostgresHaltStore,
    RedisHaltChannel,
    SqliteHaltStore,
)
from tests.integration.admin.conftest import PG_URL, REDIS_URL
from tests.unit.service.fakes import FakeAudit

STATE_A = '{"halts":[],"pending":[]}'
STATE_B = (
    '{"halts":[{"at":"2026-03-01T12:00:00.000Z","by":"key:a","reason":"r","scope":"all"}],'
    '"pending":[]}'
)


async def check_contract(first: HaltStore, second: HaltStore) -> None:
    """Two handles on the same storage obey compare-and-swap on the version."""
    empty = await first.read()
    assert (empty.version, empty.state_json, empty.backlog) == (0, "", ())
    assert await first.swap(expected_version=0, state_json=STATE_B) == 1
    assert await second.swap(expected_version=0, state_json=STATE_A) is None
    assert await second.version() == 1
    assert (await second.read()).state_json == STATE_B
    assert await second.swap(expected_version=1, state_json=STATE_A, backlog=['{"x":1}']) == 2
    assert await first.swap(expected_version=1, state_json=STATE_B) is None
    row = await first.read()
    assert (row.version, row.state_json, row.backlog) == (2, STATE_A, ('{"x":1}',))


async def test_sqlite_store_contract_and_restart(tmp_path: Path) -> None:
    first = SqliteHaltStore.in_data_dir(tmp_path)
    second = SqliteHaltStore.in_data_dir(tmp_path)
    await check_contract(first, second)
    await first.aclose()
    await second.aclose()
    reopened = SqliteHaltStore.in_data_dir(tmp_path)
    assert (await reopened.read()).version == 2
    await reopened.aclose()


async def test_postgres_store_contract(pg_table: str) -> None:
    first = PostgresHaltStore(PG_URL, table=pg_table)
    second = PostgresHaltStore(PG_URL, table=pg_table)
    await check_contract(first, second)
    await first.aclose()
    await second.aclose()


async def check_channel(sender: HaltChannel, receiver: HaltChannel) -> None:
    got: list[int] = []
    arrived = asyncio.Event()

    async def on_version(version: int) -> None:
        got.append(version)
        arrived.set()

    listener = asyncio.create_task(receiver.listen(on_version))
    try:
        async with asyncio.timeout(5):  # the subscription is set up asynchronously
            while not arrived.is_set():
                await sender.publish(7)
                await asyncio.sleep(0.05)
        assert got[0] == 7
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await sender.aclose()
        await receiver.aclose()


async def test_postgres_notify_channel(unique: str) -> None:
    channel = f"redline:halt:{unique}"
    await check_channel(
        PostgresHaltChannel(PG_URL, channel=channel), PostgresHaltChannel(PG_URL, channel=channel)
    )


async def test_redis_pubsub_channel(unique: str) -> None:
    channel = f"redline:halt:{unique}"
    await check_channel(
        RedisHaltChannel(REDIS_URL, channel=channel), RedisHaltChannel(REDIS_URL, channel=channel)
    )


def replica(table: str, channels: list[HaltChannel], poll_s: float) -> HaltService:
    return HaltService(
        PostgresHaltStore(PG_URL, table=table),
        FakeAudit(),
        channels=channels,
        poll_interval_s=poll_s,
    )


async def time_to_reach(source: HaltService, target: HaltService, scope: str) -> float:
    await source.halt(scope, reason="incident", by="key:a")
    started = time.monotonic()
    async with asyncio.timeout(5):
        while target.check("acme", "gpt") is None:  # noqa: ASYNC110 - set by a background task
            await asyncio.sleep(0.005)
    return time.monotonic() - started


async def test_halt_reaches_replicas_by_broadcast(pg_table: str, unique: str) -> None:
    channel = f"redline:halt:{unique}"
    # Polling is effectively off (30 s): only the broadcast can make this fast.
    for kind in ("postgres", "redis"):
        a_channel: HaltChannel
        b_channel: HaltChannel
        if kind == "postgres":
            a_channel = PostgresHaltChannel(PG_URL, channel=channel)
            b_channel = PostgresHaltChannel(PG_URL, channel=channel)
        else:
            a_channel = RedisHaltChannel(REDIS_URL, channel=channel)
            b_channel = RedisHaltChannel(REDIS_URL, channel=channel)
        a = replica(pg_table, [a_channel], 30)
        b = replica(pg_table, [b_channel], 30)
        await a.start()
        await b.start()
        await asyncio.sleep(0.3)  # let the listeners subscribe
        scope = "tenant:acme" if kind == "postgres" else "model:gpt"
        elapsed = await time_to_reach(a, b, scope)
        assert elapsed < 1.0, (kind, elapsed)
        # Resume across replicas: two administrators on two different replicas.
        await a.resume(scope, by="key:a")
        await b.resume(scope, by="key:b")
        async with asyncio.timeout(5):
            while a.check("acme", "gpt") is not None:  # noqa: ASYNC110 - background task
                await asyncio.sleep(0.005)
        await a.aclose()
        await b.aclose()


async def test_halt_reaches_replicas_by_poll_alone(pg_table: str) -> None:
    a = replica(pg_table, [], 0.5)
    b = replica(pg_table, [], 0.5)
    await a.start()
    await b.start()
    elapsed = await time_to_reach(a, b, "all")
    assert elapsed < 1.0
    restarted = replica(pg_table, [], 0.5)
    await restarted.start()
    assert restarted.check("x", "y") is not None  # survives a restart
    for service in (a, b, restarted):
        await service.aclose()
