"""Finding the banner lines and portion marks in free text, and rolling them up.

Spec: DOMAIN.md §2.2 (what marks look like) and §2.4 (roll-up). Used on every request and
on every answer, so each text is canonicalised once (:mod:`redline.markings.canon`: NFKC,
look-alikes folded, invisible and bidi characters removed, every line break ``\\n``) and
scanned by one precompiled regular expression per register: linear, no per-character
Python loop, no backward search. Each distinct mark is parsed once. Plain ASCII text skips
the Unicode work, so unmarked text costs one regex scan (about 1 ms per 100 KB).

What counts as a mark, in the canonical text (letters in any case unless noted; blanks
allowed around ``/`` and inside the parentheses, ``( S / / NF )``):

* **Banner line**: a whole line that is a marking whose level is spelled out (``SECRET``,
  ``Top Secret``, ``TOP SECRET//SI/TK//NOFORN``, ``CUI``), or an abbreviated level followed
  by ``//`` (``TS//SI//NF``, ``s//nf``). The line may also hold blanks, ``#`` and ``>``
  before it, Markdown emphasis, code marks and quotes around it, a label prefix
  (``Classification:``, ``Overall classification:``, ``Classified By:``, ``Marking:``)
  and trailing punctuation (``. , ; : ! ?``). A banner ending in ``,`` or ``/`` continues
  on the next line when that line is made of marking characters (a wrapped REL TO list).
* **Strong portion mark**: ``(`` + level + ``//`` + marking characters + ``)``, or a non-US
  portion ``(//GBR S…)``; anywhere in the text (``see (S//NF) above``). Marking characters
  are ``A-Z 0-9 space , / -`` and line breaks; at most :data:`MAX_PORTION_CHARS`.
* **Weak portion mark** (upper case only): a bare level in parentheses, ``(U)``, ``(C)``,
  ``(S)``, ``(TS)``, ``(CUI)``, ``(SECRET)``. These are ordinary text too ("(C)" as option
  C, "Controlled Unclassified Information (CUI)"), so they count only at a *portion
  start*: first thing on a line (after blanks and list bullets ``- * + > #``) and followed
  by a blank or the end of the text. A one-letter mark is ignored when the same text also
  has its alphabetical predecessor in parentheses (``(B)`` for ``(C)``, an enumerated
  list), and ``(C)`` followed by a year or "copyright" is a copyright notice.

Ambiguity is resolved towards the higher label: a line that is only a level word
(``Secret``, ``top secret.``, ``**Confidential**``) is a banner, although it may be a
heading. Prose is not: "the secret to good bread", "Secret Service", "Top secret: the
recipe", "(see above)", "(S)ection", "(A) … (B) … (C) …", "(CUI)" mid-sentence, and a
banner followed by prose on the same line (``SECRET//NOFORN the rest``).

Fail closed: a candidate in upper case (after canonicalisation) that does not parse raises
:class:`~redline.errors.MarkingError`; it is never ignored. A candidate with lower-case
letters (``(s//see notes)``, ``ts//sci clearance required``) counts only if it parses,
since lower case is how prose looks. No other exception escapes for any ``str`` input.

Several texts (the messages and fields of a request, the parts of an answer) are read as a
person reads them, one after the other: each text is scanned on its own, and the seams
between adjacent texts are scanned again with the texts joined end to end, so a mark split
over texts (``TOP SECRET//`` + ``SI//NOFORN``, ``(S//`` + ``NF)``) is found. A joined
reading counts if it parses and is ignored otherwise; an upper-case fragment at a seam
(``TOP SECRET//``) raises only if no mark that parsed across the seam covers it. Hence
splitting a text into two never lowers its label, and a benign text between two texts
never hides a mark that either of them holds (tested as properties).

Marks are a cooperative signal: someone who wants to hide classified text can delete them,
so extraction is not the only control (screening and route ceilings are). Not handled:
text that bidi overrides reorder for display (the controls are removed, the order kept),
marks spelled with look-alikes outside :data:`~redline.markings.canon.CONFUSABLES`.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from redline.errors import MarkingError
from redline.markings.canon import canonicalise
from redline.markings.label import UNCLASSIFIED, Label
from redline.markings.parse import MAX_MARKING_CHARS, parse_marking
from redline.markings.register import Register, default_register

__all__ = ["MAX_PORTION_CHARS", "FoundMark", "extract_label", "find_marks"]

MAX_PORTION_CHARS = 1024
_FLAGS = re.IGNORECASE | re.ASCII
_BULLETS = r" \t\-*+>#"  # list bullets before a weak mark, as a character class body
# One-letter level -> the letter that precedes it in an enumerated list.
_PREDECESSOR = {"U": "T", "C": "B", "S": "R"}
_COPYRIGHT = re.compile(r"[ \t]+(?:\d{4}|copyright)", _FLAGS)
_LOWER = re.compile(r"[a-z]")
_CHARS = r"A-Z0-9 ,/\-\t"  # marking characters on one line
_DECOR = "*_`\"'"  # Markdown emphasis and code, quotes: around a banner or its prefix
_LEAD = rf"[ \t#>{_DECOR}]*+"
_PREFIX = (
    r"(?:(?:(?:overall|security)[ \t]+)?classification(?:[ \t]+(?:level|marking))?"
    rf"|classified(?:[ \t]+by)?|marking)[ \t{_DECOR}]*[:\-][ \t{_DECOR}]*+"
)
_TRAIL_CHARS = rf" \t.,;:!?{_DECOR}"
_TRAIL = rf"[{_TRAIL_CHARS}]*+(?=\n|\Z)"
_NEXT_LINE = re.compile(rf"\n[ \t]*+([{_CHARS}]*+)(?=\n|\Z)", _FLAGS)
# How far a seam scan reaches into each text: the longest mark that can parse, plus room.
_SEAM_REACH = MAX_MARKING_CHARS + 128
_MAX_WRAPPED_LINES = 64
_TRAIL_ONLY = re.compile(f"[{_TRAIL_CHARS}]*")
_BLANK = re.compile(r"\s*")


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundMark:
    """One mark found in a text, parsed.

    ``kind`` is ``"banner"`` or ``"portion"``; ``text`` is the mark as parsed and
    ``start``/``end`` its span in ``canonicalise(text)`` (the text itself when it is plain
    ASCII; see :mod:`redline.markings.canon`).
    """

    kind: str
    text: str
    start: int
    end: int
    label: Label


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    start: int
    # Readings to try in order, each a prefix of the text at ``start``: the banner with its
    # wrapped continuation, as written, without a trailing comma.
    readings: tuple[str, ...]
    certain: bool  # upper case: a parse failure is an error, not prose
    lo: int  # start of the whole match (line start for a banner)
    hi: int  # end of the whole match (trailing punctuation, continuation lines)


@dataclass(frozen=True, slots=True)
class _Scanner:
    pattern: re.Pattern[str]
    register: Register


def _alternation(names: list[str]) -> str:
    return "|".join(re.escape(n).replace(r"\ ", r"[ \t]+") for n in names)


@functools.lru_cache(maxsize=8)
def _scanner(register: Register) -> _Scanner:
    names = sorted({*register.level_names, "CUI"}, key=lambda n: (-len(n), n))
    any_level = _alternation(names)
    full_level = _alternation([n for n in names if len(n) > 2])
    abbr_level = _alternation([n for n in names if len(n) <= 2])
    body = rf"[{_CHARS}\n]{{0,{MAX_PORTION_CHARS}}}"
    tail = rf"[{_CHARS}]*+"
    # canonicalise keeps blanks, so "( S / / NF )" is allowed for; the parser removes them.
    sep = r"[ \t]*/[ \t]*/"
    strong = (
        rf"\([ \t]*(?P<portion>{sep}[ \t]*[A-Z]{{3,4}}[ \t]+(?:{any_level})(?:{sep}{body})?"
        rf"|(?:{any_level}){sep}{body})[ \t]*\)"
    )
    banner = (
        rf"\n{_LEAD}(?:{_PREFIX})?"
        rf"(?P<banner>(?:{full_level})(?:{sep}{tail})?|(?:{abbr_level}){sep}{tail})"
        rf"{_TRAIL}"
    )
    # A weak mark is anchored at its line's start here, so no backward search is needed.
    weak = (
        rf"\n[{_BULLETS}]*+(?P<weakmark>\([ \t]*(?P<weak>(?-i:{any_level}))[ \t]*\))"
        r"(?=[ \t\n]|\Z)"
    )
    return _Scanner(re.compile(f"{strong}|{banner}|{weak}", _FLAGS), register)


def _weak_ok(text: str, end: int, level: str, enumerated: dict[str, bool]) -> bool:
    """Whether a bare ``(LEVEL)`` at a portion start, ending at ``end``, is a mark: not
    in an enumerated list, not a copyright notice (module doc).

    ``enumerated`` caches, per text, whether a predecessor letter ``(B)`` etc. occurs, so
    that many weak marks in one text cost one search per letter.
    """
    predecessor = _PREDECESSOR.get(level)
    if predecessor is not None:
        if predecessor not in enumerated:
            enumerated[predecessor] = f"({predecessor})" in text
        if enumerated[predecessor]:
            return False
    return not (level == "C" and _COPYRIGHT.match(text, end))


def _banner(padded: str, match: re.Match[str]) -> _Candidate:
    """A banner candidate and its readings; positions are in ``padded`` minus one."""
    start = match.start("banner")
    line = match.group("banner").rstrip(" \t")
    readings = [line]
    hi = match.end()
    if line.endswith((",", "/")):  # wrapped onto the next line(s)?
        end, pos = start + len(line), hi
        while padded[start:end].endswith((",", "/")) and end - start <= MAX_MARKING_CHARS:
            nxt = _NEXT_LINE.match(padded, pos)
            if nxt is None or not nxt.group(1).strip():
                break
            end, pos = nxt.start(1) + len(nxt.group(1).rstrip(" \t")), nxt.end()
        if end > start + len(line):
            readings.insert(0, padded[start:end])
            hi = max(hi, pos)
    if line.endswith(","):
        readings.append(line.rstrip(" \t,"))
    certain = _LOWER.search(line) is None
    return _Candidate("banner", start - 1, tuple(readings), certain, match.start() - 1, hi - 1)


def _scan(
    text: str, scanner: _Scanner, *, line_start: bool = True, line_end: bool = True
) -> Iterator[_Candidate]:
    """Candidates in ``text``, in order. ``line_start``/``line_end`` say whether the ends
    of ``text`` are line ends (false for a window cut out of a longer line)."""
    # A leading "\n" lets one pattern (first characters "(" and "\n") find banners and
    # weak marks on the first line too; positions are shifted back by one. A "\0" (which
    # canonicalise deletes from the text) stands for "the line goes on".
    padded = ("\n" if line_start else "\0") + text + ("" if line_end else "\0")
    enumerated: dict[str, bool] = {}
    for match in scanner.pattern.finditer(padded):
        if match.group("banner") is not None:
            yield _banner(padded, match)
        elif match.group("weak") is not None:
            if _weak_ok(padded, match.end(), match.group("weak"), enumerated):
                start, end = match.start("weakmark") - 1, match.end() - 1
                yield _Candidate("portion", start, (match.group("weakmark"),), True, start, end)
        else:
            mark = match.group()
            start, end = match.start() - 1, match.end() - 1
            yield _Candidate("portion", start, (mark,), _LOWER.search(mark) is None, start, end)


class _Reader:
    """Parses the candidates of one extraction, each distinct candidate once, and joins
    the labels of those that parse into :attr:`label` (no labels are kept: ten thousand
    distinct marks cost ten thousand parses and joins, not ten thousand live labels)."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self.label = UNCLASSIFIED
        self._memo: dict[tuple[str, ...], str | MarkingError] = {}

    def read(self, candidate: _Candidate) -> str | MarkingError:
        """The first reading of ``candidate`` that parses, or the first reading's error."""
        key = candidate.readings
        result = self._memo.get(key)
        if result is None:
            result = self._parse(key)
            self._memo[key] = result
        return result

    def _parse(self, readings: tuple[str, ...]) -> str | MarkingError:
        first: MarkingError | None = None
        for reading in readings:
            try:
                parsed = parse_marking(reading, register=self.register)
            except MarkingError as exc:
                first = first or exc
                continue
            self.label = self.label.join(parsed)
            return reading
        return first if first is not None else MarkingError("empty marking")


