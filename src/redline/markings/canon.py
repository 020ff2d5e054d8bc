# ruff: noqa: RUF001, RUF002  (look-alike letters are this module's subject)
"""The canonical view of a text that marks are found in (DOMAIN.md §2.2, "as a person reads").

A person reads ``(Ѕ／／ＮＦ)`` (Cyrillic Ѕ, full-width solidus and letters), ``(S\\u200b//NF)``
(a zero-width space) and ``( S / / NF )`` as the portion mark ``(S//NF)``, and ``(С//NF)``
(Cyrillic С) as ``(C//NF)``. The extractor therefore scans :func:`canonicalise` of each
text, never the raw text. In order:

1. Unicode NFKC: full-width forms, ligatures, styled letters, ``⁽ ⁾``, no-break spaces.
2. One ``str.translate`` table: invisible characters are deleted (zero-width U+200B-U+200D,
   U+2060-U+2064, U+FEFF, soft hyphen U+00AD, U+034F, U+180E, Hangul fillers, variation
   selectors, tag characters), as are bidi controls (LRM/RLM/ALM, U+202A-U+202E,
   U+2066-U+2069), combining marks left after NFKC and the other C0/C1 controls; line
   breaks (VT, FF, U+001C-U+001E, NEL, U+2028, U+2029) become ``\\n``; look-alike letters
   (:data:`CONFUSABLES`: Cyrillic, Greek, Armenian, Cherokee, small capitals, dotless i)
   and look-alike slashes, hyphens and parentheses become their ASCII originals.
3. ``\\r\\n`` and a lone ``\\r`` become ``\\n``.

Case and blanks are kept: the scanner matches case-insensitively (and needs to know what
was upper case) and allows blanks around ``/`` and inside parentheses (``( S / / NF )``),
which the parser then removes. The view is for finding marks only; nothing downstream
shows it to anyone, so folding look-alikes everywhere (also in genuine Russian or Greek
prose) costs nothing.

Invariants: never raises on a ``str``; linear time, all in C (``isascii``,
``unicodedata``, ``translate``, compiled regular expressions; no per-character Python loop);
plain ASCII text with ``\\n`` line breaks and no control characters is returned as it is
(the same object), so offsets into it are offsets into the input. Cost per 100 KB: about
0.1 ms for ASCII, 2 ms for typographic Unicode, 6 ms for Cyrillic prose (every letter is
looked up in the table).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CONFUSABLES", "canonicalise"]

#: Look-alike letter -> the Latin letter a reader takes it for.
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ѵ": "v", "ԍ": "g",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Һ": "H",
    "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I", "Ү": "Y", "Ѵ": "V", "Ԍ": "G",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    # Armenian
    "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "զ": "q", "Օ": "O", "Տ": "S", "Լ": "L",
    "Ս": "U",
    # Cherokee
    "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭼ": "E", "Ꮐ": "G", "Ꮋ": "H", "Ꭵ": "i", "Ꭻ": "J", "Ꮶ": "K",
    "Ꮮ": "L", "Ꮇ": "M", "Ꮲ": "P", "Ꮪ": "S", "Ꭲ": "T", "Ꮩ": "V", "Ꮃ": "W", "Ꮓ": "Z", "Ꭱ": "R",
    # Latin letters that read as other Latin letters (small capitals, dotless / dotted i)
    "ᴀ": "A", "ʙ": "B", "ᴄ": "C", "ᴅ": "D", "ᴇ": "E", "ꜰ": "F", "ɢ": "G", "ʜ": "H", "ɪ": "I",
    "ᴊ": "J", "ᴋ": "K", "ʟ": "L", "ᴍ": "M", "ɴ": "N", "ᴏ": "O", "ᴘ": "P", "ʀ": "R", "ꜱ": "S",
    "ᴛ": "T", "ᴜ": "U", "ᴠ": "V", "ᴡ": "W", "ʏ": "Y", "ᴢ": "Z", "ı": "i", "İ": "I",
}  # fmt: skip

# Look-alike punctuation that NFKC leaves alone.
_PUNCTUATION = {
    "\u2215": "/", "\u2044": "/", "\u29f8": "/", "\u2571": "/", "\u3033": "/",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-", "\u2043": "-",
    "\u2768": "(", "\u2769": ")", "\u276a": "(", "\u276b": ")", "\u27ee": "(", "\u27ef": ")",
}  # fmt: skip

_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_DELETED = [
    # C0/C1 controls other than tab, line feed and carriage return
    *range(0x09), *range(0x0E, 0x1C), 0x1F, *range(0x7F, 0x85), *range(0x86, 0xA0),
    # invisibles
    0xAD, 0x34F, 0x61C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFFA0, 0xFEFF,
    *range(0x200B, 0x2010), *range(0x2060, 0x2070),
    # bidi embeddings, overrides and isolates
    *range(0x202A, 0x202F), *range(0x2066, 0x206A),
    # combining marks (NFKC has already composed the precomposed letters)
    *range(0x300, 0x370), *range(0x1AB0, 0x1B00), *range(0x1DC0, 0x1E00),
    *range(0x20D0, 0x2100), *range(0xFE20, 0xFE30),
    # variation selectors and tag characters
    *range(0xFE00, 0xFE10), *range(0xE0000, 0xE0080), *range(0xE0100, 0xE01F0),
]  # fmt: skip
_TABLE: dict[int, str | None] = dict.fromkeys(_DELETED)
_TABLE.update({ord(ch): "\n" for ch in _LINE_BREAKS})
_TABLE.update({ord(k): v for k, v in (CONFUSABLES | _PUNCTUATION).items()})


def _char_class(codepoints: list[int]) -> str:
    """A regex character class body for ``codepoints``, consecutive runs as ranges."""
    runs: list[list[int]] = []
    for cp in sorted(codepoints):
        if runs and cp == runs[-1][1] + 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in runs)


# Any character the table changes; one C-level search decides whether to translate at all.
_NEEDS_TABLE = re.compile(f"[{_char_class(list(_TABLE))}]")
_ASCII_CONTROLS = bytes(cp for cp in _TABLE if cp < 0x80)


def canonicalise(text: str) -> str:
    """The canonical view of ``text`` described in the module docstring."""
    s = text
    if s.isascii():
        # bytes.translate with a delete set is the quickest C loop for "any control?"
        if len(s.encode("ascii").translate(None, _ASCII_CONTROLS)) != len(s):
            s = s.translate(_TABLE)
    else:
        if not unicodedata.is_normalized("NFKC", s):
            s = unicodedata.normalize("NFKC", s)
        if _NEEDS_TABLE.search(s):
            s = s.translate(_TABLE)
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s
