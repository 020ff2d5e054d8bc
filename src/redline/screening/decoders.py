"""Decoders for text hidden inside a message: base64, hex, rot13, URL, HTML, ``\\uXXXX``.

Part of the normalisation stage of the screening stack (ARCHITECTURE.md, component
``screening``: "normalisers ... base64/hex/rot13"). Each decoder is a pure function
``str -> list[str]`` that returns the texts it recovered from one layer of encoding;
:func:`redline.screening.normalize.normalize` drives them recursively, canonicalises what
they return and bounds the total size.

Invariants:

* A decoder never raises on any ``str`` (invalid base64, odd hex, lone surrogates, code
  points above U+10FFFF are all "not decodable", not errors).
* Every regex is linear: single character classes with one quantifier, anchored by
  lookarounds that forbid a match from starting inside a run, so "A"*100000,
  "%"*100000 and "0"*100000 cost one pass each.
* Opaque encodings (base64, hex) are accepted only when the result looks like text
  (:func:`plausible` with ``strict=True``: ≥ 85 % printable *and* a space or ≥ 8
  letters), so random IDs and hashes are never turned into garbage views. Explicit
  escapes (``%66``, ``&#102;``, ``\\u0066``) have no such ambiguity: their result only
  needs to be ≥ 85 % printable, so ``%66%69%72%65`` yields ``fire``.
* Escape decoders (URL, HTML, ``\\u``) and rot13 work line by line and return only the
  lines that changed, so a 1 MB message with one encoded line yields one short view. An
  escape decoder that changes a line also undoes the other explicit escapes on it.

Rot13 rule: a line is rot13-decoded when the message carries an explicit cue (``rot13``,
``rot-13``, ``rot 13``, ``caesar``) and the decoded line has at least as many common English
words as the original; or, without a cue, when the decoded line has at least 3 common
English words, at least twice the original's count plus 2, and they make up ≥ 30 % of its
words. ("be" and "or" are rot13 of each other, hence the margin.)
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import urllib.parse
from collections.abc import Callable

__all__ = ["DECODERS", "Decoder", "fix_surrogates", "plausible"]

Decoder = Callable[[str], list[str]]

#: Printable share a decoded text must reach.
MIN_PRINTABLE = 0.85
#: Letters an opaque (base64/hex) decoding needs when it has no space.
MIN_LETTERS = 8
#: Candidates examined per decoder per text; beyond this the rest are ignored (the driver
#: reports "decode_limit" when a decoder returns this many results).
MAX_CANDIDATES = 4096

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def fix_surrogates(text: str) -> str:
    """Join surrogate pairs into code points and replace lone surrogates with U+FFFD.

    ``str`` from JSON (``"\\ud83d"``) may hold surrogates, which cannot be encoded as UTF-8
    and would make a downstream tokenizer raise.
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def plausible(text: str, *, strict: bool) -> bool:
    """Whether ``text`` looks like human-readable text.

    Args:
        text: a decoded candidate.
        strict: also require a space or at least :data:`MIN_LETTERS` letters (for opaque
            encodings, where random bytes are the common case).

    Returns:
        True when ≥ 85 % of the characters are printable (newline and tab count as
        printable) and, if ``strict``, the text has a space or enough letters.
    """
    if not text.strip():
        return False
    if not text.isprintable():
        printable = sum(map(str.isprintable, text)) + text.count("\n") + text.count("\t")
        if printable < MIN_PRINTABLE * len(text):
            return False
    if not strict or " " in text:
        return True
    return sum(map(str.isalpha, text)) >= MIN_LETTERS


