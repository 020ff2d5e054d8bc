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

from redline.domain import Action, Message, ToolCall, ToolSpec, Verdict
from redline.policy import decide, load_builtin_floor
from redline.screening import SafetyStack
from redline.screening.dataset import load_examples
from tests.unit.screening.test_units import BENIGN, HTML

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


# -- inside a longer text: between paragraphs, before markup, in a tool description ------------

PADDING = "\n\n".join(" ".join(BENIGN[i : i + 4]) for i in range(0, 9, 3))
MARKUP = "\n".join(HTML.replace("c-1", f"c-{i}") for i in range(40))


def _single_line(stack: SafetyStack) -> tuple[str, ...]:
    return tuple(t for t in _refused_alone(stack) if "\n" not in t.strip())


@pytest.mark.parametrize(
    "place",
    [
        pytest.param(
            lambda t: (Message(role="user", text=f"{PADDING}\n\n{t}\n\n{PADDING}"),),
            id="paragraphs",
        ),
        pytest.param(lambda t: (Message(role="user", text=f"{t}\n{MARKUP}"),), id="markup-after"),
        pytest.param(lambda t: (Message(role="tool", text=f"{MARKUP}\n{t}"),), id="markup-before"),
    ],
)
def test_every_one_line_request_refused_alone_is_refused_inside_a_longer_text(
    stack: SafetyStack, place: object
) -> None:
    """A line of a longer text is read as it would be on its own (its features composed
    from the units' statistics), so benign paragraphs or markup around it in the same
    message do not dilute it."""
    assert callable(place)
    allowed = [t for t in _single_line(stack) if _action(stack, place(t)) is Action.ALLOW]
    assert not allowed, allowed


def test_every_one_line_request_refused_alone_is_refused_as_a_tool_description(
    stack: SafetyStack,
) -> None:
    allowed = []
    for text in _single_line(stack):
        tools = (
            ToolSpec(
                name="run_task",
                description=text,
                parameters_json='{"type":"object","properties":{"notes":{"type":"string"}}}',
            ),
        )
        scores = stack.judge((Message(role="user", text="Go ahead."),), tools).scores
        verdicts = [Verdict(category=c, score=s, source="test") for c, s in scores.items()]
        if decide(POLICY, verdicts).action is Action.ALLOW:
            allowed.append(text)
    assert not allowed, allowed


def test_benign_paragraphs_and_markup_alone_are_allowed(stack: SafetyStack) -> None:
    """The other side: reading each line alone does not make everyday text a red line."""
    for text in (PADDING, MARKUP, f"{PADDING}\n{MARKUP}"):
        assert _action(stack, (Message(role="user", text=text),)) is Action.ALLOW, text


line_text = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,;:!?'\"-_/()")
        + list("дронцельатакаиз无人机目标攻击의드론표적")
        + ["\u200b", "\u00e9", "\uff33"]
    ),
    min_size=1,
    max_size=300,
).filter(lambda t: t.strip() not in ("", "hello"))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=line_text)
def test_a_line_read_alone_scores_as_the_same_text_sent_alone(
    stack: SafetyStack, text: str
) -> None:
    """The composed reading of a line inside a longer text equals the whole-conversation
    head's reading of that line sent as the only message."""
    from redline.screening.conversation import conversation_texts
    from redline.screening.units import segment

    line = text.strip()
    segmented = segment(stack.units, (Message(role="user", text=f"hello\n{line}"),), ())
    unit = next(u for u in segmented.units if u.start == 1 and u.stop == 2)
    composed = stack._composed_alone(segmented, unit)
    sent = stack._whole_tier1(conversation_texts((Message(role="user", text=line),)))[1]
    for category, value in sent.items():
        assert composed[category] == pytest.approx(value, abs=1e-5), category
