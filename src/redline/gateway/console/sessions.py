"""Console sessions, kept server side: the cookie carries only a random session id.

A session records the API key id the reviewer signed in with and a per-session CSRF token.
The store keys sessions by SHA-256 of their id, so a memory dump does not yield usable
cookies. Sessions end after ``idle_s`` without use or ``absolute_s`` after sign-in,
whichever comes first. The store is per process: with several replicas, pin console
traffic to one replica or sign in again (sessions are cheap).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

__all__ = ["Session", "SessionStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One signed-in reviewer."""

    key_id: str
    csrf_token: str
    created_at: datetime
    last_seen: datetime


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Bounded in-memory session table."""

    def __init__(
        self, *, idle_s: int = 1800, absolute_s: int = 12 * 3600, max_sessions: int = 10_000
    ):
        self._idle = timedelta(seconds=idle_s)
        self._absolute = timedelta(seconds=absolute_s)
        self._max = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, key_id: str, now: datetime) -> tuple[str, Session]:
        """A new session; returns (session id for the cookie, session)."""
        session_id = secrets.token_urlsafe(32)
        session = Session(
            key_id=key_id, csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen=now
        )
        with self._lock:
            if len(self._sessions) >= self._max:
                self._evict(now)
            if len(self._sessions) >= self._max:  # still full: drop the oldest
                oldest = min(self._sessions, key=lambda k: self._sessions[k].last_seen)
                del self._sessions[oldest]
            self._sessions[_digest(session_id)] = session
        return session_id, session

    def get(self, session_id: str, now: datetime) -> Session | None:
        """The live session with this id (refreshing its idle timer), or None."""
        key = _digest(session_id)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[key]
                return None
            session = replace(session, last_seen=now)
            self._sessions[key] = session
            return session

    def delete(self, session_id: str) -> None:
        """End a session (no error if it does not exist)."""
        with self._lock:
            self._sessions.pop(_digest(session_id), None)

    def _expired(self, session: Session, now: datetime) -> bool:
        return now - session.last_seen > self._idle or now - session.created_at > self._absolute

    def _evict(self, now: datetime) -> None:
        for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[key]