def find_marks(text: str, *, register: Register | None = None) -> list[FoundMark]:
    """Every mark in ``text`` (module docstring), parsed, in order.

    Raises:
        MarkingError: an upper-case candidate does not parse (fail closed).
    """
    reader = _Reader(register or default_register())
    marks: list[FoundMark] = []
    failures: list[tuple[str, MarkingError]] = []
    for candidate in _scan(canonicalise(text), _scanner(reader.register)):
        result = reader.read(candidate)
        if isinstance(result, MarkingError):
            if candidate.certain:
                failures.append((candidate.readings[0], result))
            continue
        label = parse_marking(result, register=reader.register)  # cached by the parser
        end = candidate.start + len(result)
        marks.append(
            FoundMark(kind=candidate.kind, text=result, start=candidate.start, end=end, label=label)
        )
    if failures:
        raise min(failures, key=lambda f: f[0])[1]
    return marks


def extract_label(texts: Iterable[str], *, register: Register | None = None) -> Label:
    """The roll-up of every mark found in ``texts``; ``UNCLASSIFIED`` if there is none.

    Use it on whatever a reader will see: the texts of a request (messages in order, then
    the other fields) or of an answer (its text, then its tool calls). Adjacent texts are
    also read joined (module docstring), so pass them in the order a reader meets them.

    Args:
        texts: e.g. the ``text`` of every message of a chat request.
        register: the token register; the shipped default when omitted.

    Raises:
        MarkingError: an upper-case banner line or portion mark does not parse (module
            docstring): fail closed. No other exception escapes for any ``str`` input.
    """
    reader = _Reader(register or default_register())
    scanner = _scanner(reader.register)
    raw = list(texts)
    canon = [canonicalise(t) for t in raw]
    failures: list[tuple[int, _Candidate, MarkingError]] = []
    for index, text in enumerate(canon):
        for candidate in _scan(text, scanner):
            result = reader.read(candidate)
            if isinstance(result, MarkingError) and candidate.certain:
                failures.append((index, candidate, result))
    if sum(1 for text in canon if text) > 1:
        failures = _read_seams(raw, canon, reader, scanner, failures)
    if failures:  # the same error for the same input
        raise min(failures, key=lambda f: f[1].readings[0])[2]
    return reader.label


