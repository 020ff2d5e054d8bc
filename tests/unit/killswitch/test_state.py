"""Kill-switch state: scopes, two-person resume, JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from redline.errors import InvalidTransition, RequestError, StoreError
from redline.killswitch import HaltState, ResumeOutcome, parse_scope

T0 = datetime(2026, 3, 3, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "scope"),
    [("all", "all"), (" tenant:army ", "tenant:army"), ("model: gpt-x", "model:gpt-x")],
)
def test_parse_scope(text: str, scope: str) -> None:
    assert parse_scope(text) == scope


@pytest.mark.parametrize("text", ["", "everything", "tenant:", "model:  ", "ALL"])
def test_bad_scope(text: str) -> None:
    with pytest.raises(RequestError, match=r"bad halt scope") as info:
        parse_scope(text)
    assert info.value.param == "scope"


def test_nothing_halted() -> None:
    assert HaltState().check("army", "gpt") is None


def test_halt_scopes() -> None:
    state = HaltState().halt("tenant:army", reason="incident 7", by="alice", now=T0)
    halt = state.check("army", "gpt")
    assert halt is not None
    assert (halt.scope, halt.reason, halt.by, halt.at) == (
        "tenant:army",
        "incident 7",
        "alice",
        "2026-03-03T12:00:00.123Z",
    )
    assert state.check("navy", "gpt") is None
    state = state.halt("model:gpt", reason="", by="bob", now=T0)
    model_halt = state.check("navy", "gpt")
    assert model_halt is not None
    assert model_halt.reason == "halted by an administrator"
    state = state.halt("all", reason="stop", by="bob", now=T0)
    everything = state.check("navy", "other")
    assert everything is not None
    assert everything.scope == "all"


def test_rehalting_replaces_reason_and_clears_pending() -> None:
    state = HaltState().halt("all", reason="a", by="alice", now=T0)
    state, _ = state.resume("all", by="alice", now=T0)
    state = state.halt("all", reason="b", by="bob", now=T0)
    assert [h.reason for h in state.halts] == ["b"]
    assert state.pending == ()


def test_resume_needs_two_distinct_admins() -> None:
    state = (
        HaltState()
        .halt("all", reason="x", by="alice", now=T0)
        .halt("tenant:army", reason="y", by="alice", now=T0)
    )
    state, outcome = state.resume("all", by="alice", now=T0)
    assert outcome is ResumeOutcome.PENDING
    assert state.check("t", "m") is not None
    with pytest.raises(InvalidTransition, match=r"two-person rule: alice already approved"):
        state.resume("all", by="alice", now=T0)
    state, outcome = state.resume("all", by="bob", now=T0 + timedelta(minutes=5))
    assert outcome is ResumeOutcome.RESUMED
    assert state.check("navy", "m") is None
    assert state.check("army", "m") is not None  # resuming "all" does not lift tenant halts


def test_stale_first_approval_is_replaced() -> None:
    state = HaltState().halt("all", reason="x", by="alice", now=T0)
    state, _ = state.resume("all", by="alice", now=T0)
    later = T0 + timedelta(hours=2)
    state, outcome = state.resume("all", by="bob", now=later)
    assert outcome is ResumeOutcome.PENDING
    assert [(p.by, p.at) for p in state.pending] == [("bob", "2026-03-03T14:00:00.123Z")]


def test_resume_errors() -> None:
    with pytest.raises(InvalidTransition, match=r"model:m is not halted"):
        HaltState().resume("model:m", by="alice", now=T0)
    with pytest.raises(RequestError, match=r"administrator id is required"):
        HaltState().halt("all", reason="x", by=" ", now=T0)


def test_json_round_trip() -> None:
    state = (
        HaltState()
        .halt("all", reason="x \u00e9", by="alice", now=T0)
        .halt("model:m", reason="y", by="bob", now=T0)
    )
    state, _ = state.resume("model:m", by="carol", now=T0)
    text = state.to_json()
    assert HaltState.from_json(text) == state
    assert HaltState.from_json(text.encode()) == state
    assert HaltState.from_json(HaltState().to_json()) == HaltState()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "{}",
        '{"halts": [], "pending": 1}',
        '{"halts": [{"scope": "x"}], "pending": []}',
        '{"halts": [{"scope": "all", "reason": "r", "by": "a", "at": "yesterday"}], "pending": []}',
        '{"halts": [{"scope": "nope", "reason": "r", "by": "a", '
        '"at": "2026-01-01T00:00:00Z"}], "pending": []}',
    ],
)
def test_corrupt_json_is_a_store_error(text: str) -> None:
    with pytest.raises(StoreError, match=r"invalid halt state"):
        HaltState.from_json(text)
