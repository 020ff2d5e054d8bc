"""Subjects and objects for Bell-LaPadula dominance (DOMAIN.md §3.1, §3.2).

Layering: ``redline.access`` and ``redline.markings`` are independent siblings (see the
import-linter contract), so access never imports markings. It reads labels through
:class:`LabelView`, a structural Protocol that :class:`redline.markings.Label` satisfies,
and represents a principal's clearance as a :class:`Clearance`, which satisfies it too.

Dominance (:func:`dominates`) is the Bell-LaPadula projection of a label: level,
compartments (SCI and SAP tokens, exact, with implied parents) and releasability ("R", the
set of nationalities that may receive it; ``None`` = no constraint). ``a`` dominates ``b``
iff ``a.rank >= b.rank``, ``a``'s compartments include ``b``'s, and ``R(a) ⊆ R(b)``.
For a clearance, ``R = {nationality}``, so "X may see b" is exactly ``X ∈ R(b)``:
NOFORN gives ``R = {USA}``; ``REL TO`` gives the expanded list (tetragraphs resolved).
It is a preorder on labels (a partial order on the projection), and reading is allowed
only when the reader's clearance dominates the object (simple security property).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from redline.domain import Principal
from redline.errors import ConfigError

__all__ = [
    "Clearance",
    "LabelView",
    "clearance_label",
    "dominates",
    "expand_compartments",
    "releasability_covers",
]

# Clearance spellings (EO 13526 levels; "TS/SCI" is TS eligibility, SCI access being per
# read-in: DOMAIN.md §3.2). The four levels are fixed by the order, not by the register.
_CLEARANCE_RANK = {
    "U": 0,
    "UNCLASSIFIED": 0,
    "C": 1,
    "CONFIDENTIAL": 1,
    "S": 2,
    "SECRET": 2,
    "TS": 3,
    "TOP SECRET": 3,
    "TS/SCI": 3,
}


class LabelView(Protocol):
    """What access control reads from a label (``redline.markings.Label`` provides it)."""

    @property
    def rank(self) -> int:
        """Level, 0 (U) to 3 (TS)."""
        ...

    @property
    def sci(self) -> frozenset[str]:
        """SCI tokens including implied parents (``SI``, ``SI-G``, ``SI-G ABCD``)."""
        ...

    @property
    def sap(self) -> frozenset[str]:
        """SAP tokens (``SAR-BP``)."""
        ...

    @property
    def cui(self) -> bool:
        """Whether CUI is present."""
        ...

    @property
    def releasable_to(self) -> frozenset[str] | None:
        """Nationalities that may receive the label; ``None`` = any."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Clearance:
    """A subject's label: clearance level, read-ins and nationality (§3.2).

    ``releasable_to`` is ``{nationality}``: a subject "is releasable" only to itself, so
    ``dominates(clearance, label)`` checks ``nationality ∈ R(label)``.
    """

    rank: int
    sci: frozenset[str] = frozenset()
    sap: frozenset[str] = frozenset()
    cui: bool = False
    releasable_to: frozenset[str] | None = frozenset({"USA"})


def expand_compartments(tokens: Iterable[str]) -> frozenset[str]:
    """SCI tokens with their implied parents: ``SI-G ABCD`` gives ``SI``, ``SI-G`` too.

    Being read into a sub-compartment presupposes the compartment and control system
    (R2); the reverse does not hold (compartment-exact, §3.2).
    """
    out: set[str] = set()
    for token in tokens:
        head, _, sub = token.partition(" ")
        system, *compartments = head.split("-")
        out.add(system)
        out.update(f"{system}-{c}" for c in compartments)
        if sub and compartments:
            out.add(f"{system}-{compartments[-1]} {sub}")
        elif sub:
            out.add(token)
    return frozenset(out)


def clearance_label(principal: Principal) -> Clearance:
    """The label of what ``principal`` may read (§3.2 "Gateway model").

    ``principal.clearance`` is ``U``, ``C``, ``S``, ``TS`` (or spelled out, or ``TS/SCI``);
    ``principal.read_ins`` are SCI tokens as in portion marks (``SI``, ``SI-G ABCD``) and
    SAP tokens (``SAR-BP``); ``principal.nationality`` is a trigraph.

    Raises:
        ConfigError: the clearance is not one of the known spellings (fail closed: a
            principal record we cannot read is a configuration error, not a U clearance).
    """
    rank = _CLEARANCE_RANK.get(principal.clearance.strip().upper())
    if rank is None:
        raise ConfigError(f"principal {principal.id!r}: unknown clearance {principal.clearance!r}")
    read_ins = {token.strip().upper() for token in principal.read_ins}
    sap = frozenset(t for t in read_ins if t.startswith("SAR-"))
    return Clearance(
        rank=rank,
        sci=expand_compartments(read_ins - sap),
        sap=sap,
        releasable_to=frozenset({principal.nationality.strip().upper()}),
    )


def dominates(a: LabelView, b: LabelView) -> bool:
    """Bell-LaPadula dominance: level ≥, compartments ⊇, releasability ⊆ (module doc)."""
    return (
        a.rank >= b.rank
        and a.sci >= b.sci
        and a.sap >= b.sap
        and releasability_covers(a.releasable_to, b.releasable_to)
    )


def releasability_covers(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    """Whether everyone who may receive ``a`` may receive ``b``: ``R(a) ⊆ R(b)``."""
    if b is None:
        return True
    return a is not None and a <= b
