"""Access control: clearance/label dominance, the access check, route ceilings (DOMAIN.md §3).

Pure. Labels are read through :class:`LabelView` (``redline.markings.Label`` satisfies it),
so this package does not import ``redline.markings`` (independent layers).
"""

from __future__ import annotations

from redline.access.check import AccessResult, Missing, check_access
from redline.access.model import (
    Clearance,
    LabelView,
    clearance_label,
    dominates,
    expand_compartments,
    releasability_covers,
)
from redline.access.route import IMPACT_LEVELS, RouteCeiling, route_ceiling

__all__ = [
    "IMPACT_LEVELS",
    "AccessResult",
    "Clearance",
    "LabelView",
    "Missing",
    "RouteCeiling",
    "check_access",
    "clearance_label",
    "dominates",
    "expand_compartments",
    "releasability_covers",
    "route_ceiling",
]
