"""Kill-switch state: pure, immutable, serialisable.

A :class:`HaltState` is a set of halts, each on a scope: ``all``, ``tenant:T`` or
``model:M``. Every transition returns a new state; the gateway persists and broadcasts the
JSON form (:meth:`HaltState.to_json`) and checks :meth:`HaltState.check` on every request.

Invariants:

* halting is immediate and needs one administrator; halting an already halted scope
  replaces its reason and clears any pending resume of that scope;
* resuming needs two **distinct** administrators (two-person rule, DOMAIN.md §3.3): the
  first :meth:`HaltState.resume` records a pending approval, a second one by another
  administrator within ``window_s`` lifts the halt; the same administrator twice is an
  :class:`~redline.errors.InvalidTransition`; a stale approval is replaced;
* resuming ``all`` lifts only the ``all`` halt, never tenant or model halts.

Time is passed in (``now``), never read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from redline.clock import rfc3339
from redline.errors import InvalidTransition, RequestError, StoreError

__all__ = ["Halt", "HaltState", "ResumeApproval", "ResumeOutcome", "parse_scope"]

ALL = "all"
RESUME_WINDOW_S = 3600


_WILDCARDS = frozenset("*?[]")


def parse_scope(text: str) -> str:
    """Normalise and check a scope string: ``all``, ``tenant:T`` or ``model:M``.

    A tenant is letters, digits, ``-`` and ``.``; a model name has no blanks and no
    wildcard characters (``* ? [ ]``): a halt names exactly what it stops, and ``all``
    is the only scope wider than one tenant or model.

    Raises:
        RequestError: anything else (``param="scope"``).
    """
    scope = text.strip()
    if scope == ALL:
        return scope
    kind, _, name = scope.partition(":")
    name = name.strip()
    if kind == "tenant" and name and name.replace("-", "").replace(".", "").isalnum():
        return "tenant:" + name
    if (
        kind == "model"
        and name
        and name.isprintable()
        and not any(c.isspace() or c in _WILDCARDS for c in name)
    ):
        return "model:" + name
    raise RequestError(
        f"bad halt scope {text!r}: use all, tenant:T (letters, digits, '-', '.') or model:M "
        "(no blanks or wildcards)",
        param="scope",
    )


class ResumeOutcome(StrEnum):
    """What a resume call did."""

    PENDING = "pending"
    """First approval recorded; a second, distinct administrator must confirm."""
    RESUMED = "resumed"
    """The halt is lifted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Halt:
    """One halt: its scope, why, who, and when (RFC 3339)."""

    scope: str
    reason: str
    by: str
    at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeApproval:
    """The first of the two approvals needed to lift a halt."""

    scope: str
    by: str
    at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HaltState:
    """The halts in force and the pending resume approvals."""

    halts: tuple[Halt, ...] = ()
    pending: tuple[ResumeApproval, ...] = ()

    def check(self, tenant: str, model: str) -> Halt | None:
        """The halt stopping a request of ``tenant`` for ``model``, if any (``all`` first)."""
        wanted = (ALL, f"tenant:{tenant}", f"model:{model}")
        for scope in wanted:
            for h in self.halts:
                if h.scope == scope:
                    return h
        return None

    def halt(self, scope: str, *, reason: str, by: str, now: datetime) -> HaltState:
        """A state with ``scope`` halted.

        Raises:
            RequestError: a bad scope or an empty administrator id.
        """
        scope = parse_scope(scope)
        _require_admin(by)
        halt = Halt(
            scope=scope,
            reason=reason.strip() or "halted by an administrator",
            by=by,
            at=rfc3339(now),
        )
        return HaltState(
            halts=(*(h for h in self.halts if h.scope != scope), halt),
            pending=tuple(p for p in self.pending if p.scope != scope),
        )

    def resume(
        self, scope: str, *, by: str, now: datetime, window_s: int = RESUME_WINDOW_S
    ) -> tuple[HaltState, ResumeOutcome]:
        """Record one administrator's approval to lift the halt on ``scope``.

        Returns:
            The new state and whether the halt is now lifted or awaits a second approval.

        Raises:
            RequestError: a bad scope or an empty administrator id.
            InvalidTransition: the scope is not halted, or ``by`` already approved.
        """
        scope = parse_scope(scope)
        _require_admin(by)
        if not any(h.scope == scope for h in self.halts):
            raise InvalidTransition(f"{scope} is not halted")
        first = next((p for p in self.pending if p.scope == scope), None)
        if first is not None and (now - datetime.fromisoformat(first.at)).total_seconds() > (
            window_s
        ):
            first = None  # stale: this call is a new first approval
        others = tuple(p for p in self.pending if p.scope != scope)
        if first is None:
            approval = ResumeApproval(scope=scope, by=by, at=rfc3339(now))
            return replace(self, pending=(*others, approval)), ResumeOutcome.PENDING
        if first.by == by:
            raise InvalidTransition(
                f"two-person rule: {by} already approved resuming {scope}; a second, "
                "distinct administrator must confirm"
            )
        halts = tuple(h for h in self.halts if h.scope != scope)
        return HaltState(halts=halts, pending=others), ResumeOutcome.RESUMED

    def to_json(self) -> str:
        """The state as canonical-ish JSON (sorted keys) for storage and broadcast."""
        doc = {
            "halts": [
                {"scope": h.scope, "reason": h.reason, "by": h.by, "at": h.at} for h in self.halts
            ],
            "pending": [{"scope": p.scope, "by": p.by, "at": p.at} for p in self.pending],
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> HaltState:
        """Parse :meth:`to_json` output.

        Raises:
            StoreError: the text is not a valid halt state.
        """
        try:
            doc = json.loads(text)
            halts = tuple(
                Halt(
                    scope=parse_scope(h["scope"]),
                    reason=str(h["reason"]),
                    by=str(h["by"]),
                    at=_checked_time(h["at"]),
                )
                for h in doc["halts"]
            )
            pending = tuple(
                ResumeApproval(
                    scope=parse_scope(p["scope"]), by=str(p["by"]), at=_checked_time(p["at"])
                )
                for p in doc["pending"]
            )
        except (ValueError, KeyError, TypeError, AttributeError, RequestError) as exc:
            raise StoreError(f"invalid halt state: {exc!r}") from None
        return cls(halts=halts, pending=pending)


def _checked_time(value: object) -> str:
    text = str(value)
    datetime.fromisoformat(text)  # raises ValueError if malformed
    return text


def _require_admin(by: str) -> None:
    if not by.strip():
        raise RequestError("an administrator id is required", param="by")
