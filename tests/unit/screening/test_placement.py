"""A request refused on its own is refused wherever it is placed: before or after benign
turns, as a user, system, assistant or tool message (the whole-message reading in
``SafetyStack._escalate_units``).

The requests are the final user turns of the red-line items of the held-out batches F and
V (never trained on) that the stack refuses on their own; the benign turns match no
legal-test factor (checked in test_units.py), so they give the message no context.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline.domain import Action, Message, ToolCall, Verdict
from redline.policy import decide, load_builtin_floor
from redline.screening import SafetyStack
from redline.screening.dataset import load_examples
from tests.unit.screening.test_units import BENIGN

DATA = Path(__file__).resolve().parents[3] / "data" / "screening"
POLICY = load_builtin_floor()


@pytest.fixture(scope="module")
def stack() -> SafetyStack:
    return SafetyStack.load(None)


def _action(stack: SafetyStack, messages: tuple[Message, ...]) -> Action:
    scores = stack.judge(messages).scores
    verdicts = [Verdict(category=c, score=s, source="test") for c, s in scores.items()]
    return decide(POLICY, verdicts).action


@cache
def _refused_alone(stack: SafetyStack) -> tuple[str, ...]:
    found = []
    for example in load_examples([DATA / "test_f.jsonl", DATA / "valid_v.jsonl"]):
        last = example.messages[-1] if example.messages else None
        if example.label == "allow" or last is None or last.role != "user":
            continue
        if _action(stack, (Message(role="user", text=last.text),)) is not Action.ALLOW:
            found.append(last.text)
    return tuple(found)


def test_there_are_requests_to_place(stack: SafetyStack) -> None:
    assert len(_refused_alone(stack)) >= 200


benign_turn = st.builds(
    lambda role, text: Message(role=role, text=text),
    st.sampled_from(("system", "user", "assistant")),
    st.sampled_from(BENIGN),
)
benign_call = st.just(
    Message(
        role="assistant",
        text="",
        tool_calls=(ToolCall(name="get_weather", arguments='{"city": "Lyon"}'),),
    )
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    pick=st.integers(min_value=0),
    role=st.sampled_from(("user", "system", "assistant", "tool")),
    before=st.lists(st.one_of(benign_turn, benign_call), max_size=3),
    after=st.lists(benign_turn, max_size=3),
)
def test_a_request_refused_alone_is_refused_in_any_place(
    stack: SafetyStack,
    pick: int,
    role: str,
    before: list[Message],
    after: list[Message],
) -> None:
    requests = _refused_alone(stack)
    text = requests[pick % len(requests)]
    placed = (*before, Message(role=role, text=text), *after)
    assert _action(stack, placed) is not Action.ALLOW, (role, text)


@pytest.mark.parametrize("role", ["user", "system", "assistant", "tool"])
def test_every_request_refused_alone_is_refused_between_benign_turns(
    stack: SafetyStack, role: str
) -> None:
    """Every one of them, not a sample: between a benign user turn and a benign reply."""
    allowed = [
        text
        for text in _refused_alone(stack)
        if _action(
            stack,
            (
                Message(role="user", text="hello"),
                Message(role=role, text=text),
                Message(role="assistant", text="Thanks, that helps!"),
            ),
        )
        is Action.ALLOW
    ]
    assert not allowed, allowed
