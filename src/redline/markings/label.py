"""The label lattice: one value type for a portion, a banner and a roll-up (DOMAIN.md §2.4).

A :class:`Label` is an element of a join-semilattice. Every field is combined by an
operation that is associative, commutative and idempotent, so :func:`join` (the
"high-water mark") is too, and :data:`UNCLASSIFIED` (all defaults) is its identity:

========================  ===========================================  ==========
field                     join                                         rule
========================  ===========================================  ==========
``level``                 max                                          R1
``sci`` (+ parents)       union                                        R2
``sap``, ``fgi``          union; ``fgi_protected`` or                  R3, R4
``dissem`` (additive)     union                                        R5
``noforn``                or                                           R6
``rel`` / ``display``     intersection of country sets (None = none)   R7
``rel_complete``          and ("every classified portion has REL TO")  R7
``relido``                or; ``relido_complete`` and                  R9
``nonic``                 union                                        R10
``cui`` (+ categories)    or / union                                   R11
``defects``               union                                        R8
========================  ===========================================  ==========

Rendering (R6-R12: which of these show in a banner) is a pure function of the fields, in
:mod:`redline.markings.render`; the lattice never loses information to rendering, which is
what keeps ``join`` associative.

Releasability ("R", §2.4): :attr:`Label.releasable_to` gives the country set a reader's
nationality must be in, ``None`` meaning no constraint. It is fail-closed: NOFORN, RELIDO
without a common REL TO list, a missing FD&R marking (R8) and US-only non-IC/CUI controls
all give ``{"USA"}``.

Dominance (:meth:`Label.dominates`) is the lattice order, ``a >= b  iff  join(a, b) == a``;
for any semilattice that is a partial order (reflexive, antisymmetric, transitive).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

__all__ = ["UNCLASSIFIED", "CountrySet", "Label", "Level", "join"]

USA = "USA"
# Rule constants named by DOMAIN.md §2.4 itself (R6, R10); the tokens' spellings and the
# rest of their properties live in the register.
_NOFORN_SCI = frozenset({"HCS", "KDK"})  # R6 / ISM-ID-00049, -00123
_NOFORN_NONIC = frozenset({"NODIS", "EXDIS"})  # R10 / ISM-ID-00313, -00314
_US_ONLY_NONIC = frozenset({"SBU NOFORN", "LES NOFORN"})  # R6 (classified documents)


class Level(IntEnum):
    """Classification levels, EO 13526 §1.2 (CUI is not a level: see ``Label.cui``)."""

    U = 0
    C = 1
    S = 2
    TS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class CountrySet:
    """A REL TO or DISPLAY ONLY list.

    ``countries`` is the expanded set of trigraphs (tetragraphs resolved through the
    register, ISM-ID-00318); ``tetragraphs`` are the tetragraphs named in *every*
    contributing list, kept only so that a banner can still say ``REL TO USA, FVEY``.
    """

    countries: frozenset[str]
    tetragraphs: frozenset[str] = frozenset()

    def meet(self, other: CountrySet) -> CountrySet:
        """Intersection of two lists (R7): fewer countries means less releasable."""
        return CountrySet(
            countries=self.countries & other.countries,
            tetragraphs=self.tetragraphs & other.tetragraphs,
        )


def _meet(a: CountrySet | None, b: CountrySet | None) -> CountrySet | None:
    if a is None:
        return b
    if b is None:
        return a
    return a.meet(b)


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """A classification label: a parsed portion or banner, or the roll-up of many.

    Build labels with :func:`~redline.markings.parse_marking` and :func:`join`; the
    defaults are the label of an unclassified portion without any control. Tokens are
    stored in their canonical spelling: SCI and SAP as in portion marks (``SI-G ABCD``,
    ``SAR-BP``), dissemination and non-IC controls by their banner names (``ORCON``).
    """

    level: Level = Level.U
    cui: bool = False
    cui_categories: frozenset[str] = frozenset()
    cui_ldcs: frozenset[str] = frozenset()
    sci: frozenset[str] = frozenset()
    sap: frozenset[str] = frozenset()
    sap_waived: frozenset[str] = frozenset()
    fgi: frozenset[str] = frozenset()
    fgi_protected: bool = False
    dissem: frozenset[str] = frozenset()
    noforn: bool = False
    rel: CountrySet | None = None
    rel_complete: bool = True
    relido: bool = False
    relido_complete: bool = True
    display: CountrySet | None = None
    display_complete: bool = True
    nonic: frozenset[str] = frozenset()
    defects: frozenset[str] = frozenset()

    # -- lattice ---------------------------------------------------------------------------

    def join(self, other: Label) -> Label:
        """The least upper bound of two labels (R1-R11); see the module table."""
        # UNCLASSIFIED is the identity: most requests and answers carry no mark, and the
        # comparison costs a tenth of building an equal label.
        if other == UNCLASSIFIED:
            return self
        if self == UNCLASSIFIED:
            return other
        return Label(
            level=max(self.level, other.level),
            cui=self.cui or other.cui,
            cui_categories=self.cui_categories | other.cui_categories,
            cui_ldcs=self.cui_ldcs | other.cui_ldcs,
            sci=self.sci | other.sci,
            sap=self.sap | other.sap,
            sap_waived=self.sap_waived | other.sap_waived,
            fgi=self.fgi | other.fgi,
            fgi_protected=self.fgi_protected or other.fgi_protected,
            dissem=self.dissem | other.dissem,
            noforn=self.noforn or other.noforn,
            rel=_meet(self.rel, other.rel),
            rel_complete=self.rel_complete and other.rel_complete,
            relido=self.relido or other.relido,
            relido_complete=self.relido_complete and other.relido_complete,
            display=_meet(self.display, other.display),
            display_complete=self.display_complete and other.display_complete,
            nonic=self.nonic | other.nonic,
            defects=self.defects | other.defects,
        )

    def dominates(self, other: Label) -> bool:
        """Whether this label is at least as restrictive as ``other`` in every respect.

        The lattice order: ``self.join(other) == self``. Stricter than the Bell-LaPadula
        projection used for access decisions (:mod:`redline.access`), which looks only at
        level, compartments and releasability.
        """
        return self.join(other) == self

    # -- derived views (R6-R9) -------------------------------------------------------------

    @property
    def rank(self) -> int:
        """The level as an integer, 0 (U) to 3 (TS)."""
        return int(self.level)

    @property
    def classified(self) -> bool:
        """Level C or above."""
        return self.level >= Level.C

    @property
    def sci_systems(self) -> frozenset[str]:
        """The SCI control systems present (``SI-G ABCD`` gives ``SI``)."""
        return frozenset(token.split("-", 1)[0] for token in self.sci)

    @property
    def shows_rel(self) -> bool:
        """Whether a banner carries REL TO: every classified portion had a list (R7)."""
        return self.rel is not None and self.rel_complete and not self.is_noforn

    @property
    def shows_relido(self) -> bool:
        """Whether a banner carries RELIDO: every classified portion had it (R9)."""
        return self.relido and self.relido_complete and not self.is_noforn and not self.fgi

    @property
    def shows_display(self) -> bool:
        """Whether a banner carries DISPLAY ONLY (handled like REL TO)."""
        return self.display is not None and self.display_complete and not self.is_noforn

    @property
    def is_noforn(self) -> bool:
        """Whether the banner says NOFORN (R6, R7, R8, R10; fail closed).

        True for explicit NOFORN, for HCS/KDK, NODIS/EXDIS, for SBU/LES NOFORN in a
        classified label, when REL TO lists intersect to USA alone, and when a classified
        label is left with no common foreign-disclosure marking at all.
        """
        if self.noforn or self.sci_systems & _NOFORN_SCI or self.nonic & _NOFORN_NONIC:
            return True
        if self.rel is not None and self.rel.countries <= {USA}:
            return True
        if not self.classified:
            return False
        if self.nonic & _US_ONLY_NONIC:
            return True
        has_rel = self.rel is not None and self.rel_complete
        has_relido = self.relido and self.relido_complete and not self.fgi
        has_display = self.display is not None and self.display_complete
        return not (has_rel or has_relido or has_display)

    @property
    def releasable_to(self) -> frozenset[str] | None:
        """Countries whose nationals may receive this label; ``None`` means any (§2.4 "R").

        Fail closed: NOFORN, RELIDO without a common REL TO list, DISPLAY ONLY (display is
        not release), US-only non-IC controls and CUI limited-dissemination controls all
        give ``{"USA"}``.
        """
        us_only = frozenset({USA})
        if self.is_noforn or self.nonic & _US_ONLY_NONIC or self.cui_ldcs:
            return us_only
        if self.rel is not None and self.rel_complete:
            return self.rel.countries
        if self.classified or self.relido or self.display is not None:
            return us_only
        return None

    # -- rendering -------------------------------------------------------------------------

    def banner(self) -> str:
        """The banner line, e.g. ``TOP SECRET//SI/TK//NOFORN`` (R11, R12)."""
        from redline.markings.render import render

        return render(self, portion=False)

    def portion(self) -> str:
        """The portion mark of the same label, e.g. ``(TS//SI/TK//NF)``."""
        from redline.markings.render import render

        return "(" + render(self, portion=True) + ")"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description: rendered forms, releasability and every field."""
        out: dict[str, object] = {"banner": self.banner(), "portion": self.portion()}
        rel_to = self.releasable_to
        out["releasable_to"] = None if rel_to is None else sorted(rel_to)
        out["noforn"] = self.is_noforn
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, CountrySet):
                value = {
                    "countries": sorted(value.countries),
                    "tetragraphs": sorted(value.tetragraphs),
                }
            elif isinstance(value, Level):
                value = value.name
            out.setdefault(f.name, value)
        return out


UNCLASSIFIED = Label()
"""The identity of :func:`join`: an unclassified portion without controls."""


def join(*labels: Label) -> Label:
    """The roll-up (high-water mark) of any number of labels; ``UNCLASSIFIED`` for none."""
    result = UNCLASSIFIED
    for label in labels:
        result = result.join(label)
    return result
