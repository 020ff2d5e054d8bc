"""Framed copies keep the label and the request, and every class is framed alike."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from redline.domain import Message
from redline.screening.dataset import Example
from redline.training.augment import SYSTEM_FRAMES, WRAPPERS, augment

LABELS = ("allow", "mass_domestic_surveillance", "autonomous_weapons")


def _example(i: int, label: str, text: str) -> Example:
    return Example(
        id=f"E-{i}",
        messages=(
            Message(role="user", text="earlier turn"),
            Message(role="assistant", text="ok"),
            Message(role="user", text=text),
        ),
        tools=(),
        label=label,
        batch="batch_x",
        tags=frozenset({"multi_turn"}),
        lang="en",
    )


@given(
    st.lists(
        st.tuples(st.sampled_from(LABELS), st.text(min_size=1, max_size=80)),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=0, max_value=10_000),
)
def test_framed_copies_keep_label_and_request(items: list[tuple[str, str]], seed: int) -> None:
    examples = [_example(i, label, text) for i, (label, text) in enumerate(items)]
    framed = augment(examples, share=1.0, seed=seed)
    assert len(framed) == len(examples)
    for original, copy in zip(examples, framed, strict=True):
        assert copy.label == original.label
        assert copy.id == f"{original.id}~frame"
        assert "augmented" in copy.tags
        assert original.tags <= copy.tags
        request = original.messages[-1].text
        if len(copy.messages) == len(original.messages) + 1:
            assert copy.messages[0].role == "system"
            assert copy.messages[0].text in SYSTEM_FRAMES
            assert copy.messages[1:] == original.messages
        else:
            assert copy.messages[:-1] == original.messages[:-1]
            wrapped = copy.messages[-1].text
            assert any(w.replace("{r}", request) == wrapped for w in WRAPPERS)


def test_share_and_seed_are_reproducible_and_input_untouched() -> None:
    examples = [_example(i, LABELS[i % 3], f"request {i}") for i in range(600)]
    before = list(examples)
    first = augment(examples, share=0.35, seed=7)
    assert [e.id for e in first] == [e.id for e in augment(examples, share=0.35, seed=7)]
    assert examples == before
    assert 0.25 * 600 < len(first) < 0.45 * 600
    # every class is framed at about the same rate: a frame is no evidence of a label
    for label in LABELS:
        rate = sum(e.label == label for e in first) / 200
        assert 0.2 < rate < 0.5
    assert augment(examples, share=0.0) == []
