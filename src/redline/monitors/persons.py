"""Person identifiers in free text, normalised, classed by nationality, and hashed.

Spec: DOMAIN.md §5.2 (U.S. person, presumption), §5.3 (specific selection
terms: person, account, address, device), §5.6 (RL1 signals).

What is extracted (each normalised so that spellings of one identifier hash alike):

* phones: U.S./NANP (``+1``, ``(937) 555-0123``, ``937.555.0123``; a bare 10-digit run only
  after a phone word) -> ``+1NXXNXXXXXX``; international E.164 (``+44 20 7946 0958``);
* e-mail addresses (lower-cased); account handles (``@name``, lower-cased);
* U.S. postal addresses: house number + capitalised street name + street suffix, with the
  ZIP when it follows (``12 Oak St, Dayton, OH 45402``);
* national IDs: SSN shape ``AAA-GG-SSSS`` (or 9 digits after "SSN"), U.K. NINO, passport and
  other national ID numbers after their label;
* licence plates after a plate word (``plate ABC-1234``); device and advertising IDs (UUIDs
  after IDFA/GAID/ad-ID/device-ID words, IMEI with a valid Luhn digit, MAC addresses);
* personal names **in context** only: after an honorific (``Dr. Jane Roe``), after a cue word
  (``named``, ``subject:``, ``target``, ``suspect``), or before an age/residence
  (``John Smith, 42, of Dayton``). This capitalised-bigram-in-context rule is deliberately
  narrow: it misses bare names ("find John Smith") and lower-case names, and it can take an
  organisation for a person after a cue word ("subject: Acme Logistics"). The monitors count
  persons *over many requests*, so a systematic miss rate lowers the count by a constant
  factor (thresholds absorb it) while false positives on one-off requests do not accumulate.

Nationality (DOMAIN.md §5.2): an identifier in a U.S. format (NANP phone, SSN, U.S. address)
is U.S.; one in a foreign format (non-+1 E.164, NINO, other national IDs) is foreign unless
the text states U.S. citizenship or permanent residence; a format-neutral identifier (name,
e-mail, handle, device, plate, passport) takes the text's indicators - U.S. location or
citizenship makes it U.S. (unknown nationality + U.S. location => U.S. person), only foreign
indicators make it foreign, none leave it unknown. Indicators are per text, not per person:
a text that mixes persons of several nationalities is classed as a whole (documented limit).

Invariant: raw identifiers never leave this module. :class:`PersonRef` carries the kind, the
HMAC-SHA256 of ``kind:normalised`` under the deployment's salt, and the nationality class;
:class:`Extraction` adds indicator *labels* (``"us_phone"``, ``"state"``, ``"citizenship"``)
that contain no text from the request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from redline.errors import ConfigError
from redline.monitors._lexicon import (
    BIG_CITIES,
    NAME_STOPWORDS,
    STATE_ABBREVIATIONS,
    STATE_NAMES,
)

__all__ = ["Extraction", "IdentifierKind", "Nationality", "PersonExtractor", "PersonRef"]

MIN_SALT_BYTES = 16


class IdentifierKind(StrEnum):
    """Kinds of person identifier, in the order used to pick a request's persons."""

    NATIONAL_ID = "national_id"
    PHONE = "phone"
    EMAIL = "email"
    DEVICE_ID = "device_id"
    ADDRESS = "address"
    PLATE = "plate"
    HANDLE = "handle"
    NAME = "name"


_PRIORITY = {kind: i for i, kind in enumerate(IdentifierKind)}


class Nationality(StrEnum):
    """Nationality class of an identifier (DOMAIN.md §5.2)."""

    US = "us"
    UNKNOWN = "unknown"
    FOREIGN = "foreign"


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonRef:
    """One identifier of one person, as a keyed hash (never the raw value)."""

    kind: IdentifierKind
    digest: str
    nationality: Nationality

    @property
    def short(self) -> str:
        """The first 16 hex digits: what evidence cites and Redis HyperLogLogs store."""
        return self.digest[:16]

    @property
    def key64(self) -> int:
        """The first 64 bits of the digest: the hash an in-process HyperLogLog adds."""
        return int(self.digest[:16], 16)


