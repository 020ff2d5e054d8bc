"""Extraction of banner lines and portion marks from free text (the rule in extract.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import MarkingError
from redline.markings import UNCLASSIFIED, extract_label, find_marks, parse_marking


def banner_of(*texts: str) -> str:
    return extract_label(texts).banner()


def test_no_marks_is_unclassified() -> None:
    assert extract_label(["hello", "what is the capital of France?"]) == UNCLASSIFIED
    assert extract_label([]) == UNCLASSIFIED


def test_banner_and_portions_across_messages_roll_up() -> None:
    messages = [
        "SECRET//REL TO USA, GBR\n(S//REL TO USA, GBR) The convoy leaves at dawn.\n",
        "Summarise this:\n(TS//SI//REL TO USA, FVEY) Intercept summary.\n(U) Weather is fine.",
    ]
    assert banner_of(*messages) == "TOP SECRET//SI//REL TO USA, GBR"


def test_strong_portion_mark_counts_anywhere() -> None:
    assert banner_of("as noted in (S//NF) the report") == "SECRET//NOFORN"
    assert banner_of("see(C//REL TO USA, GBR)above") == "CONFIDENTIAL//REL TO USA, GBR"
    assert banner_of("foreign (//GBR S//REL TO USA, GBR) text") == (
        "SECRET//FGI GBR//REL TO USA, GBR"
    )


def test_mark_split_across_lines_is_found() -> None:
    text = "(S//REL TO USA,\n   GBR) The rest of the paragraph."
    assert banner_of(text) == "SECRET//REL TO USA, GBR"
    wrapped_banner = "TOP SECRET//SI/TK//REL TO USA, AUS,\n  CAN, GBR\n\nbody text"
    assert banner_of(wrapped_banner) == "TOP SECRET//SI/TK//REL TO USA, AUS, CAN, GBR"


@pytest.mark.parametrize(
    "text",
    [
        "(S) Troop movements are planned.",
        "  (S) indented portion",
        "- (S) bullet portion",
        "> (S) quoted portion",
        "intro\n(S) second line portion",
        "(S)",
        "(SECRET) spelled out",
    ],
)
def test_weak_portion_mark_at_portion_start(text: str) -> None:
    assert extract_label([text]).level.name == "S"


@pytest.mark.parametrize(
    "text",
    [
        "(see above)",
        "(S)ection 3 of the manual",
        "Which is right? (A) red (B) blue (C) green",
        "Which is right?\n(A) red\n(B) blue\n(C) green\n(D) none",
        "(R) registered\n(S) something",
        "(T) true\n(U) unknown",
        "(C) 2024 Example Corp. All rights reserved.",
        "(C) Copyright Example Corp.",
        "Controlled Unclassified Information (CUI) is defined in 32 CFR 2002.",
        "TypeScript (TS) is a language",
        "(a) first (b) second (c) third",
        "(S//see notes)",
        "The SECRET ingredient is love",
        "x(S) y",
        "(TS): not followed by a blank",
        "(CUI)-related",
    ],
)
def test_not_marks(text: str) -> None:
    assert extract_label([text]) == UNCLASSIFIED


def test_weak_marks_in_one_text_do_not_affect_another() -> None:
    # The enumeration rule is per text: "(B)" in one message does not hide "(C)" in another.
    assert banner_of("(B) option", "(C) real portion") == "CONFIDENTIAL//NOFORN"


@pytest.mark.parametrize(
    "text",
    [
        "SECRET",
        "  TOP SECRET//SI/TK//NOFORN  ",
        "first line\nSECRET//NOFORN\nlast line",
        "TS//SI//NF",
        "CUI",
        "CONFIDENTIAL//REL TO USA, GBR\r\nbody",
    ],
)
def test_banner_lines(text: str) -> None:
    marks = find_marks(text)
    assert [m.kind for m in marks] == ["banner"]
    assert text[marks[0].start : marks[0].end] == marks[0].text
    parse_marking(marks[0].text)


def test_spans_point_into_the_text() -> None:
    text = "SECRET//NOFORN\nintro (S//NF) x\n(C) para"
    marks = find_marks(text)
    assert [(m.kind, text[m.start : m.end]) for m in marks] == [
        ("banner", "SECRET//NOFORN"),
        ("portion", "(S//NF)"),
        ("portion", "(C)"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "(S//BOGUS) text",
        "SECRET//REL TO USA\nbody",
        "(S//NF/REL TO USA, GBR) conflicting",
        "(TS//HCS) missing NOFORN",
    ],
)
def test_mark_shaped_but_invalid_fails_closed(text: str) -> None:
    with pytest.raises(MarkingError):
        extract_label([text])


def test_ten_thousand_portion_marks_in_one_message() -> None:
    paragraphs = [f"(S//REL TO USA, GBR) paragraph {i}." for i in range(10_000)]
    paragraphs[5_000] = "(TS//SI//NF) the one that matters."
    text = "\n".join(paragraphs)
    label = extract_label([text])
    assert label.banner() == "TOP SECRET//SI//NOFORN"
    assert len(find_marks(text)) == 10_000


def test_many_distinct_marks() -> None:
    countries = ["AUS", "CAN", "GBR", "NZL", "DEU", "FRA", "ITA", "ESP"]
    text = " ".join(f"(S//REL TO USA, {c}, {d})" for c in countries for d in countries if c != d)
    assert banner_of(text) == "SECRET//NOFORN"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("(SCUT)/ NF\nRELTOUSAGB,-x"), max_size=120))
def test_extract_raises_only_marking_error(text: str) -> None:
    try:
        label = extract_label([text])
    except MarkingError:
        return
    # Every mark the extractor accepted is part of the result.
    for mark in find_marks(text):
        assert label.dominates(parse_marking(mark.text))
