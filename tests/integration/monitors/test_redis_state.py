"""RedisMonitorState against a real Redis: shared windows, expiry, cadence, single-use tokens."""

from __future__ import annotations

import hashlib

import pytest
import redis.asyncio as aioredis

from redline.errors import StoreError
from redline.monitors import (
    CallKind,
    MonitorConfig,
    Nationality,
    PersonRef,
    RedisMonitorState,
    Scope,
)
from redline.monitors.persons import IdentifierKind
from redline.policy import load_builtin_floor
from tests.support.servers import closed_port

T = 1_800_000_000.0
CONFIG = MonitorConfig.from_policy(load_builtin_floor().monitors)


def refs(n: int, start: int = 0, nationality: Nationality = Nationality.US) -> list[PersonRef]:
    return [
        PersonRef(
            kind=IdentifierKind.PHONE,
            digest=hashlib.sha256(str(i).encode()).hexdigest(),
            nationality=nationality,
        )
        for i in range(start, start + n)
    ]


async def test_windows_are_shared_and_slide(redis_client: aioredis.Redis, prefix: str) -> None:
    one = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    two = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    await one.add_persons("p", "t", refs(10), T)
    await two.add_persons("p", "t", refs(10), T + 60)
    counts = await two.add_persons("p", "t", refs(5, 100, Nationality.UNKNOWN), T + 120)
    hour, day, tenant_hour, _ = counts
    assert (hour.scope, hour.window_s, hour.us, hour.unknown) == (Scope.PRINCIPAL, 3600, 10, 5)
    assert (day.us, tenant_hour.scope, tenant_hour.us) == (10, Scope.TENANT, 10)
    later = await one.counts("p", "t", T + 3600 + 300)
    assert [c.us for c in later] == [0, 10, 0, 10]
    assert [c.us for c in await one.counts("p", None, T)] == [10, 10]
    assert [c.us for c in await one.counts("nobody", None, T)] == [0, 0]


async def test_every_key_expires(redis_client: aioredis.Redis, prefix: str) -> None:
    state = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    await state.add_persons("p", "t", refs(3), T)
    await state.record_call("p", "r", T, CallKind.TOOL_RESULT)
    await state.use_token("tok", 4_000_000_000.0, T)
    keys = [k async for k in redis_client.scan_iter(match=f"{prefix}:*")]
    assert len(keys) == 2 * 2 + 2 + 1  # 2 scopes x 2 windows, loop list + hash, token
    for key in keys:
        ttl = await redis_client.ttl(key)
        assert ttl > 0
        if b":pv:" in key or b"{pv:" in key:
            assert ttl <= 86400 + 3600


async def test_large_counts_are_estimates(redis_client: aioredis.Redis, prefix: str) -> None:
    state = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    counts = await state.add_persons("p", "t", refs(5000), T)
    assert counts[0].us == pytest.approx(5000, rel=0.03)


async def test_cadence_and_effector_gap(redis_client: aioredis.Redis, prefix: str) -> None:
    state = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    replica = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    for i in range(12):
        stats = await (state if i % 2 else replica).record_call(
            "p", "r", T + i * 0.1, CallKind.TOOL_RESULT
        )
    assert stats.gaps == 11
    assert stats.median_gap_s == pytest.approx(0.1)
    assert stats.cv < 0.01
    assert stats.tool_streak == 12
    assert (await state.record_call("p", "r", T + 2, CallKind.REQUEST)).tool_streak == 0
    first = await state.record_call("p", "r", T + 3, CallKind.EFFECTOR)
    second = await replica.record_call("p", "r", T + 4.5, CallKind.EFFECTOR)
    assert first.effector_gap_s is None
    assert second.effector_gap_s == pytest.approx(1.5)
    assert second.gaps == 12  # effector calls are not arrivals


async def test_tokens_are_single_use_across_replicas(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    one = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    two = RedisMonitorState(redis_client, CONFIG, prefix=prefix)
    assert await one.use_token("abc", 4_000_000_000.0, T)
    assert not await two.use_token("abc", 4_000_000_000.0, T)
    assert await two.use_token("def", 4_000_000_000.0, T)


async def test_unreachable_redis_is_a_store_error() -> None:
    state = RedisMonitorState.from_url(f"redis://127.0.0.1:{closed_port()}/0", CONFIG)
    try:
        with pytest.raises(StoreError):
            await state.add_persons("p", "t", refs(1), T)
        with pytest.raises(StoreError):
            await state.use_token("x", T + 10, T)
    finally:
        await state.aclose()
