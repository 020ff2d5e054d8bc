"""Fixtures for the monitor unit tests: a frozen clock, a config, a Monitors facade."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from redline.domain import ChatRequest, Endpoint, Message, ToolCall, ToolSpec
from redline.monitors import InProcessMonitorState, MonitorConfig, Monitors, PersonExtractor
from redline.policy import load_builtin_floor

SALT = b"unit-test-salt-0123456789abcdef"
KEY = b"unit-test-confirmation-key-0123456789"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FrozenClock:
    """A clock that moves only when told to."""

    at: datetime = T0
    mono: float = field(default=0.0)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.mono


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def chat(*texts: str, role: str = "user", tools: tuple[str, ...] = ()) -> ChatRequest:
    """A chat request with one message per text."""
    return ChatRequest(
        endpoint=Endpoint.CHAT,
        model="m",
        messages=tuple(Message(role=role, text=t) for t in texts),
        tools=tuple(ToolSpec(name=n) for n in tools),
    )


def tool_turn(call: ToolCall, result: str, tools: tuple[str, ...]) -> ChatRequest:
    """A request feeding back the result of ``call``."""
    return ChatRequest(
        endpoint=Endpoint.CHAT,
        model="m",
        messages=(
            Message(role="user", text="sensor track update"),
            Message(role="assistant", text="", tool_calls=(call,)),
            Message(role="tool", text=result),
        ),
        tools=tuple(ToolSpec(name=n) for n in tools),
    )


@pytest.fixture(scope="session")
def config() -> MonitorConfig:
    return MonitorConfig.from_policy(load_builtin_floor().monitors)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def extractor() -> PersonExtractor:
    return PersonExtractor(SALT)


@pytest.fixture
def monitors(config: MonitorConfig, extractor: PersonExtractor, clock: FrozenClock) -> Monitors:
    return Monitors(
        config, InProcessMonitorState(config), extractor, confirmation_key=KEY, clock=clock
    )