@dataclass(frozen=True, slots=True, kw_only=True)
class Extraction:
    """Everything extracted from one text: hashed identifiers and indicator labels."""

    refs: tuple[PersonRef, ...] = ()
    indicators: tuple[str, ...] = ()

    def persons(self) -> tuple[PersonRef, ...]:
        """One identifier per estimated person.

        A request rarely links its identifiers to each other, so the number of persons is
        estimated as the number of distinct identifiers of the most frequent kind (ties go to
        the stronger kind: national ID, phone, e-mail, ...), and those identifiers stand for
        the persons. One lookup "Jane Roe, 937-555-0123, 12 Oak St" is one person (keyed by
        the phone); a list of 300 names and phones is 300 persons. The same person looked up
        once by phone and once by name counts twice: thresholds are set with that in mind.
        """
        by_kind: dict[IdentifierKind, list[PersonRef]] = {}
        for ref in self.refs:
            by_kind.setdefault(ref.kind, []).append(ref)
        if not by_kind:
            return ()
        best = min(by_kind, key=lambda k: (-len(by_kind[k]), _PRIORITY[k]))
        return tuple(by_kind[best])


# --- patterns -------------------------------------------------------------------------------

_SEP = r"[\s.\-]?"
_US_PHONE = re.compile(
    r"(?<![\w+/.-])(?P<cc>\+?1"
    + _SEP
    + r")?(?P<open>\()?(?P<a>[2-9]\d{2})\)?"
    + _SEP
    + r"(?P<b>[2-9]\d{2})"
    + _SEP
    + r"(?P<c>\d{4})(?![\w/-]|\.\d)"
)
_INTL_PHONE = re.compile(
    r"(?<![\w+])\+(?P<num>[2-9]\d{0,2}(?:[\s.\-]?\(?\d{1,4}\)?){2,6})(?![\w-])"
)
_PHONE_WORD = re.compile(
    r"(?i:phone|tel|cell|mobile|call|text|sms|whatsapp|signal|fax)\W*(?:number|no\.?|#)?\W*$"
)
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)
_HANDLE = re.compile(
    r"(?<![\w.@/])@(?P<h>[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)\b(?!\.\w)"
)
_SUFFIXES = {
    "street": "st", "st": "st", "avenue": "ave", "ave": "ave", "road": "rd", "rd": "rd",
    "boulevard": "blvd", "blvd": "blvd", "drive": "dr", "dr": "dr", "lane": "ln", "ln": "ln",
    "court": "ct", "ct": "ct", "place": "pl", "pl": "pl", "way": "way", "terrace": "ter",
    "ter": "ter", "circle": "cir", "cir": "cir", "parkway": "pkwy", "pkwy": "pkwy",
    "highway": "hwy", "hwy": "hwy", "square": "sq", "sq": "sq", "trail": "trl", "trl": "trl",
}  # fmt: skip
_ADDRESS = re.compile(
    r"\b(?P<num>\d{1,6})\s+(?P<name>(?:(?:[NSEW]\.?|[A-Z][A-Za-z'.-]*|\d{1,3}(?:st|nd|rd|th))\s+){1,4}?)"
    r"(?P<suffix>(?i:" + "|".join(sorted(_SUFFIXES, key=len, reverse=True)) + r"))\b\.?"
    r"(?P<rest>(?:,?\s*(?:Apt|Suite|Ste|Unit|#)\.?\s*[\w-]+)?"
    r"(?:,\s*[A-Z][A-Za-z.' ]{1,30}?,?\s+(?P<st>[A-Z]{2})\b\.?(?:\s+(?P<zip>\d{5})(?:-\d{4})?)?)?)"
)
_CITY_STATE_ZIP = re.compile(
    r"\b[A-Z][A-Za-z.' ]{1,30},\s*(?P<st>[A-Z]{2})\s+(?P<zip>\d{5})(?:-\d{4})?\b"
)
_STATE_ABBR = re.compile(r"(?:,\s*|\b)(?P<st>[A-Z]{2})(?:\s+\d{5}\b|(?=[\s.,;)]|$))")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)(\d{3})-(?!00)(\d{2})-(?!0000)(\d{4})(?![\d-])")
_SSN_LABELLED = re.compile(r"(?i:\bssn|social security(?: number| no\.?)?)\s*[:#]?\s*(\d{9})\b")
_NINO = re.compile(r"\b([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D])\b")
_PASSPORT = re.compile(r"(?i:passport)(?:\s+(?i:no\.?|number|#))?\s*[:#]?\s*(?P<v>[A-Z0-9]{6,9})\b")
_NATIONAL_ID = re.compile(
    r"\b(?:DNI|NIE|CURP|INSEE|CPF|Aadhaar|(?i:national id(?:entity)?(?: number| no\.?)?|"
    r"personalausweis(?:nummer)?|id card(?: number)?))\s*[:#]?\s*"
    r"(?P<v>[A-Z0-9][A-Z0-9.\- ]{5,18}[A-Z0-9])\b"
)
_PLATE = re.compile(
    r"(?i:\b(?:licen[cs]e\s+)?plates?(?:\s+(?:number|no\.?|#))?|\btag(?:\s+number)?|"
    r"\bvehicle registration|\bkennzeichen|\bmatr[ií]cula|\bimmatriculation)\s*[:#]?\s*"
    r"(?P<v>[A-Za-z0-9]{1,4}[\s-]?[A-Za-z0-9]{1,4}(?:[\s-][A-Za-z0-9]{1,3})?)\b"
)
_UUID = re.compile(
    r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b"
)
_AD_ID_WORD = re.compile(
    r"(?i:idfa|gaid|aaid|adid|maid|advertising[ _-]?id|ad[ _-]id|device[ _-]?id|mobile ad)"
)
_IMEI = re.compile(r"(?i:imei)\W{0,3}(?P<v>\d{15}|\d{2}-\d{6}-\d{6}-\d)\b")
_MAC = re.compile(
    r"(?<![\w:-])(?:[0-9A-Fa-f]{2}([:-]))(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])"
)
_NAME = r"(?P<n>[A-Z][a-z'\u2019-]+(?:\s+[A-Z]\.)?\s+[A-Z][a-z'\u2019-]+(?:-[A-Z][a-z]+)?)"
_HONORIFIC_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sgt|SSgt|Cpl|Pvt|Capt|Lt|Maj|Col|Gen|Adm|Rev|Sen|Rep|Gov|"
    r"Judge|Officer|Agent|Sr|Sra|Mme|Herr|Frau)\.?\s+" + _NAME
)
_CUE_NAME = re.compile(
    r"\b(?i:(?:named|called|name[ds]?|subject|target|suspect|individual|person|resident|"
    r"citizen|owner|user|customer|employee|applicant|driver|victim|witness|full name|"
    r"nombre|nom|personne))\s*[:=\-]?\s+" + _NAME
)
_AGE_NAME = re.compile(
    _NAME + r"(?:,\s*(?:age\s*|aged\s*)?\d{1,3},)?\s+(?:of|from|who lives in|living in|residing in|"
    r"resident of)\s+[A-Z]"
)
_US_CITIZEN = re.compile(
    r"\b(?:(?<!non-)(?<!non )(?<!not a )(?<!not an )(?:U\.?S\.?A?\.?|American|United States)"
    r"\s+(?:citizen|person|national|passport|resident)s?\b|green[- ]card\b|LPRs?\b|"
    r"(?:lawful )?permanent residen(?:t|ts|ce)\b|USPER\b|Americans?\b|"
    r"citizen of the United States\b)"
)
_US_LOCATION = re.compile(r"\b(?:in|inside|within|across) the (?:U\.S\.|US|USA|United States)\b")
_FOREIGN = re.compile(
    r"(?i:\bnon-?U\.?S\.? persons?\b|\bnon-?USP\b|\bforeign nationals?\b|"
    r"\bnot an? (?:U\.?S\.?|American) citizen\b|\blocated (?:abroad|overseas|outside the U)\b)"
)
_DIGIT = re.compile(r"\d")
_WORD_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z.]+){0,2}\b")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_name(candidate: str) -> bool:
    words = candidate.replace(".", " ").split()
    return (
        len(words) >= 2
        and not any(w in NAME_STOPWORDS or w in STATE_NAMES for w in words)
        and candidate not in BIG_CITIES
    )


