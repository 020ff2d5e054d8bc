"""Console sessions: random ids, idle and absolute expiry, bounded size, logout."""

from __future__ import annotations

from datetime import timedelta

from redline.gateway.console.sessions import SessionStore
from tests.unit.review.fakes import T0


def test_session_lives_while_used_and_dies_when_idle() -> None:
    store = SessionStore(idle_s=60, absolute_s=3600)
    sid, session = store.create("abc", T0)
    assert len(sid) >= 40
    assert session.csrf_token != sid
    assert store.get(sid, T0 + timedelta(seconds=59)) is not None
    assert store.get(sid, T0 + timedelta(seconds=118)) is not None  # idle timer refreshed
    assert store.get(sid, T0 + timedelta(seconds=179)) is None
    assert store.get(sid, T0) is None  # gone for good


def test_absolute_lifetime_and_logout() -> None:
    store = SessionStore(idle_s=60, absolute_s=100)
    sid, _ = store.create("abc", T0)
    for step in range(1, 5):
        assert store.get(sid, T0 + timedelta(seconds=25 * step - 1)) is not None
    assert store.get(sid, T0 + timedelta(seconds=101)) is None
    other, _ = store.create("abc", T0)
    store.delete(other)
    assert store.get(other, T0) is None
    assert store.get("not-a-session", T0) is None


def test_store_is_bounded() -> None:
    store = SessionStore(max_sessions=3)
    ids = [store.create(str(i), T0 + timedelta(seconds=i))[0] for i in range(5)]
    alive = [sid for sid in ids if store.get(sid, T0 + timedelta(seconds=10)) is not None]
    assert alive == ids[2:]
