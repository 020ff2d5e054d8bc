"""The language gate: is a text detectably not English?

The multilingual block of dense features (:mod:`redline.screening.features`,
:mod:`redline.screening.units`) is filled only for texts this test calls foreign and is
zeros otherwise, at training and serving time alike, so that English text is read with
exactly the English-only features (and is not even tokenised for the multilingual table).
The test is cheap and deterministic (no model) and reads the first 4,096 characters:

* *script*: at least :data:`MIN_NON_LATIN` letters, and at least :data:`NON_LATIN_SHARE`
  of all letters, are outside the Latin script (Cyrillic, Arabic, Hebrew, Greek,
  Devanagari, CJK, Hangul, kana, ...); or
* *marked Latin letters*: at least :data:`MIN_MARKED` letters, and at least
  :data:`MARKED_SHARE` of all letters, are Latin letters with diacritics (é, ñ, ü, ł, ş, ă,
  ờ ...), which English prose almost never reaches; or
* *function words*, for Latin-script languages written without many diacritics (Spanish,
  French, German, Portuguese, Italian, Dutch, Polish, Turkish, Romanian, Indonesian,
  Vietnamese): at least :data:`MIN_FOREIGN_WORDS` words of :data:`FOREIGN_WORDS` (short
  function words of those languages that are not English words) and more than twice as
  many as English function words (:data:`ENGLISH_WORDS`).

The stack reads normalised text, so homoglyph-obfuscated English (Cyrillic or Greek
look-alike letters) is English again by the time it is tested. An English text with a few
foreign words, a foreign name or a quoted foreign phrase stays English. A text that is made
to pass the test loses nothing either: a gated text is scored with and without the block
and each red line keeps the higher score
(:meth:`redline.screening.linear.LinearHead.gated_probabilities`), so the block can only
add evidence.
"""

from __future__ import annotations

import re

__all__ = ["ENGLISH_WORDS", "FOREIGN_WORDS", "is_foreign"]

NON_LATIN_SHARE = 0.2
MARKED_SHARE = 0.04
MIN_NON_LATIN = 2
MIN_FOREIGN_WORDS = 2
MIN_MARKED = 2
_SCAN_CHARS = 4_096  # the test reads at most this much of a text (beginning)

_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
_MARKED = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> list[str]:
    return text.split()


#: Function words of English (for the comparison only).
ENGLISH_WORDS = frozenset(
    _words("""the of and to in is that for it with as was on be by this are or from at an
    not have has had we you they he she his her its our their which who what when will
    would can could should there been were all any each if then than so but these those
    do does did my your me us them into about""")
)

#: Function words of Latin-script languages that are not English words.
FOREIGN_WORDS = (
    frozenset(
        # Spanish
        _words("""de el la los las del que en con para por un una uno unos unas es su sus lo como
    pero más muy sin sobre entre también este esta estos estas ese esa cuando donde
    porque según todos todas puede hay ser está están se le les nos mi quiero hazlo
    cada sólo solo ya desde hasta cuál cómo qué""")
        # French
        + _words("""le les des du et est une dans pour qui pas sur avec ce cette ces sont nous
    vous ils elle être fait aux leur leurs mais ou où sans tous toutes très peut doit""")
        # German
        + _words("""der die das und ist nicht mit den dem des ein eine einen einem einer für auf
    zu wir sie ich es sich auch werden wird wurde oder wenn dass nach bei von aus nur
    noch kein keine über unter alle soll müssen im vom zum zur dass sind wie kann ohne
    bitte""")
        # Portuguese
        + _words("""os da dos das não em uma com ao pelo pela são também seu sua seus suas
    ou isso esse essa nas num numa até eu você quando só faça sem quais qual""")
        # Italian
        + _words("""il di che della delle degli gli non sono questo questa anche nel nella
    alla più tu ciascuno come si dei ogni sul senza""")
        # Dutch
        + _words("""het een niet dat voor zijn worden wordt ook naar bij deze dit maar geen
    moet kunnen wij zij ze er wat hoe alle""")
        # Polish
        + _words("""się nie na że jest jak dla od po przez oraz czy ta tego są być może tylko
    wszystkich które który która jej ich go je co tak też już bez ma""")
        # Turkish
        + _words("""ve bir bu için ile olarak değil çok gibi daha olan tüm her ama veya ya şu
    lütfen ne mi sonra kadar""")
        # Romanian
        + _words("""și în cu pe nu este pentru care mai sau din sunt toate acest această""")
        # Indonesian
        + _words("""yang dan di untuk dengan ini itu tidak dari akan pada adalah ke bisa semua""")
        # Vietnamese
        + _words("""của và là không được các cho những một có trong với người này""")
    )
    - ENGLISH_WORDS
)


def is_foreign(text: str) -> bool:
    """True when ``text`` (its first 4,096 characters) is detectably not English."""
    head = text[:_SCAN_CHARS]
    if not head.isascii():
        letters = len(_LETTER.findall(head))
        non_latin = letters - len(_LATIN.findall(head))
        if non_latin >= MIN_NON_LATIN and non_latin >= NON_LATIN_SHARE * letters:
            return True
        marked = len(_MARKED.findall(head))
        if marked >= MIN_MARKED and marked >= MARKED_SHARE * letters:
            return True
    foreign = english = 0
    for word in _WORD.findall(head.lower()):
        if word in FOREIGN_WORDS:
            foreign += 1
        elif word in ENGLISH_WORDS:
            english += 1
    return foreign >= MIN_FOREIGN_WORDS and foreign > 2 * english