def _norm_name(candidate: str) -> str:
    words = [w for w in candidate.split() if not (len(w) == 2 and w.endswith("."))]
    return " ".join(w.lower().replace("\u2019", "'") for w in words)


_Raw = tuple[IdentifierKind, str, str]  # (kind, normalised value, format: us|foreign|neutral)


class PersonExtractor:
    """Extracts person identifiers and hashes them with the deployment's salt.

    Build once (the salt is per deployment, from settings) and share: ``extract`` is pure.
    """

    __slots__ = ("_salt",)

    def __init__(self, salt: bytes) -> None:
        """Args:
            salt: the per-deployment HMAC key (at least 16 bytes).

        Raises:
            ConfigError: the salt is too short.
        """
        if len(salt) < MIN_SALT_BYTES:
            raise ConfigError(f"monitors: person-hash salt must be >= {MIN_SALT_BYTES} bytes")
        self._salt = bytes(salt)

    def __repr__(self) -> str:
        return "PersonExtractor(salt=<redacted>)"

    def digest(self, kind: IdentifierKind, normalised: str) -> str:
        """HMAC-SHA256 (hex) of ``kind:normalised`` under the salt."""
        data = f"{kind.value}:{normalised}".encode()
        return hmac.new(self._salt, data, hashlib.sha256).hexdigest()

    def extract(self, text: str) -> Extraction:
        """Extract, classify and hash every person identifier in ``text``.

        Args:
            text: the text to scan (callers bound its length).

        Returns:
            Hashed identifiers (deduplicated, in order of appearance) and indicator labels.
        """
        raws = list(dict.fromkeys(_scan(text)))
        indicators = _indicators(text, raws)
        us_context = any(i in indicators for i in ("citizenship", "state", "city", "us_location"))
        citizen = "citizenship" in indicators
        foreign_context = "foreign" in indicators
        refs = []
        for kind, value, fmt in raws:
            if fmt == "us" or (fmt == "foreign" and citizen):
                nationality = Nationality.US
            elif fmt == "foreign":
                nationality = Nationality.FOREIGN
            elif us_context or any(f == "us" for _, _, f in raws):
                nationality = Nationality.US
            elif foreign_context:
                nationality = Nationality.FOREIGN
            else:
                nationality = Nationality.UNKNOWN
            refs.append(
                PersonRef(kind=kind, digest=self.digest(kind, value), nationality=nationality)
            )
        return Extraction(refs=tuple(refs), indicators=indicators)


