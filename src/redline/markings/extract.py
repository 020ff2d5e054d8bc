"""Finding the banner lines and portion marks in free text, and rolling them up.

Spec: DOMAIN.md §2.2 (what marks look like) and §2.4 (roll-up). Used on every request, so
it is one precompiled regular expression per register, scanned once per text (linear in
the text; no per-character Python loop), and each *distinct* mark is parsed once (the
parser caches by normalised text) before one join over the distinct labels. Ten thousand
copies of one portion mark cost ten thousand regex matches and one parse.

What counts as a mark (upper-case only; ``parse_marking`` itself is case-insensitive):

* **Banner line**: a whole line (leading/trailing blanks allowed) that is a marking whose
  level is spelled out (``SECRET``, ``TOP SECRET//SI/TK//NOFORN``, ``CUI``), or an
  abbreviated level followed by ``//`` (``TS//SI//NF``). A banner may continue on the next
  line when a line ends in ``,`` or ``/`` (a REL TO list wrapped by a mail client).
* **Strong portion mark**: ``(`` + level + ``//`` + marking characters + ``)``, or a non-US
  portion ``(//GBR S…)``; accepted anywhere in the text (``see (S//NF) above``). Marking
  characters are ``A-Z 0-9 space , / -`` and line breaks, so a mark wrapped across lines
  is found; at most :data:`MAX_PORTION_CHARS` characters.
* **Weak portion mark**: a bare level in parentheses, ``(U)``, ``(C)``, ``(S)``, ``(TS)``,
  ``(CUI)`` (or spelled out, ``(SECRET)``). These are ordinary text too ("(C)" as option
  C, "Controlled Unclassified Information (CUI)"), so they count only at a *portion
  start*: first thing on a line (after blanks and list bullets ``- * + > #``) and followed
  by a blank or the end of the text. In addition a one-letter mark is ignored when the
  same text also contains its alphabetical predecessor in parentheses, ``(B)`` for
  ``(C)``, ``(R)`` for ``(S)``, ``(T)`` for ``(U)``, which marks an enumerated list; and
  ``(C)`` followed by a year or "copyright" is a copyright notice.

Trade-off: the weak-mark rules favour not refusing ordinary text (multiple-choice
questions, glossaries, licence headers) over catching a mark typed mid-sentence as
``(S)``; a strong mark, or any banner, is never skipped. Marks are a cooperative signal:
someone who wants to hide classified text can delete them, so extraction is not the only
control (screening and route ceilings are).

Fail closed: a candidate that looks like a mark (banner or portion, as above) but does not
parse raises :class:`~redline.errors.MarkingError`; it is never ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from redline.markings.label import UNCLASSIFIED, Label
from redline.markings.parse import parse_marking
from redline.markings.register import Register, default_register

__all__ = ["MAX_PORTION_CHARS", "FoundMark", "extract_label", "find_marks"]

MAX_PORTION_CHARS = 1024
_BULLETS = " \t-*+>#"
# One-letter level -> the letter that precedes it in an enumerated list.
_PREDECESSOR = {"U": "T", "C": "B", "S": "R"}
_COPYRIGHT = re.compile(r"[ \t]+(?:\d{4}|COPYRIGHT|Copyright)")


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundMark:
    """One mark found in a text: ``kind`` is ``"banner"`` or ``"portion"``."""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Scanner:
    pattern: re.Pattern[str]
    register: Register


@functools.lru_cache(maxsize=8)
def _scanner(register: Register) -> _Scanner:
    names = sorted({*register.level_names, "CUI"}, key=lambda n: (-len(n), n))
    full = [n for n in names if len(n) > 2]
    abbr = [n for n in names if len(n) <= 2]
    any_level = "|".join(re.escape(n) for n in names)
    full_level = "|".join(re.escape(n) for n in full)
    abbr_level = "|".join(re.escape(n) for n in abbr)
    body = rf"[A-Z0-9 ,/\-\t\r\n]{{0,{MAX_PORTION_CHARS}}}"
    portion = (
        rf"\((?P<portion>(?P<foreign>//[A-Z]{{3,4}} )?(?:{any_level})(?P<rest>[ \t]*//{body})?)\)"
    )
    # Banner tail: categories on the same line, or wrapped after a trailing "," or "/".
    tail = r"(?:[,/][ \t]*\r?\n[ \t]*|[A-Z0-9 ,/\-\t])*"
    banner = (
        rf"\n[ \t]*(?P<banner>(?:{full_level})(?:[ \t]*//{tail})?|(?:{abbr_level})[ \t]*//{tail})"
        r"[ \t]*(?=\r?\n|\Z)"
    )
    return _Scanner(re.compile(f"{portion}|{banner}"), register)


def _weak_ok(text: str, start: int, end: int, level: str, enumerated: dict[str, bool]) -> bool:
    """Whether a bare ``(LEVEL)`` at ``text[start:end]`` is at a portion start (module doc).

    ``enumerated`` caches, per text, whether a predecessor letter ``(B)`` etc. occurs, so
    that many weak marks in one text cost one search per letter.
    """
    if end < len(text) and text[end] not in " \t\r\n":
        return False
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip(_BULLETS):
        return False
    predecessor = _PREDECESSOR.get(level)
    if predecessor is not None:
        if predecessor not in enumerated:
            enumerated[predecessor] = f"({predecessor})" in text
        if enumerated[predecessor]:
            return False
    return not (level == "C" and _COPYRIGHT.match(text, end))


def _scan(text: str, scanner: _Scanner) -> Iterable[FoundMark]:
    # A leading "\n" lets one pattern (first characters "(" and "\n") find banners on the
    # first line too; positions are shifted back by one.
    padded = "\n" + text
    enumerated: dict[str, bool] = {}
    for match in scanner.pattern.finditer(padded):
        banner = match.group("banner")
        if banner is not None:
            start = match.start("banner") - 1
            yield FoundMark(kind="banner", text=banner, start=start, end=start + len(banner))
            continue
        start, end = match.start() - 1, match.end() - 1
        weak = match.group("rest") is None and match.group("foreign") is None
        if weak and not _weak_ok(text, start, end, match.group("portion"), enumerated):
            continue
        yield FoundMark(kind="portion", text=match.group(), start=start, end=end)


def find_marks(text: str, *, register: Register | None = None) -> list[FoundMark]:
    """Every banner line and portion mark in ``text``, in order (not yet parsed)."""
    return list(_scan(text, _scanner(register or default_register())))


def extract_label(texts: Iterable[str], *, register: Register | None = None) -> Label:
    """The roll-up of every mark found in ``texts``; ``UNCLASSIFIED`` if there is none.

    Args:
        texts: e.g. the ``text`` of every message of a chat request.
        register: the token register; the shipped default when omitted.

    Raises:
        MarkingError: a banner line or portion mark (as defined in the module docstring)
            does not parse: fail closed.
    """
    reg = register or default_register()
    scanner = _scanner(reg)
    distinct: set[str] = set()
    for text in texts:
        distinct.update(found.text for found in _scan(text, scanner))
    label = UNCLASSIFIED
    for mark in sorted(distinct):  # sorted: the same error for the same input
        label = label.join(parse_marking(mark, register=reg))
    return label
