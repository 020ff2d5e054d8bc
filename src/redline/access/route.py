"""Route accreditation ceilings: the most a model route may be sent (DOMAIN.md §3.4).

One deployment per network/level: a route's ceiling is its enclave's accreditation, and a
request whose label the ceiling does not admit is refused (IL6 ⇒ refuse any TS/SCI-marked
input). DoD Cloud Computing SRG impact levels:

======  ==============================  ============================================
name    admits                          source
======  ==============================  ============================================
IL2     unclassified, non-CUI           SRG v1r4 (public / non-CUI)
IL4     unclassified incl. CUI          SRG v1r4
IL5     unclassified incl. CUI          SRG v1r4 (higher-sensitivity CUI, NSS)
IL6     up to SECRET (incl. CUI), no    SRG v1r4; SAPs only if listed
        SCI
TS/SCI  up to TOP SECRET; SCI only in   outside the SRG: ICD 503 / ICD 705 enclave
        the accredited control systems
======  ==============================  ============================================

There is no IL1 or IL3 (folded into IL2/IL4); asking for them is a ``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redline.access.model import LabelView
from redline.errors import ConfigError

__all__ = ["IMPACT_LEVELS", "RouteCeiling", "route_ceiling"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteCeiling:
    """What a route is accredited to carry.

    Attributes:
        name: ``IL2``, ``IL4``, ``IL5``, ``IL6`` or ``TS/SCI``.
        max_rank: highest level, 0 (U) to 3 (TS).
        cui: whether CUI may be sent.
        sci_systems: accredited SCI control systems (``SI``, ``TK``...): an SCI token is
            admitted when its control system is listed.
        sap: accredited special access programs (``SAR-BP``).
    """

    name: str
    max_rank: int
    cui: bool
    sci_systems: frozenset[str] = frozenset()
    sap: frozenset[str] = frozenset()

    def admits(self, label: LabelView) -> bool:
        """Whether ``label`` is within this ceiling."""
        if label.rank > self.max_rank or (label.cui and not self.cui):
            return False
        systems = {token.split("-", 1)[0].split(" ", 1)[0] for token in label.sci}
        return systems <= self.sci_systems and label.sap <= self.sap


IMPACT_LEVELS: dict[str, RouteCeiling] = {
    "IL2": RouteCeiling(name="IL2", max_rank=0, cui=False),
    "IL4": RouteCeiling(name="IL4", max_rank=0, cui=True),
    "IL5": RouteCeiling(name="IL5", max_rank=0, cui=True),
    "IL6": RouteCeiling(name="IL6", max_rank=2, cui=True),
}
"""The SRG impact levels without SAP accreditation (see :func:`route_ceiling`)."""

_TS_SCI = {"TS/SCI", "TS-SCI", "TSSCI"}


def route_ceiling(
    name: str, *, sci_systems: Iterable[str] = (), sap_programs: Iterable[str] = ()
) -> RouteCeiling:
    """The ceiling of a route accredited as ``name``.

    Args:
        name: ``IL2``, ``IL4``, ``IL5``, ``IL6`` or ``TS/SCI`` (case-insensitive).
        sci_systems: the SCI control systems a TS/SCI enclave is accredited for.
        sap_programs: SAPs (``SAR-BP``) an IL6 or TS/SCI system is accredited for.

    Raises:
        ConfigError: unknown name (including IL1/IL3), or SCI/SAP accreditation on a route
            that cannot carry it.
    """
    key = name.strip().upper()
    systems = frozenset(s.strip().upper() for s in sci_systems)
    programs = frozenset(p.strip().upper() for p in sap_programs)
    if key in _TS_SCI:
        return RouteCeiling(name="TS/SCI", max_rank=3, cui=True, sci_systems=systems, sap=programs)
    base = IMPACT_LEVELS.get(key)
    if base is None:
        raise ConfigError(f"unknown route accreditation {name!r}: use IL2, IL4, IL5, IL6 or TS/SCI")
    if systems:
        raise ConfigError(f"{key} cannot be accredited for SCI (only a TS/SCI enclave can)")
    if programs and base.max_rank == 0:
        raise ConfigError(f"{key} is unclassified and cannot carry special access programs")
    return RouteCeiling(name=key, max_rank=base.max_rank, cui=base.cui, sap=programs)