def _scan(text: str) -> Iterator[_Raw]:
    if _DIGIT.search(text) is not None:
        yield from _scan_numbers(text)
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield IdentifierKind.EMAIL, m.group(0).lower(), "neutral"
        for m in _HANDLE.finditer(text):
            yield IdentifierKind.HANDLE, m.group("h").lower(), "neutral"
    for pattern in (_HONORIFIC_NAME, _CUE_NAME, _AGE_NAME):
        for m in pattern.finditer(text):
            if _is_name(m.group("n")):
                yield IdentifierKind.NAME, _norm_name(m.group("n")), "neutral"


def _scan_numbers(text: str) -> Iterator[_Raw]:  # noqa: PLR0912 - one flat pass per kind
    ssn_spans: list[tuple[int, int]] = []
    for m in _SSN.finditer(text):
        ssn_spans.append(m.span())
        yield IdentifierKind.NATIONAL_ID, "ssn:" + "".join(m.groups()), "us"
    for m in _SSN_LABELLED.finditer(text):
        yield IdentifierKind.NATIONAL_ID, "ssn:" + m.group(1), "us"
    for m in _NINO.finditer(text):
        yield IdentifierKind.NATIONAL_ID, "nino:" + m.group(1).replace(" ", ""), "foreign"
    for m in _NATIONAL_ID.finditer(text):
        value = re.sub(r"[\s.\-]", "", m.group("v")).upper()
        yield IdentifierKind.NATIONAL_ID, "nid:" + value, "foreign"
    for m in _PASSPORT.finditer(text):
        yield IdentifierKind.NATIONAL_ID, "passport:" + m.group("v").upper(), "neutral"
    for m in _US_PHONE.finditer(text):
        raw = m.group(0)
        formatted = m.group("cc") is not None or m.group("open") is not None or not raw.isdigit()
        if not formatted and not _PHONE_WORD.search(text, max(0, m.start() - 24), m.start()):
            continue
        if any(s <= m.start() < e for s, e in ssn_spans):
            continue
        yield IdentifierKind.PHONE, "+1" + m.group("a") + m.group("b") + m.group("c"), "us"
    for m in _INTL_PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group("num"))
        if 8 <= len(digits) <= 15 and not digits.startswith("1"):
            yield IdentifierKind.PHONE, "+" + digits, "foreign"
    yield from _scan_addresses(text)
    for m in _PLATE.finditer(text):
        value = re.sub(r"[\s-]", "", m.group("v")).upper()
        if 4 <= len(value) <= 8 and any(c.isdigit() for c in value):
            yield IdentifierKind.PLATE, value, "neutral"
    for m in _UUID.finditer(text):
        if _AD_ID_WORD.search(text, max(0, m.start() - 40), m.start()):
            yield IdentifierKind.DEVICE_ID, "uuid:" + m.group(0).lower(), "neutral"
    for m in _IMEI.finditer(text):
        digits = re.sub(r"\D", "", m.group("v"))
        if _luhn_ok(digits):
            yield IdentifierKind.DEVICE_ID, "imei:" + digits, "neutral"
    for m in _MAC.finditer(text):
        yield IdentifierKind.DEVICE_ID, "mac:" + re.sub(r"[:-]", "", m.group(0)).lower(), "neutral"