def _read_seams(
    raw: list[str],
    canon: list[str],
    reader: _Reader,
    scanner: _Scanner,
    failures: list[tuple[int, _Candidate, MarkingError]],
) -> list[tuple[int, _Candidate, MarkingError]]:
    """Read the texts joined end to end around each seam (what parses joins the reader's
    label) and return the failures that no mark across a seam explains."""
    parts: list[str] = []
    offsets: list[int] = []  # position in the joined text of each text's index 0
    seams: list[int] = []
    pos = 0
    for index, text in enumerate(canon):
        # "\r" + "\n" split over two texts is one line break, as it is in one text.
        skip = int(index > 0 and raw[index - 1].endswith("\r") and raw[index].startswith("\n"))
        offsets.append(pos - skip)
        if pos > 0 and (not seams or seams[-1] != pos):
            seams.append(pos)
        parts.append(text[skip:])
        pos += len(text) - skip
    joined = "".join(parts)
    seams = [p for p in seams if p < len(joined)]
    across: list[tuple[int, int]] = []  # spans of marks that parsed across a seam
    for lo, hi, last, line_start, line_end in _windows(joined, seams):
        window = joined[lo:hi]
        for candidate in _scan(window, scanner, line_start=line_start, line_end=line_end):
            if lo + candidate.lo >= last:
                break  # starts after the last seam of this window: read per text already
            result = reader.read(candidate)
            if isinstance(result, MarkingError):
                continue  # a joined reading that does not parse is not a mark
            start = lo + candidate.start
            end = start + len(result)
            first_after = bisect.bisect_right(seams, start)
            if first_after < len(seams) and seams[first_after] < end:
                across.append((start, end))
    kept = []
    for index, candidate, error in failures:
        text = canon[index]
        at_seam = (_BLANK.fullmatch(text, 0, max(0, candidate.lo)) and any(canon[:index])) or (
            _BLANK.fullmatch(text, candidate.hi) and any(canon[index + 1 :])
        )
        start = offsets[index] + candidate.start
        end = start + len(candidate.readings[0])
        if not (at_seam and any(s <= start and end <= e for s, e in across)):
            kept.append((index, candidate, error))
    return kept