def _utf8(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if plausible(text, strict=True) else None


# --- base64 ---------------------------------------------------------------------------

_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")


def _b64_one(candidate: str) -> str | None:
    body = candidate.rstrip("=")
    padding = len(candidate) - len(body)
    urlsafe = "-" in body or "_" in body
    if urlsafe and ("+" in body or "/" in body):
        return None  # mixed alphabets: not base64
    if len(body) % 4 == 1 or (padding and (len(body) + padding) % 4):
        return None  # impossible length or wrong padding
    try:
        raw = base64.b64decode(
            body + "=" * (-len(body) % 4), altchars=b"-_" if urlsafe else None, validate=True
        )
    except (binascii.Error, ValueError):
        return None
    return _utf8(raw)


def decode_base64(text: str) -> list[str]:
    """Standard and URL-safe base64 runs of ≥ 16 characters that decode to text."""
    found: list[str] = []
    for index, match in enumerate(_B64.finditer(text)):
        if index >= MAX_CANDIDATES:
            break
        decoded = _b64_one(match.group())
        if decoded is not None:
            found.append(decoded)
    return found


# --- hex ------------------------------------------------------------------------------

#: (pattern, substring the text must contain for the pattern to be tried)
_HEX_FORMS = (
    (re.compile(r"(?<![0-9A-Za-z])(?:0[xX])?[0-9A-Fa-f]{16,}(?![0-9A-Za-z])"), ""),  # 4142…
    (re.compile(r"(?:\\x[0-9A-Fa-f]{2}){4,}"), "\\x"),  # \x41\x42…
    (re.compile(r"(?<![0-9A-Za-z])0[xX][0-9A-Fa-f]{2}(?:[ ,;]{1,3}0[xX][0-9A-Fa-f]{2}){3,}"), "0"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{2}(?:[ :][0-9A-Fa-f]{2}){7,}(?![0-9A-Za-z])"), ""),
)
_HEX_NOISE = re.compile(r"0[xX]|\\x|[ ,;:]")


def decode_hex(text: str) -> list[str]:
    """Hex runs (``414243…``, ``0x4142…``, ``\\x41\\x42…``, ``0x41, 0x42``, ``41 42 …``)."""
    found: list[str] = []
    count = 0
    for pattern, needed in _HEX_FORMS:
        if needed not in text:
            continue
        for match in pattern.finditer(text):
            count += 1
            if count > MAX_CANDIDATES:
                return found
            digits = _HEX_NOISE.sub("", match.group())
            if len(digits) % 2:
                continue
            decoded = _utf8(bytes.fromhex(digits))
            if decoded is not None:
                found.append(decoded)
    return found


# --- escapes, line by line ------------------------------------------------------------

_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_MIN_PERCENT_ESCAPES = 2
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_UESC = re.compile(r"\\u\{([0-9A-Fa-f]{1,6})\}|\\U([0-9A-Fa-f]{8})|\\u([0-9A-Fa-f]{4})")


def _changed_lines(text: str, marker: re.Pattern[str], fn: Callable[[str], str]) -> list[str]:
    """Apply ``fn`` to each line containing ``marker``; return the changed lines, joined."""
    if marker.search(text) is None:
        return []
    out = [
        _explicit(new)
        for line in text.split("\n")
        if marker.search(line) and (new := fn(line)) != line
    ]
    joined = "\n".join(out)
    return [joined] if out and plausible(joined, strict=False) else []


def _unquote(line: str) -> str:
    return urllib.parse.unquote(line, errors="replace")


def _explicit(line: str) -> str:
    """Undo every explicit escape on a line, so that a line mixing ``%66`` and ``&#102;``
    yields one view rather than one per combination of decoders."""
    if "%" in line and len(_PCT.findall(line, 0, 1 << 16)) >= _MIN_PERCENT_ESCAPES:
        line = _unquote(line)
    if "&" in line and _ENTITY.search(line):
        line = html.unescape(line)
    if "\\" in line and _UESC.search(line):
        line = _uesc_line(line)
    return line


def decode_url(text: str) -> list[str]:
    """Percent-encoding (``%66%69%72%65`` -> ``fire``); needs two or more escapes."""
    if len(_PCT.findall(text, 0, 1 << 16)) < _MIN_PERCENT_ESCAPES:
        return []
    return _changed_lines(text, _PCT, _unquote)


def decode_html(text: str) -> list[str]:
    """HTML character references, named and numeric (``&#102;ire``, ``&lt;``)."""
    return _changed_lines(text, _ENTITY, html.unescape)


def _uesc_one(match: re.Match[str]) -> str:
    code = int(match.group(1) or match.group(2) or match.group(3), 16)
    return chr(code) if code <= 0x10FFFF else match.group()


def _uesc_line(line: str) -> str:
    return fix_surrogates(_UESC.sub(_uesc_one, line))


def decode_unicode_escapes(text: str) -> list[str]:
    """``\\uXXXX``, ``\\UXXXXXXXX`` and ``\\u{X…}`` escapes (surrogate pairs joined)."""
    return _changed_lines(text, _UESC, _uesc_line)


# --- rot13 ----------------------------------------------------------------------------

_ROT13_CUE = re.compile(r"(?<![A-Za-z0-9])(?:rot[ _-]?13|caesar)", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_ASCII_LETTERS = re.compile(r"[A-Za-z]")
_MIN_ROT13_LETTERS = 4
_SEGMENT = re.compile(r"[^\n.!?;:\"]+")
_COMMON_WORDS = """
    the be to of and a in that have i it for not on with he as you do at this but his by
    from they we say her she or an will my one all would there their what so up out if about
    who get which go me when make can like time no just him know take people into year your
    good some could them see other than then now look only come its over think also back
    after use two how our work first well way even new want because any these give day most
    us is are was were has had been did does tell show write explain ignore previous
    instructions instruction rules rule all above below system prompt answer question please
    step steps build kill weapon bomb attack secret password hello world without here where
    why should must need help me make made using used into through before never always"""
_COMMON = frozenset(_COMMON_WORDS.split())


#: The common words as they read after rot13: a text's rotated words are its words rotated
#: (rot13 maps letters to letters), so one pass over a segment's words counts both.
_COMMON_ROTATED = frozenset(codecs.encode(w, "rot13") for w in _COMMON)


def _common_both(text: str) -> tuple[int, int, int]:
    """(common words in ``text``, common words in its rot13, words)."""
    words = _WORD.findall(text.lower())
    return (
        sum(map(_COMMON.__contains__, words)),
        sum(map(_COMMON_ROTATED.__contains__, words)),
        len(words),
    )


def decode_rot13(text: str) -> list[str]:
    """Rot13 segments, under the cue/common-word rule in the module docstring."""
    cued = _ROT13_CUE.search(text) is not None
    out: list[str] = []
    for index, match in enumerate(_SEGMENT.finditer(text)):
        if index >= MAX_CANDIDATES * 16:
            break
        segment = match.group()
        if len(_ASCII_LETTERS.findall(segment, 0, 64)) < _MIN_ROT13_LETTERS:
            continue
        before, after, total = _common_both(segment)
        if cued:
            accept = after >= before and after > 0
        else:
            accept = after >= 3 and after >= 2 * before + 2 and after * 10 >= total * 3
        if accept:
            out.append(codecs.encode(segment, "rot13").strip())
    joined = "\n".join(out)
    return [joined] if out and plausible(joined, strict=False) else []


#: (signal name, decoder), in the order the driver applies them.
DECODERS: tuple[tuple[str, Decoder], ...] = (
    ("base64", decode_base64),
    ("hex", decode_hex),
    ("url_encoding", decode_url),
    ("html_entities", decode_html),
    ("unicode_escapes", decode_unicode_escapes),
    ("rot13", decode_rot13),
)
