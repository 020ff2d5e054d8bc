"""Parsing banner lines and portion marks into labels (DOMAIN.md §2.2, §2.3).

Normalisation rule (:func:`normalise`), applied before anything else:

1. Input longer than :data:`MAX_MARKING_CHARS` characters, or containing any non-ASCII
   character, is rejected (no Unicode case folding: the long s, U+017F, upper-cases to "S").
2. Every run of whitespace (spaces, tabs, CR, LF) becomes one space, and the ends are
   stripped: a mark split across lines reads as if it were on one line.
3. Letters are upper-cased: ``secret//noforn`` is ``SECRET//NOFORN``.
4. Spaces next to ``/``, ``-``, ``(`` and ``)`` are removed, and every comma is followed by
   exactly one space: ``S // REL TO USA,GBR`` is ``S//REL TO USA, GBR``.
5. What is left must consist of ``A-Z 0-9 space , / - ( )`` only.

Grammar (after normalisation): an optional ``( … )`` pair makes a portion mark; inside,
``//``-separated segments in the category order ``LEVEL // SCI // SAP [// WAIVED] // FGI
// DISSEM // NON-IC`` (each at most once; a CUI marking may have a category segment
right after ``CUI``). A non-US portion starts with ``//OWNER LEVEL`` (``(//GBR S)``;
``(//FGI S)`` when the source is protected). Within a segment, values are joined by
``/`` and must all belong to that segment's category; their order inside the segment is
free (the renderer fixes it). Both banner and portion vocabularies are accepted
everywhere (``NOFORN``/``NF``, ``SECRET``/``S``).

Invariants: every accepted token is in the register; every illegal combination of
§2.3 raises :class:`~redline.errors.MarkingError` naming the token and the rule; nothing is
reordered in meaning, dropped or added, except that a classified marking without any
foreign-disclosure marking is accepted with the defect ``missing-fdr`` (R8) and read as
NOFORN.
"""

from __future__ import annotations

import functools
import re

from redline.errors import MarkingError
from redline.markings.label import CountrySet, Label, Level
from redline.markings.register import Register, default_register

__all__ = ["MAX_MARKING_CHARS", "MISSING_FDR", "normalise", "parse_marking"]

MAX_MARKING_CHARS = 4096
MISSING_FDR = "missing-fdr"

_WS = re.compile(r"\s+")
_TIGHT = re.compile(r" ?([/\-]) ?")
_COMMA = re.compile(r" ?, ?")
_ALLOWED = re.compile(r"[A-Z0-9 ,/\-()]*")
_BAD_CHAR = re.compile(r"[^A-Z0-9 ,/\-()]")
_NAME = re.compile(r"[A-Z0-9]{1,32}")
_PROGRAM = re.compile(r"[A-Z0-9]{1,32}(?: [A-Z0-9]{1,32}){0,3}")

# Category ranks: segments must appear in increasing order (DOMAIN.md §2.2).
_CUI_CAT, _SCI, _SAP, _WAIVED, _FGI, _DISSEM, _NONIC = range(1, 8)
_SAP_PREFIXES = ("SAR-", "SPECIAL ACCESS REQUIRED-")
_LISTED = ("REL TO ", "DISPLAY ONLY ", "DISPLAYONLY ")
_CATEGORY_NAMES = {
    _CUI_CAT: "CUI category",
    _SCI: "SCI",
    _SAP: "SAP",
    _WAIVED: "WAIVED",
    _FGI: "FGI",
    _DISSEM: "dissemination",
    _NONIC: "non-IC",
}


def _fail(message: str, token: str, rule: str) -> MarkingError:
    return MarkingError(f"{message}: {token!r} ({rule})", token=token, rule=rule)


def normalise(text: str) -> str:
    """Apply the normalisation rule of the module docstring.

    Raises:
        MarkingError: the text is too long, not ASCII, or has a character no marking has.
    """
    if len(text) > MAX_MARKING_CHARS:
        raise _fail("marking too long", text[:40], f"at most {MAX_MARKING_CHARS} characters")
    if not text.isascii():
        bad = next(ch for ch in text if not ch.isascii())
        raise _fail("non-ASCII character in marking", bad, "markings are ASCII")
    s = _WS.sub(" ", text).strip().upper()
    s = _TIGHT.sub(r"\1", s)
    s = _COMMA.sub(", ", s).replace("( ", "(").replace(" )", ")")
    if not _ALLOWED.fullmatch(s):
        bad_match = _BAD_CHAR.search(s)
        bad = bad_match.group() if bad_match else s
        raise _fail("character not allowed in a marking", bad, "marking character set")
    return s