def _windows(joined: str, seams: list[int]) -> Iterator[tuple[int, int, int, bool, bool]]:
    """Windows of ``joined`` holding every mark that can cross a seam:
    ``(lo, hi, last seam, line_start, line_end)``, overlapping windows merged.

    A mark crossing seam ``p`` starts at the last ``(`` before ``p`` (a portion holds no
    parenthesis) or at the start of ``p``'s line or of the lines that line continues (a
    banner), at most :data:`_SEAM_REACH` characters back; it ends within as many
    characters after ``p``, or at the end of its line.
    """
    merged: list[list[int]] = []
    for p in seams:
        lo, hi = _reach_back(joined, p), min(len(joined), p + _SEAM_REACH)
        if merged and lo <= merged[-1][1]:
            merged[-1][1:] = [hi, p]
        else:
            merged.append([lo, hi, p])
    for lo, stop, last in merged:
        hi, line_end = stop, True
        if hi < len(joined):
            ahead = joined.find("\n", hi, hi + _SEAM_REACH)
            if ahead >= 0:
                hi = ahead
            elif hi + _SEAM_REACH >= len(joined):
                hi = len(joined)
            else:  # only trailing punctuation up to the reach: as good as a line end
                line_end = _TRAIL_ONLY.fullmatch(joined, hi, hi + _SEAM_REACH) is not None
        yield lo, hi, last, lo == 0 or joined[lo - 1] == "\n", line_end


def _reach_back(joined: str, p: int) -> int:
    """Where a mark crossing seam ``p`` can start at the earliest (see :func:`_windows`)."""
    floor = max(0, p - _SEAM_REACH)
    paren = joined.rfind("(", max(floor, p - MAX_PORTION_CHARS - 64), p)
    line = joined.rfind("\n", floor, p) + 1
    if line == 0 and floor > 0:
        # A line longer than the reach: a banner on it would be over-long; portions only.
        line = p
    for _ in range(_MAX_WRAPPED_LINES):  # lines a wrapped banner continues
        if line == 0:
            break
        above = joined.rfind("\n", floor, line - 1) + 1
        if (above == 0 and floor > 0) or not joined[above : line - 1].rstrip(" \t").endswith(
            (",", "/")
        ):
            break
        line = above
    return min(line, paren) if paren >= 0 else line
