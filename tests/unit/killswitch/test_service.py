"""HaltService against fakes of its seams (store, channel, audit sink, clock)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from redline.errors import AuditStoreError, HaltedError, InvalidTransition, StoreError
from redline.killswitch import HaltState, ResumeOutcome
from redline.killswitch.service import HaltService, halt_offline
from tests.unit.service.fakes import FakeAudit, FakeChannel, FakeClock, FakeHaltStore

WAIT_S = 5.0  # generous bound for background work; never a timing assertion


@pytest.fixture
def store() -> FakeHaltStore:
    return FakeHaltStore()


@pytest.fixture
def audit() -> FakeAudit:
    return FakeAudit()


def service(
    store: FakeHaltStore,
    audit: FakeAudit,
    *,
    channels: tuple[FakeChannel, ...] = (),
    poll_interval_s: float = 3600,
) -> HaltService:
    return HaltService(
        store, audit, channels=channels, clock=FakeClock(), poll_interval_s=poll_interval_s
    )


async def until(predicate: object) -> None:
    async with asyncio.timeout(WAIT_S):
        while not predicate():  # type: ignore[operator]  # noqa: ASYNC110 - state set by other code
            await asyncio.sleep(0.005)


async def test_nothing_halted_then_halt_all(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit)
    await halts.start()
    assert halts.check("acme", "gpt") is None
    result = await halts.halt("all", reason="incident 7", by="key:a")
    assert result.audited
    assert result.version == 1
    hit = halts.check("acme", "gpt")
    assert hit is not None
    assert hit.scope == "all"
    assert hit.reason == "incident 7"
    with pytest.raises(HaltedError, match="incident 7"):
        halts.enforce("other", "m")
    assert audit.types() == ["halt"]
    assert audit.events[0][1]["scope"] == "all"
    assert audit.events[0][1]["by"] == "key:a"
    await halts.aclose()
    assert store.closed


async def test_scopes_stop_only_their_traffic(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit)
    await halts.start()
    await halts.halt("tenant:acme", reason="r1", by="key:a")
    await halts.halt("model:gpt", reason="r2", by="key:a")
    assert halts.check("acme", "llama") is not None
    assert halts.check("other", "gpt") is not None
    assert halts.check("other", "llama") is None
    await halts.aclose()


async def test_state_survives_restart(store: FakeHaltStore, audit: FakeAudit) -> None:
    first = service(store, audit)
    await first.start()
    await first.halt("model:gpt", reason="bad weights", by="key:a")
    await first.aclose()
    second = service(store, audit)
    await second.start()
    hit = second.check("t", "gpt")
    assert hit is not None
    assert hit.reason == "bad weights"
    assert second.version == 1
    await second.aclose()


async def test_halt_holds_even_if_audit_fails(store: FakeHaltStore) -> None:
    audit = FakeAudit(failing=True)
    halts = service(store, audit)
    await halts.start()
    result = await halts.halt("all", reason="x", by="key:a")
    assert not result.audited
    assert halts.check("t", "m") is not None
    assert HaltState.from_json(store.row.state_json).halts[0].scope == "all"
    await halts.aclose()


async def test_halt_holds_locally_if_store_fails(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit)
    await halts.start()
    store.failing = True
    with pytest.raises(StoreError):
        await halts.halt("all", reason="x", by="key:a")
    assert halts.check("t", "m") is not None  # fail closed: this replica stops anyway
    assert audit.events[-1][1]["persisted"] is False
    store.failing = False
    await halts.aclose()


async def test_resume_needs_two_distinct_admins(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit)
    await halts.start()
    await halts.halt("all", reason="x", by="key:a")
    first = await halts.resume("all", by="key:a")
    assert first.outcome is ResumeOutcome.PENDING
    assert halts.check("t", "m") is not None
    with pytest.raises(InvalidTransition, match="two-person"):
        await halts.resume("all", by="key:a")
    second = await halts.resume("all", by="key:b")
    assert second.outcome is ResumeOutcome.RESUMED
    assert halts.check("t", "m") is None
    assert [p["outcome"] for t, p in audit.events if t == "resume"] == ["pending", "resumed"]
    await halts.aclose()


async def test_resume_is_not_applied_unless_audited(store: FakeHaltStore) -> None:
    audit = FakeAudit()
    halts = service(store, audit)
    await halts.start()
    await halts.halt("all", reason="x", by="key:a")
    await halts.resume("all", by="key:a")
    audit.failing = True
    version = store.row.version
    with pytest.raises(AuditStoreError):
        await halts.resume("all", by="key:b")
    assert halts.check("t", "m") is not None
    assert store.row.version == version
    await halts.aclose()


async def test_resume_of_unhalted_scope_is_refused(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit)
    await halts.start()
    with pytest.raises(InvalidTransition, match="not halted"):
        await halts.resume("tenant:acme", by="key:a")
    assert audit.events == []
    await halts.aclose()


async def test_concurrent_writer_is_not_overwritten(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit)
    await halts.start()
    other = HaltState().halt(
        "tenant:zeta", reason="other replica", by="key:z", now=FakeClock().now()
    )
    store.interfere = other.to_json()
    await halts.halt("model:gpt", reason="mine", by="key:a")
    scopes = {h.scope for h in HaltState.from_json(store.row.state_json).halts}
    assert scopes == {"tenant:zeta", "model:gpt"}
    assert halts.check("zeta", "x") is not None
    await halts.aclose()


async def test_poll_picks_up_external_write(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit, poll_interval_s=0.01)
    await halts.start()
    generation = halts.generation
    store.put(HaltState().halt("all", reason="cli", by="local:x", now=FakeClock().now()).to_json())
    await until(lambda: halts.check("t", "m") is not None)
    assert halts.generation == generation + 1
    await halts.aclose()


async def test_poll_survives_store_outage(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit, poll_interval_s=0.01)
    await halts.start()
    await halts.halt("all", reason="x", by="key:a")
    store.failing = True
    await asyncio.sleep(0.05)
    assert halts.check("t", "m") is not None  # keeps the state in force
    store.failing = False
    store.put(HaltState().to_json())
    await until(lambda: halts.check("t", "m") is None)
    await halts.aclose()


async def test_announcement_triggers_refresh(store: FakeHaltStore, audit: FakeAudit) -> None:
    channel = FakeChannel()
    halts = service(store, audit, channels=(channel,))
    await halts.start()
    await asyncio.wait_for(channel.listening.wait(), WAIT_S)
    store.put(HaltState().halt("all", reason="r", by="key:z", now=FakeClock().now()).to_json())
    await channel.announce(store.row.version)
    assert halts.check("t", "m") is not None
    await halts.halt("model:m", reason="r", by="key:a")
    assert channel.published == [store.row.version]
    await halts.aclose()


async def test_failed_broadcast_does_not_fail_the_halt(
    store: FakeHaltStore, audit: FakeAudit
) -> None:
    channel = FakeChannel()
    channel.failing = True
    halts = service(store, audit, channels=(channel,))
    await halts.start()
    result = await halts.halt("all", reason="r", by="key:a")
    assert result.audited
    assert halts.check("t", "m") is not None
    await halts.aclose()


async def test_stale_state_never_replaces_newer(store: FakeHaltStore, audit: FakeAudit) -> None:
    halts = service(store, audit)
    await halts.start()
    await halts.halt("all", reason="r", by="key:a")
    halts._apply(HaltState(), 1)  # a slow reader delivering the same version again
    assert halts.check("t", "m") is not None
    await halts.aclose()


async def test_corrupt_store_refuses_to_start(store: FakeHaltStore, audit: FakeAudit) -> None:
    store.put("{not json")
    with pytest.raises(StoreError):
        await service(store, audit).start()


async def test_offline_halt_is_audited_by_the_gateway(
    store: FakeHaltStore, audit: FakeAudit
) -> None:
    result = await halt_offline(store, "all", reason="api down", by="local:ops", clock=FakeClock())
    assert not result.audited
    assert len(store.backlog()) == 1
    halts = service(store, audit)
    await halts.start()
    assert halts.check("t", "m") is not None
    assert audit.types() == ["halt"]
    assert audit.events[0][1]["offline"] is True
    assert not store.backlog()
    await halts.aclose()


async def test_offline_backlog_waits_for_the_audit_log(store: FakeHaltStore) -> None:
    audit = FakeAudit(failing=True)
    halts = service(store, audit, poll_interval_s=0.01)
    await halts.start()
    await halt_offline(store, "tenant:acme", reason="r", by="local:ops")
    await until(lambda: halts.check("acme", "m") is not None)
    assert store.backlog()  # kept until it can be recorded
    audit.failing = False
    await until(lambda: not store.backlog())
    assert audit.types() == ["halt"]
    assert json.loads(store.row.state_json)["halts"][0]["scope"] == "tenant:acme"
    await halts.aclose()


async def slow_stream(gate: asyncio.Event, closed: list[bool]) -> AsyncIterator[bytes]:
    try:
        yield b"one"
        await gate.wait()
        yield b"two"
    finally:
        closed.append(True)


async def test_guard_ends_a_silent_stream_when_halted(
    store: FakeHaltStore, audit: FakeAudit
) -> None:
    halts = service(store, audit)
    await halts.start()
    closed: list[bool] = []
    guarded = halts.guard(slow_stream(asyncio.Event(), closed), "acme", "gpt")
    assert await anext(guarded) == b"one"
    pending = asyncio.ensure_future(anext(guarded))
    await asyncio.sleep(0.01)
    await halts.halt("tenant:other", reason="unrelated", by="key:a")
    await asyncio.sleep(0.01)
    assert not pending.done()
    await halts.halt("model:gpt", reason="stop now", by="key:a")
    with pytest.raises(HaltedError, match="stop now"):
        await asyncio.wait_for(pending, WAIT_S)
    assert closed == [True]
    await halts.aclose()


async def test_guard_relays_everything_when_not_halted(
    store: FakeHaltStore, audit: FakeAudit
) -> None:
    halts = service(store, audit)
    await halts.start()
    gate = asyncio.Event()
    gate.set()
    closed: list[bool] = []
    events = [e async for e in halts.guard(slow_stream(gate, closed), "acme", "gpt")]
    assert events == [b"one", b"two"]
    assert closed == [True]
    await halts.halt("all", reason="r", by="key:a")
    with pytest.raises(HaltedError):
        await anext(halts.guard(slow_stream(gate, []), "acme", "gpt"))
    await halts.aclose()
