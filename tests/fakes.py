"""Shared fakes at the seams of Redline's own code: the model back end (the one part that
is not ours), the audit sink and the clock. Everything else in tests is the real thing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from redline.domain import Endpoint, JSONObject, JSONValue
from redline.errors import AuditStoreError, UpstreamUnavailable
from redline.upstream.base import UpstreamReply

__all__ = ["FakeAudit", "FakeClock", "FakeUpstream", "chat_reply"]


def chat_reply(message: Mapping[str, JSONValue]) -> bytes:
    """A chat completion body whose only choice is ``message``."""
    choice = {"index": 0, "message": dict(message), "finish_reason": "stop"}
    return orjson.dumps({"object": "chat.completion", "choices": [choice]})


@dataclass
class FakeUpstream:
    """A model back end answering from a script.

    ``replies`` are whole reply bodies (popped in order; when empty, an echo of the last
    user text); ``streams`` are lists of ``choices[0].delta`` objects, one event each.
    ``broken`` makes every call fail as an unreachable back end. Every body sent is kept.
    """

    replies: list[bytes] = field(default_factory=list)
    streams: list[list[JSONObject]] = field(default_factory=list)
    sent: list[tuple[Endpoint, JSONObject]] = field(default_factory=list)
    broken: bool = False
    closed: bool = False

    async def complete(self, endpoint: Endpoint, body: JSONObject) -> UpstreamReply:
        self.sent.append((endpoint, body))
        if self.broken:
            raise UpstreamUnavailable("fake upstream is down")
        if self.replies:
            return UpstreamReply(body=self.replies.pop(0))
        if endpoint is Endpoint.EMBEDDINGS:
            return UpstreamReply(body=b'{"object":"list","data":[{"embedding":[0.1]}]}')
        messages = body.get("messages")
        last = messages[-1] if isinstance(messages, list) and messages else {}
        text = last.get("content") if isinstance(last, dict) else body.get("prompt")
        return UpstreamReply(body=chat_reply({"role": "assistant", "content": f"echo: {text}"}))

    def stream(self, endpoint: Endpoint, body: JSONObject) -> AsyncIterator[bytes]:
        self.sent.append((endpoint, body))
        default: list[JSONObject] = [{"content": "ok"}]
        deltas = self.streams.pop(0) if self.streams else default
        return self._events(deltas)

    async def _events(self, deltas: list[JSONObject]) -> AsyncIterator[bytes]:
        if self.broken:
            raise UpstreamUnavailable("fake upstream is down")
        for delta in deltas:
            yield orjson.dumps({"choices": [{"index": 0, "delta": delta}]})

    async def aclose(self) -> None:
        self.closed = True


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.mono = 0.0

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class FakeAudit:
    """Records events in memory; ``failing`` makes every record raise."""

    events: list[tuple[str, dict[str, JSONValue]]] = field(default_factory=list)
    failing: bool = False

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        if self.failing:
            raise AuditStoreError("audit log down")
        self.events.append((event_type, dict(payload)))

    def types(self) -> list[str]:
        return [t for t, _ in self.events]