def _scan_addresses(text: str) -> Iterator[_Raw]:
    for m in _ADDRESS.finditer(text):
        name = " ".join(m.group("name").lower().replace(".", "").split())
        suffix = _SUFFIXES[m.group("suffix").lower()]
        value = f"{m.group('num')} {name} {suffix}"
        if m.group("zip"):
            value += " " + m.group("zip")
        yield IdentifierKind.ADDRESS, value, "us"


def _indicators(text: str, raws: list[_Raw]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for kind, value, fmt in raws:
        if fmt == "us":
            label = {IdentifierKind.PHONE: "us_phone", IdentifierKind.ADDRESS: "us_address"}.get(
                kind, "ssn" if value.startswith("ssn:") else "us_format"
            )
            found[label] = None
    if _US_CITIZEN.search(text):
        found["citizenship"] = None
    if _US_LOCATION.search(text):
        found["us_location"] = None
    if _FOREIGN.search(text):
        found["foreign"] = None
    if _CITY_STATE_ZIP.search(text) or any(
        m.group("st") in STATE_ABBREVIATIONS
        and (m.group(0).startswith(",") or m.group(0)[-1].isdigit())
        for m in _STATE_ABBR.finditer(text)
    ):
        found["state"] = None
    for m in _WORD_RUN.finditer(text):
        words = m.group(0).split()
        grams = {*words, *(" ".join(words[i : i + 2]) for i in range(len(words) - 1))}
        grams.add(m.group(0))
        if not grams.isdisjoint(STATE_NAMES):
            found["state"] = None
        if not grams.isdisjoint(BIG_CITIES):
            found["city"] = None
    return tuple(found)
