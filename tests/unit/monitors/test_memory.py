"""In-process state: sliding windows, LRU bounds, cadence, single-use tokens."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from redline.monitors import (
    CallKind,
    InProcessMonitorState,
    MonitorConfig,
    Nationality,
    PersonRef,
    Scope,
)
from redline.monitors.persons import IdentifierKind

T = 1_800_000_000.0  # a bucket boundary for every window of the floor config


def refs(n: int, start: int = 0, nationality: Nationality = Nationality.US) -> list[PersonRef]:
    return [
        PersonRef(
            kind=IdentifierKind.PHONE,
            digest=hashlib.sha256(str(i).encode()).hexdigest(),
            nationality=nationality,
        )
        for i in range(start, start + n)
    ]


async def test_windows_count_distinct_and_slide(config: MonitorConfig) -> None:
    state = InProcessMonitorState(config)
    counts = await state.add_persons("p", "t", refs(10), T)
    await state.add_persons("p", "t", refs(10), T + 60)  # the same ten again
    counts = await state.add_persons("p", "t", refs(5, 100), T + 120)
    hour, day, tenant_hour, _ = counts
    assert (hour.scope, hour.window_s, hour.us) == (Scope.PRINCIPAL, 3600, 15)
    assert (day.window_s, day.us) == (86400, 15)
    assert (tenant_hour.scope, tenant_hour.us) == (Scope.TENANT, 15)
    later = await state.counts("p", "t", T + 3600 + 300)
    assert [c.us for c in later] == [0, 15, 0, 15]  # the hour slid past, the day did not
    assert [c.us for c in await state.counts("p", None, T + 86400 + 3600)] == [0, 0]


async def test_classes_and_effective_count(config: MonitorConfig) -> None:
    state = InProcessMonitorState(config)
    await state.add_persons("p", "t", refs(4), T)
    await state.add_persons("p", "t", refs(6, 50, Nationality.UNKNOWN), T)
    counts = await state.add_persons("p", "t", refs(3, 90, Nationality.FOREIGN), T)
    hour = counts[0]
    assert (hour.us, hour.unknown, hour.foreign) == (4, 6, 3)
    assert hour.effective(0.5, 0.0) == 7.0


async def test_principals_are_lru_bounded(config: MonitorConfig) -> None:
    state = InProcessMonitorState(replace(config, max_principals=3))
    for name in ("a", "b", "c"):
        await state.add_persons(name, "t", refs(1), T)
    await state.counts("a", None, T)  # reading does not refresh; adding does
    await state.add_persons("a", "t", refs(1), T)
    await state.add_persons("d", "t", refs(1), T)
    assert len(state) == 3
    assert (await state.counts("b", None, T))[0].us == 0  # evicted
    assert (await state.counts("a", None, T))[0].us == 1


async def test_sweep_drops_expired_principals(config: MonitorConfig) -> None:
    state = InProcessMonitorState(config)
    await state.add_persons("a", "t", refs(1), T)
    await state.add_persons("b", "t", refs(1), T + 80_000)
    assert state.sweep(T + 86_400 + 3_600) == 1  # "a"; "b" and the tenant are still live
    assert len(state) == 1
    assert state.sweep(T + 3 * 86_400) == 2


async def test_cadence_and_tool_streak(config: MonitorConfig) -> None:
    state = InProcessMonitorState(config)
    stats = await state.record_call("p", "r", T, CallKind.REQUEST)
    assert stats.gaps == 0
    for i in range(1, 12):
        stats = await state.record_call("p", "r", T + i * 0.1, CallKind.TOOL_RESULT)
    assert stats.gaps == 11
    assert abs(stats.median_gap_s - 0.1) < 1e-6
    assert stats.cv < 0.01
    assert stats.tool_streak == 11
    stats = await state.record_call("p", "r", T + 2, CallKind.REQUEST)
    assert stats.tool_streak == 0
    first = await state.record_call("p", "r", T + 3, CallKind.EFFECTOR)
    second = await state.record_call("p", "r", T + 4.5, CallKind.EFFECTOR)
    assert (first.effector_gap_s, second.effector_gap_s) == (None, 1.5)
    fresh = await state.record_call("p", "r", T + 10_000, CallKind.REQUEST)
    assert fresh.gaps == 0  # idle longer than loop_ttl_s: state restarted
    assert (await state.record_call("p", "other", T, CallKind.REQUEST)).gaps == 0


async def test_loops_are_lru_bounded(config: MonitorConfig) -> None:
    state = InProcessMonitorState(replace(config, max_loops=2))
    for route in ("a", "b", "c"):
        await state.record_call("p", route, T, CallKind.REQUEST)
    assert (await state.record_call("p", "a", T + 1, CallKind.REQUEST)).gaps == 0


async def test_tokens_are_single_use_and_bounded(config: MonitorConfig) -> None:
    state = InProcessMonitorState(replace(config, max_tokens=2))
    assert await state.use_token("a", T + 60, T)
    assert not await state.use_token("a", T + 60, T)
    assert await state.use_token("b", T + 60, T)
    assert not await state.use_token("c", T + 60, T)  # full of live tokens: fail closed
    assert await state.use_token("c", T + 200, T + 100)  # the others expired
