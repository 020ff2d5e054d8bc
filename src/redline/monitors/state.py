"""The seam between the monitors and their shared state: one Protocol, two implementations.

Spec: ARCHITECTURE.md "monitors" (in-process for one node, Redis for
many); STYLE.md §6 (a Protocol at the seam, a fake or second implementation behind it).

* :class:`~redline.monitors.memory.InProcessMonitorState` - one process, bounded (LRU over
  principals and loops), expiring;
* :class:`~redline.monitors.redis_state.RedisMonitorState` - several replicas share windows
  through Redis HyperLogLogs and lists; every key expires.

Times are Unix seconds (floats). Both implementations window persons by whole sub-buckets
(``floor(now / bucket_s)``), so a window of ``n`` buckets covers between ``n - 1`` and ``n``
bucket lengths of history.

Failure: implementations raise :class:`~redline.errors.StoreError` when their store fails;
the caller fails closed (the decision takes the route's ``on_error``).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from redline.monitors.persons import Nationality, PersonRef

__all__ = [
    "CadenceStats",
    "CallKind",
    "MonitorState",
    "Scope",
    "WindowCount",
    "cadence_of",
]


class Scope(StrEnum):
    """Whose persons a window counts."""

    PRINCIPAL = "principal"
    TENANT = "tenant"


class CallKind(StrEnum):
    """What a recorded call on a principal+route was."""

    REQUEST = "request"
    """A request that does not feed tool results back."""
    TOOL_RESULT = "tool_result"
    """A request whose last messages are tool results (one turn of a tool loop)."""
    EFFECTOR = "effector"
    """A response calling an effector tool (recorded separately from arrivals)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowCount:
    """Distinct persons in one window for one scope, by nationality class."""

    scope: Scope
    window_s: int
    us: float
    unknown: float
    foreign: float

    def effective(self, unknown_weight: float, foreign_weight: float) -> float:
        """The count compared with thresholds: U.S. persons plus weighted others."""
        return self.us + unknown_weight * self.unknown + foreign_weight * self.foreign


@dataclass(frozen=True, slots=True, kw_only=True)
class CadenceStats:
    """Arrival statistics of one principal+route.

    ``gaps`` is the number of inter-arrival gaps the statistics rest on; ``cv`` is the
    coefficient of variation (stdev / mean) of those gaps; ``tool_streak`` counts consecutive
    tool-result requests; ``effector_gap_s`` is the time since the previous effector call
    (``None`` if there was none, or for non-effector records).
    """

    gaps: int = 0
    median_gap_s: float = float("inf")
    cv: float = float("inf")
    tool_streak: int = 0
    effector_gap_s: float | None = None


def cadence_of(times: Sequence[float], tool_streak: int = 0) -> CadenceStats:
    """Compute cadence statistics from arrival times (oldest first)."""
    gaps = [b - a for a, b in itertools.pairwise(times)]
    if len(gaps) < 2:
        return CadenceStats(gaps=len(gaps), tool_streak=tool_streak)
    mean = statistics.fmean(gaps)
    cv = statistics.pstdev(gaps, mean) / mean if mean > 0 else 0.0
    return CadenceStats(
        gaps=len(gaps), median_gap_s=statistics.median(gaps), cv=cv, tool_streak=tool_streak
    )


def classes(persons: Sequence[PersonRef]) -> dict[Nationality, list[PersonRef]]:
    """Group persons by nationality class (helper for the implementations)."""
    grouped: dict[Nationality, list[PersonRef]] = {}
    for ref in persons:
        grouped.setdefault(ref.nationality, []).append(ref)
    return grouped


class MonitorState(Protocol):
    """Shared, expiring state of the cross-request monitors."""

    async def add_persons(
        self, principal: str, tenant: str, persons: Sequence[PersonRef], now: float
    ) -> tuple[WindowCount, ...]:
        """Add persons to every window of the principal and the tenant; return the counts.

        Returns one :class:`WindowCount` per (scope, window), principal first.
        """
        ...

    async def counts(
        self, principal: str, tenant: str | None, now: float
    ) -> tuple[WindowCount, ...]:
        """Current counts without adding (the tenant's only when ``tenant`` is given)."""
        ...

    async def record_call(
        self, principal: str, route: str, now: float, kind: CallKind
    ) -> CadenceStats:
        """Record an arrival (or an effector call) and return the cadence statistics."""
        ...

    async def use_token(self, token_id: str, expires_at: float, now: float) -> bool:
        """Mark a confirmation token used; ``False`` if it was used before (or no room)."""
        ...