def parse_marking(text: str, *, register: Register | None = None) -> Label:
    """Parse one banner line or portion mark (with or without its parentheses).

    Args:
        text: e.g. ``"SECRET//REL TO USA, GBR"`` or ``"(ts//si/tk//nf)"``.
        register: the token register; the shipped default when omitted.

    Returns:
        The label. Results are cached per normalised text and register.

    Raises:
        MarkingError: an unknown token or an illegal combination; never repaired.
    """
    return _parse(normalise(text), register or default_register())


@functools.lru_cache(maxsize=8192)
def _parse(s: str, reg: Register) -> Label:
    return _Parser(reg).run(s)


class _Parser:
    """One parse: collects the parts of a marking, then checks §2.3 and builds a label."""

    def __init__(self, reg: Register) -> None:
        self.reg = reg
        self.rank = 0
        self.cui = False
        self.foreign = False
        self.cui_categories: set[str] = set()
        self.cui_ldcs: set[str] = set()
        self.sci: set[str] = set()
        self.sap: set[str] = set()
        self.waived = False
        self.fgi: set[str] = set()
        self.fgi_protected = False
        self.dissem: set[str] = set()
        self.noforn = False
        self.rel: CountrySet | None = None
        self.relido = False
        self.display: CountrySet | None = None
        self.nonic: set[str] = set()
        self.seen: set[str] = set()
        self.controls: set[str] = set()
        # (token, required control, rule) and (token, minimum rank, rule) checked at the end
        self.requires: list[tuple[str, str, str]] = []
        self.min_ranks: list[tuple[str, int, str]] = []

    def run(self, s: str) -> Label:
        inner = s[1:-1] if s.startswith("(") and s.endswith(")") else s
        if "(" in inner or ")" in inner:
            raise _fail("unbalanced or nested parentheses", s, "portion mark is ( MARKING )")
        if not inner:
            raise _fail("empty marking", s, "classification first (DOMAIN.md §2.2)")
        segments = inner.split("//")
        if segments[0] == "":
            rest = self._foreign(segments)
        else:
            self._level(segments[0])
            rest = segments[1:]
        last = 0
        for index, segment in enumerate(rest):
            values = segment.split("/")
            if "" in values:
                raise _fail("empty category or value", segment or "//", "DOMAIN.md §2.2 grammar")
            category = self._category_of(values, first=index == 0)
            if category <= last:
                raise _fail(
                    f"{_CATEGORY_NAMES[category]} segment out of order",
                    segment,
                    "category order LEVEL//SCI//SAP//FGI//DISSEM//NON-IC (DOMAIN.md §2.2)",
                )
            last = category
            self._segment(category, values)
        return self._finish()

    # -- heads -----------------------------------------------------------------------------

    def _level(self, word: str) -> None:
        if word == "CUI":
            self.cui = True
            return
        rank = self.reg.level_names.get(word)
        if rank is None:
            raise _fail("unknown classification level", word, "classification first (§2.2)")
        self.rank = rank

    def _foreign(self, segments: list[str]) -> list[str]:
        if len(segments) < 2:
            raise _fail("non-US portion without owner and level", "//", "//OWNER LEVEL (§2.2)")
        owner, _, word = segments[1].partition(" ")
        if owner == "FGI":
            self.fgi_protected = True
        elif self.reg.is_country(owner) and owner != "USA":
            self.fgi.add(owner)
        else:
            raise _fail("unknown foreign owner", owner, "non-US portion //OWNER LEVEL (§2.2)")
        self._level(word)
        if self.cui:
            raise _fail("CUI is not a foreign classification", word, "//OWNER LEVEL (§2.2)")
        self.foreign = True
        return segments[2:]

    # -- categories ------------------------------------------------------------------------

    def _category_of(self, values: list[str], *, first: bool) -> int:
        reg = self.reg
        if self.cui and first and all(v.removeprefix("SP-") in reg.cui_categories for v in values):
            return _CUI_CAT
        categories = {self._value_category(v) for v in values}
        if len(categories) > 1:
            raise _fail(
                "values of different categories in one segment",
                "/".join(values),
                "one category per //-segment (§2.2)",
            )
        return categories.pop()

    def _value_category(self, v: str) -> int:
        reg = self.reg
        category = 0
        if v.startswith(_SAP_PREFIXES):
            category = _SAP
        elif v == "WAIVED":
            category = _WAIVED
        elif v == "FGI" or v.startswith("FGI "):
            category = _FGI
        elif v in reg.dissem or v.startswith(_LISTED) or (self.cui and v in reg.cui_ldcs):
            category = _DISSEM
        elif v in reg.nonic:
            category = _NONIC
        elif v.split("-", 1)[0] in reg.sci:
            category = _SCI
        if not category:
            raise _fail("unknown marking token", v, "unknown tokens are rejected (ISM-ID-00125)")
        return category

    def _segment(self, category: int, values: list[str]) -> None:
        for v in values:
            if v in self.seen:
                raise _fail("token repeated", v, "each token at most once")
            self.seen.add(v)
            if category == _CUI_CAT:
                self.cui_categories.add(v)
            elif category == _SCI:
                self._sci(v)
            elif category == _SAP:
                self._sap(v)
            elif category == _WAIVED:
                self.waived = True
            elif category == _FGI:
                self._fgi(v, single=len(values) == 1)
            elif category == _DISSEM:
                self._dissem(v)
            else:
                spec = self.reg.nonic[v]
                self.nonic.add(spec.banner)
                self.requires.extend((spec.banner, r, spec.rule) for r in spec.requires)

    def _sci(self, v: str) -> None:
        system, *pieces = v.split("-")
        spec = self.reg.sci[system]
        self.sci.add(system)
        self.min_ranks.append((system, spec.min_rank, spec.level_rule))
        self.requires.extend((system, r, spec.rule) for r in spec.requires)
        if spec.needs_compartment and not pieces:
            raise _fail("control system needs a compartment", v, spec.rule)
        for piece in pieces:
            name, *subs = piece.split(" ")
            known = name in spec.compartments
            if not (known or (spec.open_compartments and _NAME.fullmatch(name))):
                raise _fail("unknown SCI compartment", f"{system}-{name}", "SCI register")
            compartment = f"{system}-{name}"
            self.sci.add(compartment)
            for sub in subs:
                if not _NAME.fullmatch(sub):
                    raise _fail("malformed SCI sub-compartment", sub, "SCI grammar (§2.2)")
                self.sci.add(f"{compartment} {sub}")
            rule = self.reg.compartment_rules.get(compartment)
            if rule is not None:
                self.min_ranks.append((compartment, rule.min_rank, rule.level_rule))
                self.requires.extend((compartment, r, rule.rule) for r in rule.requires)

    def _sap(self, v: str) -> None:
        prefix = next(p for p in _SAP_PREFIXES if v.startswith(p))
        program = v[len(prefix) :]
        program = self.reg.sap_aliases.get(program, program)
        if not _PROGRAM.fullmatch(program):
            raise _fail("malformed SAP identifier", v, "SAR-<ID> (§2.2)")
        self.sap.add(f"SAR-{program}")

    def _fgi(self, v: str, *, single: bool) -> None:
        if not single:
            raise _fail("one FGI value per marking", v, "FGI <countries> (§2.2)")
        owners = v.split(" ")[1:]
        if not owners:
            self.fgi_protected = True
        for owner in owners:
            if not self.reg.is_country(owner) or owner == "USA" or owner in self.fgi:
                raise _fail("bad FGI source country", owner, "FGI <trigraphs> (ISM-ID-00064)")
            self.fgi.add(owner)

    def _dissem(self, v: str) -> None:
        if v.startswith("REL TO"):
            if self.rel is not None:
                raise _fail("token repeated", v, "each token at most once")
            self.rel = self._countries(v, v[len("REL TO") :], rule="ISM-ID-00031", rel=True)
            return
        for prefix in ("DISPLAY ONLY", "DISPLAYONLY"):
            if v.startswith(prefix):
                if self.display is not None:
                    raise _fail("token repeated", v, "each token at most once")
                self.display = self._countries(v, v[len(prefix) :], rule="ISM-ID-00213", rel=False)
                return
        spec = self.reg.dissem.get(v)
        if spec is None:  # a CUI limited dissemination control (FED ONLY, NOCON, ...)
            self.cui_ldcs.add(v)
            return
        if spec.banner in self.controls:  # NF and NOFORN in one marking
            raise _fail("token repeated", v, "each token at most once")
        self.controls.add(spec.banner)
        if spec.kind == "noforn":
            self.noforn = True
        elif spec.kind == "relido":
            self.relido = True
        else:
            self.dissem.add(spec.banner)
            if spec.ranks is not None and self.rank not in spec.ranks:
                raise _fail("control not allowed at this level", v, spec.rule)

    def _countries(self, value: str, text: str, *, rule: str, rel: bool) -> CountrySet:
        items = text.strip().split(", ") if text.strip() else []
        if not items:
            raise _fail("country list required", value, rule)
        countries: set[str] = set()
        tetragraphs: set[str] = set()
        for item in items:
            members = self.reg.tetragraphs.get(item)
            if members is not None:
                tetragraphs.add(item)
                countries |= members
            elif item in self.reg.trigraphs:
                countries.add(item)
            else:
                raise _fail("unknown country code", item, "CVEnumISMRelTo")
        if len(set(items)) != len(items):
            raise _fail("country listed twice", value, "each country once")
        if rel and len(items) < 2:
            raise _fail("REL TO needs at least two countries", value, "ISM-ID-00319")
        if rel and "USA" not in countries:
            raise _fail("REL TO list must include USA", value, "ISM-ID-00214")
        return CountrySet(countries=frozenset(countries), tetragraphs=frozenset(tetragraphs))

    # -- combination rules (§2.3) ----------------------------------------------------------

    def _finish(self) -> Label:
        classified = self.rank > 0
        if self.noforn and self.rel is not None:
            raise _fail("NOFORN cannot be combined with REL TO", "NOFORN", "ISM-ID-00033")
        if self.noforn and (self.relido or self.display is not None):
            raise _fail(
                "NOFORN cannot be combined with RELIDO or DISPLAY ONLY", "NOFORN", "ISM-ID-00169"
            )
        if self.relido and (self.foreign or self.fgi or self.fgi_protected):
            raise _fail("RELIDO is not allowed on FGI portions", "RELIDO", "ISM-ID-00233")
        if {"NODIS", "EXDIS"} <= self.nonic:
            raise _fail("NODIS and EXDIS are mutually exclusive", "EXDIS", "ISM-ID-00038")
        if (self.sap or self.waived) and not classified:
            raise _fail("SAP markings need a classified level", "SAR", "ISM SAP rules")
        if self.waived and not self.sap:
            raise _fail("WAIVED without a SAP", "WAIVED", "SAR-<ID>//WAIVED (§2.2)")
        for token, min_rank, rule in self.min_ranks:
            if self.rank < min_rank:
                raise _fail(f"{token} needs a higher classification", token, rule)
        for token, required, rule in self.requires:
            present = self.noforn if required == "NOFORN" else required in self.dissem
            if not present:
                raise _fail(f"{token} requires {required}", token, rule)
        has_fdr = self.noforn or self.rel is not None or self.relido or self.display is not None
        return Label(
            level=Level(self.rank),
            cui=self.cui,
            cui_categories=frozenset(self.cui_categories),
            cui_ldcs=frozenset(self.cui_ldcs),
            sci=frozenset(self.sci),
            sap=frozenset(self.sap),
            sap_waived=frozenset(self.sap) if self.waived else frozenset(),
            fgi=frozenset(self.fgi),
            fgi_protected=self.fgi_protected,
            dissem=frozenset(self.dissem),
            noforn=self.noforn,
            rel=self.rel,
            # An unclassified portion without any FD&R does not constrain REL TO (R7, R11
            # of §2.5); one limited by RELIDO or DISPLAY ONLY alone does.
            rel_complete=self.rel is not None
            or not (classified or self.relido or self.display is not None),
            relido=self.relido,
            relido_complete=self.relido or not classified,
            display=self.display,
            display_complete=self.display is not None or not classified,
            nonic=frozenset(self.nonic),
            defects=frozenset({MISSING_FDR}) if classified and not has_fdr else frozenset(),
        )
