# ruff: noqa: RUF001  (look-alike letters are what these tests are about)
"""Markings as a person reads them: canonicalisation, obfuscated marks and marks split over
texts, through the public API (``extract_label``); the rule is in extract.py and canon.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import MarkingError
from redline.markings import (
    UNCLASSIFIED,
    FoundMark,
    Label,
    canonicalise,
    extract_label,
    find_marks,
    join,
    parse_marking,
)


def banner_of(*texts: str) -> str:
    return extract_label(texts).banner()


# -- every variant of the issue ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "banner"),
    [
        # a label prefix on a banner line, in any case
        ("Classification: SECRET//NOFORN", "SECRET//NOFORN"),
        ("classification: SECRET//NOFORN\nbody", "SECRET//NOFORN"),
        ("CLASSIFICATION: secret//noforn", "SECRET//NOFORN"),
        ("Overall classification: TOP SECRET//SI//NOFORN", "TOP SECRET//SI//NOFORN"),
        ("Classified By: SECRET//NOFORN", "SECRET//NOFORN"),
        ("intro\n  Marking - SECRET//REL TO USA, GBR\nbody", "SECRET//REL TO USA, GBR"),
        # trailing punctuation
        ("SECRET//NOFORN.", "SECRET//NOFORN"),
        ("SECRET//NOFORN;", "SECRET//NOFORN"),
        ("SECRET//NOFORN:", "SECRET//NOFORN"),
        ("SECRET//NOFORN,", "SECRET//NOFORN"),
        ("SECRET//NOFORN!", "SECRET//NOFORN"),
        ("SECRET//NOFORN?!\nbody", "SECRET//NOFORN"),
        ("SECRET//REL TO USA, GBR.", "SECRET//REL TO USA, GBR"),
        ("SECRET//REL TO USA, GBR,\nbody text follows", "SECRET//REL TO USA, GBR"),
        # case
        ("(s//nf) the grid", "SECRET//NOFORN"),
        ("secret//noforn", "SECRET//NOFORN"),
        ("Secret//NoForn", "SECRET//NOFORN"),
        ("ts//si//nf", "TOP SECRET//SI//NOFORN"),
        ("(ts//si-g abcd//oc/nf) x", "TOP SECRET//SI-G ABCD//ORCON/NOFORN"),
        # blanks inside
        ("( S // NF ) text", "SECRET//NOFORN"),
        ("(S / / NF) text", "SECRET//NOFORN"),
        ("SECRET / / NOFORN", "SECRET//NOFORN"),
        ("TOP  SECRET//SI//NF", "TOP SECRET//SI//NOFORN"),
        # full-width forms (NFKC)
        ("(S／／NF) text", "SECRET//NOFORN"),
        ("（S//NF）text", "SECRET//NOFORN"),
        ("（ＳＥＣＲＥＴ／／ＮＯＦＯＲＮ）", "SECRET//NOFORN"),
        ("ＳＥＣＲＥＴ／／ＮＯＦＯＲＮ", "SECRET//NOFORN"),
        ("(S\u2215\u2215NF) division slashes", "SECRET//NOFORN"),
        # look-alike letters: Cyrillic Es looks like the letter C, so it reads as CONFIDENTIAL
        ("(С//NF) text", "CONFIDENTIAL//NOFORN"),
        ("(Ѕ//NF) text", "SECRET//NOFORN"),
        ("ТОР ЅЕСRЕТ//ЅІ//NОFОRN", "TOP SECRET//SI//NOFORN"),
        ("(Τ\u0405//ΝF)", "TOP SECRET//NOFORN"),
        ("ꜱᴇᴄʀᴇᴛ//ɴᴏꜰᴏʀɴ", "SECRET//NOFORN"),
        # invisible and bidi characters anywhere inside
        ("(S\u200b//NF) text", "SECRET//NOFORN"),
        ("(S/\u200c/\u200dNF\ufeff) text", "SECRET//NOFORN"),
        ("SE\u00adCRET//NO\u2060FORN", "SECRET//NOFORN"),
        ("(S//\u202eNF\u202c) text", "SECRET//NOFORN"),
        ("\u2067SECRET//NOFORN\u2069", "SECRET//NOFORN"),
        ("(\u200eS\u200f//\u202aNF\u202d)", "SECRET//NOFORN"),
        # every line-break convention
        ("intro\rSECRET//NOFORN\rbody", "SECRET//NOFORN"),
        ("intro\r\nSECRET//NOFORN\r\nbody", "SECRET//NOFORN"),
        ("SECRET//NOFORN.\rthe grid", "SECRET//NOFORN"),
        ("intro\u2028SECRET//NOFORN\u2029body", "SECRET//NOFORN"),
        ("intro\x85SECRET//NOFORN\x85body", "SECRET//NOFORN"),
        ("intro\x0bSECRET//NOFORN\x0cbody", "SECRET//NOFORN"),
        (
            "CONFIDENTIAL//REL TO USA, AUS,\r\n  CAN, GBR\r\nbody",
            "CONFIDENTIAL//REL TO USA, AUS, CAN, GBR",
        ),
        # a line that is only a level word is a banner (ambiguous: the higher label wins)
        ("secret", "SECRET//NOFORN"),
        ("Top Secret", "TOP SECRET//NOFORN"),
        ("intro\n  Confidential.\nbody", "CONFIDENTIAL//NOFORN"),
        ("**SECRET//NOFORN**", "SECRET//NOFORN"),
        ("**Classification:** `SECRET//NOFORN`", "SECRET//NOFORN"),
        ('"secret//noforn"', "SECRET//NOFORN"),
        ("# Secret", "SECRET//NOFORN"),
    ],
)
def test_marks_as_a_person_reads_them(text: str, banner: str) -> None:
    assert banner_of(text) == banner


@pytest.mark.parametrize(
    "text",
    [
        # DOMAIN.md §2 and issue bait
        "(A)",
        "(S)ection 3 of the manual",
        "(see above)",
        "( see above )",
        "(C) 2024 Example Corp. All rights reserved.",
        "Which is right? (A) red (B) blue (C) green",
        "Which is right?\n(A) red\n(B) blue\n(C) green\n(D) none",
        "Controlled Unclassified Information (CUI) is defined in 32 CFR 2002.",
        "the secret to good bread is patience",
        "The Secret Service protects the President.",
        "Secret Service",
        "Top secret: the recipe uses butter.",
        "It's a secret!  Don't tell.",
        "Confidentiality agreements and secrets",
        "secretary of defense",
        "(s) lower-case bare letters are list items",
        "friend(s) and colleague(s)",
        "TypeScript (TS) is a language",
        "(S//see notes)",
        "ts//sci clearance required",
        "c//o the front desk",
        "and / or",
        "https://secret.example.com/s//nf",
        "Секретно: русский текст (с примерами)",
        "Το μυστικό είναι η υπομονή",
        "",
        "\u200b\u202e\r\n",
    ],
)
def test_bait_is_not_a_mark(text: str) -> None:
    assert extract_label([text]) == UNCLASSIFIED


# -- marks split over texts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "banner"),
    [
        (["TOP SECRET//", "SI//NOFORN"], "TOP SECRET//SI//NOFORN"),
        (["TOP SECRET//", "SI//NOFORN\nx"], "TOP SECRET//SI//NOFORN"),
        (["intro\nTOP SECRET//SI", "//NOFORN\nbody"], "TOP SECRET//SI//NOFORN"),
        (["(S//", "NF) the grid"], "SECRET//NOFORN"),
        (["(S//N", "F)"], "SECRET//NOFORN"),
        (["(S", "//", "NF)"], "SECRET//NOFORN"),
        (["SE", "CRET//NF"], "SECRET//NOFORN"),
        (["Classification: ", "SECRET//NOFORN"], "SECRET//NOFORN"),
        (["SECRET//REL TO USA,", "\nGBR"], "SECRET//REL TO USA, GBR"),
        (["SECRET//REL TO USA,\r", "\nGBR"], "SECRET//REL TO USA, GBR"),
        (["SECRET//REL TO USA,", "", "GBR"], "SECRET//REL TO USA, GBR"),
        (["(S//NF)", "(TS//SI//NF)"], "TOP SECRET//SI//NOFORN"),
    ],
)
def test_a_mark_split_over_texts_is_found(texts: list[str], banner: str) -> None:
    assert extract_label(texts).banner() == banner
    assert extract_label(iter(texts)).banner() == banner  # any iterable


def test_a_fragment_that_parses_nowhere_is_a_named_error() -> None:
    # Upper case and clearly a mark, but neither alone nor joined with the next text.
    with pytest.raises(MarkingError):
        extract_label(["TOP SECRET//", "hello"])
    with pytest.raises(MarkingError):
        extract_label(["TOP SECRET//"])
    # Lower case that parses nowhere is prose.
    assert extract_label(["top secret//", "hello"]) == UNCLASSIFIED


def test_a_seam_does_not_make_an_error_of_two_marks() -> None:
    # Joined, "SECRET//NOFORNABD" would not parse: a seam reading that fails is ignored.
    assert banner_of("SECRET//NOFORN", "ABD EFG") == "SECRET//NOFORN"
    assert banner_of("x\nSECRET", "//NOFORN") == "SECRET//NOFORN"


# -- canonical view and API ----------------------------------------------------------------


def test_plain_ascii_is_its_own_canonical_view() -> None:
    text = "SECRET//NOFORN\n(S//NF) prose (see above), a/b.\n"
    assert canonicalise(text) is text


def test_canonical_view() -> None:
    assert canonicalise("(С／／ＮＦ)\r\n\u200b( S / / NF )\u2028") == "(C//NF)\n( S / / NF )\n"


def test_find_marks_gives_parsed_marks_in_the_canonical_view() -> None:
    text = "Classification: secret//noforn.\r\n(Ѕ\u200b//NF) x"
    marks = find_marks(text)
    view = canonicalise(text)
    assert [(m.kind, m.text, view[m.start : m.end]) for m in marks] == [
        ("banner", "secret//noforn", "secret//noforn"),
        ("portion", "(S//NF)", "(S//NF)"),
    ]
    assert marks[1].label == parse_marking("(S//NF)")


# -- properties ----------------------------------------------------------------------------

# Valid markings: (banner, strong portion form).
MARKINGS = [
    ("SECRET//NOFORN", "(S//NF)"),
    ("TOP SECRET//SI/TK//NOFORN", "(TS//SI/TK//NF)"),
    ("CONFIDENTIAL//REL TO USA, GBR", "(C//REL TO USA, GBR)"),
    ("TOP SECRET//SI-G ABCD//ORCON/NOFORN", "(TS//SI-G ABCD//OC/NF)"),
    ("SECRET//FGI GBR//REL TO USA, GBR", "(//GBR S//REL TO USA, GBR)"),
    ("TOP SECRET//SAR-BP//NOFORN", "(TS//SAR-BP//NF)"),
    ("SECRET//REL TO USA, FVEY", "(S//REL TO USA, FVEY)"),
    ("TOP SECRET", "(TS//NF)"),
]
ZERO_WIDTH = (
    "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"  # zero-width, soft hyphen
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # bidi controls
)
LOOKALIKE = {
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М", "N": "Ν",
    "O": "О", "P": "Р", "S": "Ѕ", "T": "Т", "X": "Х", "Y": "Υ",
    "a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "s": "ѕ", "x": "х",
}  # fmt: skip
LINE_BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]
# No "c" or "s" (every level word has one), no "/" or "(": cannot form a mark.
BENIGN = st.text(
    alphabet="abdefghijklmnopqrtuvwxyzABDEFGHIJKLMNOPQRTUVWXYZ0123456789 ,.\n", max_size=40
)


@st.composite
def obfuscated(draw: st.DrawFn, text: str) -> str:
    """``text`` under a random composition of the obfuscations of the issue."""
    case = draw(st.sampled_from(["upper", "lower", "title", "mixed"]))
    if case == "mixed":
        flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
        text = "".join(ch.lower() if flip else ch for ch, flip in zip(text, flips, strict=True))
    else:
        text = {"upper": text.upper(), "lower": text.lower(), "title": text.title()}[case]
    out = []
    for original in text:
        ch = original
        how = draw(st.sampled_from(["keep", "keep", "lookalike", "fullwidth"]))
        if how == "lookalike" and ch in LOOKALIKE:
            ch = LOOKALIKE[ch]
        elif how == "fullwidth" and "!" <= ch <= "~":
            ch = chr(ord(ch) + 0xFEE0)
        if ch in "/／" and draw(st.booleans()):
            ch = draw(st.sampled_from([" ", "\t", "  "])) + ch + draw(st.sampled_from(["", " "]))
        if draw(st.integers(0, 4)) == 0:
            ch = draw(st.sampled_from(ZERO_WIDTH)) + ch
        out.append(ch)
    return "".join(out)


@st.composite
def marked_text(draw: st.DrawFn) -> tuple[str, Label]:
    """A text holding one obfuscated mark (a banner line or a portion) and its label."""
    banner, portion = draw(st.sampled_from(MARKINGS))
    before, after = draw(BENIGN), draw(BENIGN)
    if draw(st.booleans()):
        label = parse_marking(banner)
        mark = draw(obfuscated(banner))
        if draw(st.booleans()):
            mark = draw(obfuscated("Classification: ")) + mark
        mark += draw(st.sampled_from(["", ".", ";", ":", ",", "!", "?", " ."]))
        br = draw(st.sampled_from(LINE_BREAKS))
        return before + br + mark + draw(st.sampled_from(LINE_BREAKS)) + after, label
    return before + " " + draw(obfuscated(portion)) + " " + after, parse_marking(portion)


@settings(max_examples=200, deadline=None)
@given(marked_text())
def test_an_obfuscated_mark_is_read(case: tuple[str, Label]) -> None:
    text, label = case
    assert extract_label([text]).dominates(label)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(BENIGN, marked_text().map(lambda c: c[0])), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 10), BENIGN), min_size=1, max_size=3),
)
def test_benign_texts_between_texts_never_lower_the_label(
    texts: list[str], inserts: list[tuple[int, str]]
) -> None:
    before = extract_label(texts)
    longer = list(texts)
    for at, benign in inserts:
        longer.insert(at % (len(longer) + 1), benign)
    assert extract_label(longer).dominates(before)


@settings(max_examples=200, deadline=None)
@given(marked_text(), st.data())
def test_splitting_a_text_never_lowers_the_label(
    case: tuple[str, Label], data: st.DataObject
) -> None:
    text, _ = case
    whole = extract_label([text])
    at = data.draw(st.integers(0, len(text)))
    # Never lower: the split text is read at a dominating label, or refused as an unreadable
    # marking (fail closed: a named error, the request does not pass).
    try:
        split = extract_label([text[:at], text[at:]])
    except MarkingError:
        return
    assert split.dominates(whole)


def test_a_split_banner_continuation_is_refused_or_read_higher() -> None:
    zw = "\u200b"
    text = "\n" + zw.join("TOP SECRET") + "//SI-G ABCD//ORCON/NOFORN,\n"
    whole = extract_label([text])
    for at in range(len(text) + 1):
        try:
            split = extract_label([text[:at], text[at:]])
        except MarkingError:
            continue
        assert split.dominates(whole)


def test_splitting_at_every_position() -> None:
    text = "intro\r\nClassification: TOP SECRET//SI-G ABCD//ORCON/NOFORN.\r\n( s / / nf ) end"
    whole = extract_label([text])
    assert whole.banner() == "TOP SECRET//SI-G ABCD//ORCON/NOFORN"
    for at in range(len(text) + 1):
        assert extract_label([text[:at], text[at:]]).dominates(whole), at


BAIT = [
    "(A)",
    "(S)ection 3 of the manual",
    "(see above)",
    "(C) 2024 Example Corp. All rights reserved.",
    "Which is right? (A) red (B) blue (C) green",
    "Controlled Unclassified Information (CUI) is defined in 32 CFR 2002.",
    "the secret to good bread is patience",
    "The Secret Service protects the President.",
    "TypeScript (TS) is a language",
    "(S//see notes)",
]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(BAIT), min_size=1, max_size=6), st.sampled_from(["\n", " "]))
def test_bait_stays_unclassified(texts: list[str], sep: str) -> None:
    assert extract_label(texts) == UNCLASSIFIED
    assert extract_label([sep.join(texts)]) == UNCLASSIFIED


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=4))
def test_any_text_gives_a_label_or_a_marking_error(texts: list[str]) -> None:
    try:
        label = extract_label(texts)
    except MarkingError:
        return
    assert label.dominates(join(*(m.label for t in texts for m in _marks(t))))


def _marks(text: str) -> list[FoundMark]:
    try:
        return find_marks(text)
    except MarkingError:
        return []
