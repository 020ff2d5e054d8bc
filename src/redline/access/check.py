"""The access decision for one principal, one request label and one route (DOMAIN.md §3).

``check_access`` applies the simple security property (the principal's clearance label
must dominate the request label, :func:`redline.access.model.dominates`) and the route's
accreditation ceiling (:class:`redline.access.route.RouteCeiling`).

Invariant: a denial names only the *kinds* of element missing (:class:`Missing`), never a
compartment, program or country, so that a caller learns nothing about compartments they
are not read into. Need-to-know (§3.2) is a grant on objects and is decided elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from redline.access.model import LabelView, clearance_label, releasability_covers
from redline.access.route import RouteCeiling
from redline.domain import Principal
from redline.errors import AccessDenied

__all__ = ["AccessResult", "Missing", "check_access"]


class Missing(StrEnum):
    """What kind of element a denied principal or route lacks (wire-stable)."""

    LEVEL = "level"
    COMPARTMENT = "compartment"
    RELEASABILITY = "releasability"
    ROUTE_CEILING = "route_ceiling"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessResult:
    """Allowed, or denied with the kinds of missing element, in :class:`Missing` order."""

    allowed: bool
    missing: tuple[Missing, ...] = ()

    @property
    def message(self) -> str:
        """A caller-safe sentence, e.g. ``access denied: missing compartment``."""
        if self.allowed:
            return "access allowed"
        return "access denied: missing " + ", ".join(m.value for m in self.missing)

    def raise_if_denied(self) -> None:
        """Raise :class:`~redline.errors.AccessDenied` with :attr:`message` when denied."""
        if not self.allowed:
            raise AccessDenied(self.message)


def check_access(
    principal: Principal, label: LabelView, route_ceiling: RouteCeiling
) -> AccessResult:
    """Whether ``principal`` may send/read ``label`` through a route with ``route_ceiling``.

    Every check runs (no short-circuit), so the result lists every missing kind.

    Raises:
        ConfigError: the principal's clearance is unreadable (see ``clearance_label``).
    """
    subject = clearance_label(principal)
    missing = []
    if subject.rank < label.rank:
        missing.append(Missing.LEVEL)
    if not (subject.sci >= label.sci and subject.sap >= label.sap):
        missing.append(Missing.COMPARTMENT)
    if not releasability_covers(subject.releasable_to, label.releasable_to):
        missing.append(Missing.RELEASABILITY)
    if not route_ceiling.admits(label):
        missing.append(Missing.ROUTE_CEILING)
    return AccessResult(allowed=not missing, missing=tuple(missing))
