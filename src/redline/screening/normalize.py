# ruff: noqa: RUF001, RUF002, RUF003  (look-alike letters are this module's subject)
"""Normalisation and de-obfuscation: the views of a message the classifiers judge.

ARCHITECTURE.md, component ``screening``: "normalisers (Unicode, homoglyphs, zero-width,
leetspeak, base64/hex/rot13)". Before a classifier judges a message, :func:`normalize`
turns it into a :class:`NormalizedText`, so that a disguised or encoded instruction is
judged like a plain one. Classifiers should judge every view (:meth:`NormalizedText.views`)
and may use :attr:`NormalizedText.signals` as evidence of obfuscation.

Canonical view (``text``), in order:

1. Surrogates: pairs joined, lone ones replaced by U+FFFD (``str`` from JSON may hold them).
2. Line breaks (``\\r\\n``, ``\\r``, U+0085, U+2028/9) become ``\\n``, VT/FF become a space;
   other C0/C1 controls and bidi embeddings/overrides/isolates are removed
   (signal ``control_chars``).
3. Invisible characters are removed: U+200B-U+200F, U+2060-U+2064, U+FEFF, U+00AD, U+034F,
   U+180E, Hangul fillers, variation selectors, tag characters. Signal ``zero_width``,
   except for ZWNJ/ZWJ/LRM/RLM/ALM/VS15/VS16, which real scripts and emoji use: they signal
   only when wedged between two ASCII letters or digits. Tag characters spell hidden ASCII
   ("ASCII smuggling"); that text is also returned as a decoded view.
4. Unicode NFKC (full-width, ligatures, 𝐤𝐢𝐥𝐥 -> kill). Mathematical and enclosed
   alphanumerics signal ``homoglyphs``. Combining marks left on ASCII letters after NFKC
   (Zalgo, strike-through; precomposed accents are already composed) are removed (signal
   ``combining_marks``).
5. Homoglyphs (:data:`CONFUSABLES`, data): a word that mixes ASCII letters with look-alikes
   is folded to Latin when all its non-Latin letters are look-alikes (``ѕurvеillаnce``),
   signals ``mixed_script`` + ``homoglyphs``. A word mixing Latin with *other* letters of
   those scripts signals ``mixed_script`` only. A word made *only* of look-alikes (``а``,
   ``рос``) is folded only when (a) its script has no non-look-alike letter anywhere in the
   message (real Russian or Greek always has some: и, л, я, λ, π, σ ...), and (b) its
   neighbouring words are Latin (both, or the one it has at the message's edge). Real
   Russian/Greek text therefore stays as it is.
6. Spaced-out letters: ≥ 4 single letters separated by 1-3 spaces/tabs (``k i l l  a l l``)
   or by one repeated punctuation mark (``k.i.l.l``, ``k-i-l-l``) are joined; in the
   space form a gap wider than the narrowest gap separates words. Signal ``spaced_letters``.

``deleet``: leetspeak (:data:`LEET`) is folded in tokens that have a leet character
*between* two ASCII letters (``d3str0y``, ``h4ck``, ``sh!t``); digit runs at the start or
end of such a token are folded too (``4nthr4x``). Tokens whose leet is only at an edge are
left alone, because they cannot be told from names and numbers (``F16``, ``mp3``, ``win10``,
``2nd``, ``$500``); so are all-uppercase codes with as many digits as letters (``H5N1``),
hex-looking tokens and tokens over 32 characters. ``ki11`` is therefore not folded.

``decoded``: see :mod:`redline.screening.decoders`. Decoders run on the canonical view and,
recursively, on what they recover, up to ``max_decode_depth`` layers; each recovered text
is canonicalised as above. The total size is capped at ``max_decoded_chars`` (the last
text is truncated); reaching the cap, the depth limit with decodable content left, or a
decoder's candidate cap adds ``decode_limit``.

Invariants: :func:`normalize` never raises on a ``str``; time is linear in the input (no
regex here or in ``decoders`` can backtrack catastrophically); ASCII input without escape
or leet patterns takes a fast path.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from redline.screening.decoders import (
    DECODERS,
    MAX_CANDIDATES,
    decode_rot13,
    fix_surrogates,
    plausible,
)

__all__ = ["CONFUSABLES", "LEET", "NormalizedText", "normalize"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizedText:
    """The views of one message and what was found while making them.

    Attributes:
        text: the canonical view (see the module docstring).
        decoded: texts recovered from embedded encodings, canonicalised, outermost first.
        deleet: the leetspeak-folded variant of ``text``, or None if it equals ``text``.
        signals: names of the obfuscations found (module docstring lists them).
    """

    text: str
    decoded: tuple[str, ...]
    deleet: str | None
    signals: frozenset[str]

    def views(self) -> tuple[str, ...]:
        """``(text, deleet?, *decoded)`` with duplicates removed, in that order."""
        ordered = (self.text, *((self.deleet,) if self.deleet is not None else ()), *self.decoded)
        return tuple(dict.fromkeys(ordered))


#: Look-alike -> Latin. Only letters of Cyrillic, Greek, Armenian and Cherokee, plus IPA
#: letters no language writes in running text; never Latin letters of real orthographies
#: (Turkish ı, accented letters).
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ɡ": "g", "ɑ": "a", "ɩ": "i",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Һ": "H",
    "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I", "Ү": "Y",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    # Armenian
    "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "զ": "q", "Օ": "O", "Տ": "S", "Լ": "L",
    # Cherokee
    "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭼ": "E", "Ꮐ": "G", "Ꮋ": "H", "Ꭵ": "i", "Ꭻ": "J", "Ꮶ": "K",
    "Ꮮ": "L", "Ꮇ": "M", "Ꮲ": "P", "Ꮪ": "S", "Ꭲ": "T", "Ꮩ": "V", "Ꮃ": "W", "Ꮓ": "Z",
}  # fmt: skip

#: Leet character -> letter.
LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l",
}  # fmt: skip

_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
_LEET_TABLE = str.maketrans(LEET)
_LEET_CHARS = frozenset(LEET)
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") | _LEET_CHARS

# --- stage 2 and 3: controls and invisibles -------------------------------------------

_NEWLINES = re.compile(r"\r\n?|[\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_BENIGN_INVISIBLE = "\u200c\u200d\u200e\u200f\u061c\ufe0e\ufe0f"
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\u3164\ufe00-\ufe0f"
    "\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_SUSPICIOUS_INVISIBLE = re.compile(
    "[\u00ad\u034f\u115f\u1160\u180e\u200b\u2060-\u2064\u3164\ufe00-\ufe0d\ufeff\uffa0"
    "\U000e0100-\U000e01ef]|[A-Za-z0-9][" + _BENIGN_INVISIBLE + "]+[A-Za-z0-9]"
)
_TAG_RUN = re.compile("(\U0001f3f4)?([\U000e0000-\U000e007f]+)")
_TAG_TABLE = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}
_FLAG_TAGS = 7  # 🏴 + up to 6 tag letters + cancel tag is a subdivision flag, not a message

# --- stage 4 and 5: NFKC, marks, homoglyphs -------------------------------------------

_STYLED = re.compile("[\u24b6-\u24e9\U0001d400-\U0001d7ff]")
_MARK_ON_ASCII = re.compile(r"(?<=[A-Za-z])[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff]+")
_WORD = re.compile(r"\w+")
_LAST_WORD = re.compile(r"\w+(?=\W*\Z)")
_NEIGHBOUR_REACH = 64
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_LATIN, _OTHER = "latin", "other"
_SCRIPT_RANGES = (
    (0x0370, 0x03FF, "greek"),
    (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x1C80, 0x1C8F, "cyrillic"),
    (0xA640, 0xA69F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x13A0, 0x13FF, "cherokee"),
    (0xAB70, 0xABBF, "cherokee"),
)
_LOOKALIKES = "".join(CONFUSABLES)


def _letters_of(name: str, *, genuine: bool) -> re.Pattern[str]:
    ranges = "".join(
        f"\\U{low:08x}-\\U{high:08x}" for low, high, script in _SCRIPT_RANGES if script == name
    )
    exclude = f"(?![{_LOOKALIKES}])" if genuine else ""
    return re.compile(f"{exclude}(?=[{ranges}])[^\\W\\d_]")


#: A letter of one of the look-alike scripts; and, per script, a letter that is not a look-alike.
_SCRIPT_LETTER = re.compile(
    "(?=[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi, _ in _SCRIPT_RANGES) + r"])[^\W\d_]"
)
_GENUINE = {name: _letters_of(name, genuine=True) for *_, name in _SCRIPT_RANGES}

# --- stage 6: spaced letters -----------------------------------------------------------

_SPACED_WS = re.compile(r"(?<![^\W_])[^\W\d_](?:[ \t]{1,3}[^\W\d_]){3,}(?![^\W_])")
_SPACED_PUNCT = re.compile(r"(?<![^\W_])[^\W\d_]([.\-_*·/|+~])[^\W\d_](?:\1[^\W\d_]){2,}(?![^\W_])")
_GAP = re.compile(r"[ \t]+")

# --- leetspeak --------------------------------------------------------------------------

_LEET_HINT = re.compile(r"[A-Za-z][0-9@$!|]+[A-Za-z]")
_HEXLIKE = re.compile(r"[0-9A-Fa-f]{8,}")
_MAX_LEET_TOKEN = 32
_B64_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=_-")
_ENCODED_RUN = 20  # a base64/hex-alphabet run this long is an encoding, not a word

# --- fast path ---------------------------------------------------------------------------

_ASCII_CUES = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f%&\\]|0[xX]|[A-Za-z0-9+/_-]{16}|[A-Za-z][0-9@$!|]+[A-Za-z]"
    r"|(?<![^\W_])[A-Za-z](?:[ \t]{1,3}|[.\-_*/|+~])[A-Za-z](?![^\W_])"
    r"|[0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}[ :][0-9A-Fa-f]{2}"
)


def _script(char: str) -> str:
    code = ord(char)
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return _LATIN
    for low, high, name in _SCRIPT_RANGES:
        if low <= code <= high:
            return name
    return _OTHER


def _strip_controls(text: str, signals: set[str]) -> str:
    text = _NEWLINES.sub("\n", text)
    if "\x0b" in text or "\x0c" in text:
        text = text.replace("\x0b", " ").replace("\x0c", " ")
    stripped = _CONTROL.sub("", text)
    if len(stripped) != len(text):
        signals.add("control_chars")
    return stripped


def _strip_invisibles(text: str, signals: set[str], hidden: list[str]) -> str:
    if _INVISIBLE.search(text) is None:
        return text
    if _SUSPICIOUS_INVISIBLE.search(text):
        signals.add("zero_width")
    for match in _TAG_RUN.finditer(text):
        if match.group(1) and len(match.group(2)) <= _FLAG_TAGS:
            continue  # an emoji subdivision flag (🏴 + "gbeng" + cancel)
        signals.add("zero_width")
        smuggled = match.group(2).translate(_TAG_TABLE)
        smuggled = _CONTROL.sub("", smuggled)
        if plausible(smuggled, strict=False):
            hidden.append(smuggled)
    return _INVISIBLE.sub("", text)


def _word_kind(word: str) -> str:
    """Classify a non-ASCII word: "mixed", "mixed_foldable", "lookalike" or "plain"."""
    folded = word.translate(_CONFUSABLE_TABLE)
    if _ASCII_LETTER.search(word) is None:
        return "lookalike" if folded.isascii() else "plain"
    if _SCRIPT_LETTER.search(folded) is not None:
        return "mixed"  # Latin plus letters that are not look-alikes: signal, keep
    return "mixed_foldable" if folded != word else "plain"


def _genuine(text: str, word: str) -> bool:
    """Whether ``text`` has a non-look-alike letter of a script used in ``word``."""
    scripts = {_script(char) for char in word if not char.isascii()}
    return any(_GENUINE[name].search(text) is not None for name in scripts if name in _GENUINE)


def _fold_homoglyphs(text: str, signals: set[str]) -> str:
    if text.isascii() or _ASCII_LETTER.search(text) is None:
        return text  # no Latin letter: nothing to fold into, nothing mixed
    words = [m for m in _WORD.finditer(text) if not m.group().isascii()]
    if not words:
        return text
    kinds = {m.start(): _word_kind(m.group()) for m in words}
    for match in words:
        kind = kinds[match.start()]
        if kind == "mixed" or (kind == "mixed_foldable" and _SCRIPT_LETTER.search(match.group())):
            signals.add("mixed_script")
            break
    pieces: list[str] = []
    last = 0
    genuine: dict[str, bool] = {}
    for match in words:
        kind, word = kinds[match.start()], match.group()
        fold = kind == "mixed_foldable"
        if kind == "lookalike" and _latin_neighbours(text, match, kinds):
            key = "".join(sorted({_script(c) for c in word}))
            if key not in genuine:
                genuine[key] = _genuine(text, word)
            fold = not genuine[key]
        if fold:
            pieces += [text[last : match.start()], word.translate(_CONFUSABLE_TABLE)]
            last = match.end()
            signals.add("homoglyphs")
    pieces.append(text[last:])
    return "".join(pieces)


def _latin_neighbours(text: str, match: re.Match[str], kinds: dict[int, str]) -> bool:
    """Whether the words before and after ``match`` (those that exist) are Latin."""
    before = _LAST_WORD.search(text, max(0, match.start() - _NEIGHBOUR_REACH), match.start())
    after = _WORD.search(text, match.end(), match.end() + _NEIGHBOUR_REACH)
    neighbours = [n for n in (before, after) if n is not None]
    return bool(neighbours) and all(
        n.group().isascii() or kinds.get(n.start()) == "mixed_foldable" for n in neighbours
    )


def _join_spaced(text: str, signals: set[str]) -> str:
    def join_ws(match: re.Match[str]) -> str:
        parts = _GAP.split(match.group())
        gaps = _GAP.findall(match.group())
        narrow = min(len(g) for g in gaps)
        out = [parts[0]]
        for gap, letter in zip(gaps, parts[1:], strict=True):
            out.append(" " + letter if len(gap) > narrow else letter)
        return "".join(out)

    def join_punct(match: re.Match[str]) -> str:
        return match.group().replace(match.group(1), "")

    joined = _SPACED_PUNCT.sub(join_punct, _SPACED_WS.sub(join_ws, text))
    if joined != text:
        signals.add("spaced_letters")
    return joined


def _canonical(text: str, signals: set[str], hidden: list[str]) -> str:
    """Stages 1-6 of the module docstring."""
    text = _strip_controls(fix_surrogates(text), signals)
    if not text.isascii():
        text = _strip_invisibles(text, signals, hidden)
        if not unicodedata.is_normalized("NFKC", text):
            if _STYLED.search(text):
                signals.add("homoglyphs")
            text = unicodedata.normalize("NFKC", text)
        marked = _MARK_ON_ASCII.sub("", text)
        if marked != text:
            signals.add("combining_marks")
            text = marked
        text = _fold_homoglyphs(text, signals)
    return _join_spaced(text, signals)


def _deleet_token(token: str) -> str:
    letters = sum(map(str.isalpha, token))
    if (
        len(token) > _MAX_LEET_TOKEN
        or (token.isupper() and len(token) - letters >= letters)
        or _HEXLIKE.fullmatch(token)
        or _LEET_HINT.search(token) is None
    ):
        return token
    # Digit (and leading "$") runs at the edges fold; "@", "!", "|" at the edges stay
    # (mentions, punctuation); everything between the outermost letters folds.
    head = token[: len(token) - len(token.lstrip("0123456789$"))]
    rest = token[len(head) :]
    body = rest.rstrip("0123456789")
    tail = rest[len(body) :]
    inner = body.strip("@!|")
    left = body[: len(body) - len(body.lstrip("@!|"))]
    right = body[len(left) + len(inner) :]
    return "".join(
        (
            head.translate(_LEET_TABLE),
            left,
            inner.translate(_LEET_TABLE),
            right,
            tail.translate(_LEET_TABLE),
        )
    )


def _is_encoded(text: str, start: int, end: int) -> bool:
    """Whether the token at ``text[start:end]`` is part of an escape or an encoded run."""
    if start and text[start - 1] in "\\%#&":
        return True
    low, high = max(0, start - _ENCODED_RUN), min(len(text), end + _ENCODED_RUN)
    while start > low and text[start - 1] in _B64_CHARS:
        start -= 1
    while end < high and text[end] in _B64_CHARS:
        end += 1
    return end - start >= _ENCODED_RUN


def _deleet(text: str) -> str | None:
    pieces: list[str] = []
    last = 0
    for match in _LEET_HINT.finditer(text):
        start, end = match.start(), match.end()
        if start < last:
            continue
        while start > last and text[start - 1] in _TOKEN_CHARS:
            start -= 1
        while end < len(text) and text[end] in _TOKEN_CHARS:
            end += 1
        token = text[start:end]
        folded = token if _is_encoded(text, start, end) else _deleet_token(token)
        pieces += [text[last:start], folded]
        last = end
    if not pieces:
        return None
    pieces.append(text[last:])
    out = "".join(pieces)
    return out if out != text else None


def _decode(
    roots: list[str], seen: set[str], signals: set[str], *, depth: int, budget: int
) -> list[str]:
    """Run the decoders breadth-first over ``roots``; see the module docstring."""
    results: list[str] = []
    frontier = roots
    for level in range(depth + 1):
        following: list[str] = []
        for source in frontier:
            for name, decoder in DECODERS:
                found = decoder(source)
                if len(found) >= MAX_CANDIDATES:
                    signals.add("decode_limit")
                for raw in found:
                    signals.add(name)  # found, even if another decoder got there first
                    hidden: list[str] = []
                    fresh = [
                        t for t in (_canonical(raw, signals, hidden), *hidden) if t not in seen
                    ]
                    if fresh and level == depth:  # one layer too deep: report, do not keep
                        signals.add("decode_limit")
                        return results
                    for text in fresh:
                        if len(text) > budget:
                            signals.add("decode_limit")
                            results.append(text[:budget])
                            return [r for r in results if r]
                        budget -= len(text)
                        seen.add(text)
                        results.append(text)
                        following.append(text)
        frontier = following
    return results


def normalize(
    text: str, *, max_decode_depth: int = 2, max_decoded_chars: int = 65536
) -> NormalizedText:
    """Normalise ``text`` into the views the classifiers judge.

    Args:
        text: the message, any ``str`` (lone surrogates included).
        max_decode_depth: layers of nested encoding to undo (0 disables decoding).
        max_decoded_chars: total characters of decoded text to keep.

    Returns:
        The canonical text, decoded texts, leetspeak variant and signals. Never raises.
    """
    signals: set[str] = set()
    if text.isascii() and _ASCII_CUES.search(text) is None and not decode_rot13(text):
        return NormalizedText(text=text, decoded=(), deleet=None, signals=frozenset())
    hidden: list[str] = []
    canonical = _canonical(text, signals, hidden)
    deleet = _deleet(canonical)
    if deleet is not None:
        signals.add("leetspeak")
    roots = [canonical, *hidden]
    decoded = list(hidden)
    if max_decode_depth > 0:
        seen = {canonical, *hidden}
        budget = max(0, max_decoded_chars - sum(map(len, hidden)))
        decoded += _decode(roots, seen, signals, depth=max_decode_depth, budget=budget)
    return NormalizedText(
        text=canonical,
        decoded=tuple(dict.fromkeys(decoded)),
        deleet=deleet,
        signals=frozenset(signals),
    )
