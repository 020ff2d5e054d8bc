"""The figures of an oversight report: a pure function of the verified audit records.

Every figure is an aggregate of audit events (no prompt, output or rationale text is ever
read: the log holds none, and rationales are reduced to their SHA-256 here). Days are UTC
calendar days from the records' own timestamps, so the same export always gives the same
figures.

**Small-cell suppression.** A count broken down by tenant, route, purpose or authority
type that is between 1 and ``SUPPRESS_BELOW - 1`` is shown as ``<5``, and a rate is shown
only for a group of at least ``SUPPRESS_BELOW`` decisions: such breakdowns could single out
one requester; a rate is also hidden where its own count is a small cell (it would reveal
it). Totals per day and per red line are not broken down by requester and are shown as
counted. Review times are given only when at least ``SUPPRESS_BELOW`` items were
decided.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from redline.audit import AuditRecord, JSONValue

__all__ = ["SUPPRESS_BELOW", "Figures", "compute_figures", "suppressed"]

SUPPRESS_BELOW = 5
ACTIONS = ("allow", "review", "block")


def suppressed(count: int) -> str:
    """A count as shown in a breakdown table (small cells hidden)."""
    if 0 < count < SUPPRESS_BELOW:
        return f"<{SUPPRESS_BELOW}"
    return str(count)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRow:
    """Request decisions of one tenant or route."""

    name: str
    total: int
    review: int
    block: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A two-person override: a blocked request released by distinct approvers."""

    review_id: str
    decided: str
    categories: tuple[str, ...]
    approvers: tuple[str, ...]
    rationale_sha256: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """An administrative event listed as it was recorded (no content)."""

    timestamp: str
    kind: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """Everything the report shows."""

    first: str = ""
    last: str = ""
    records: int = 0
    days: tuple[str, ...] = ()
    actions_by_day: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    lines_by_day: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    red_lines: tuple[str, ...] = ()
    totals: Mapping[str, int] = field(default_factory=dict)
    output_totals: Mapping[str, int] = field(default_factory=dict)
    tenants: tuple[GroupRow, ...] = ()
    routes: tuple[GroupRow, ...] = ()
    review_outcomes: Mapping[str, int] = field(default_factory=dict)
    review_seconds: tuple[float, ...] = ()
    overrides: tuple[Override, ...] = ()
    halts: tuple[Event, ...] = ()
    policy_changes: tuple[Event, ...] = ()
    policies_in_force: Mapping[str, int] = field(default_factory=dict)
    purposes: Mapping[str, int] = field(default_factory=dict)
    authorities: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    register_events: tuple[Event, ...] = ()
    fail_closed: Mapping[str, int] = field(default_factory=dict)
    access_denied: int = 0


def compute_figures(
    records: Iterable[AuditRecord], *, start: datetime | None = None, end: datetime | None = None
) -> Figures:
    """Aggregate the records whose timestamp is in ``[start, end)`` (either bound optional)."""
    kept = [r for r in records if _in_range(r.timestamp, start, end)]
    acc = _Accumulator()
    for record in kept:
        acc.add(record)
    return acc.figures(kept)


def _in_range(timestamp: str, start: datetime | None, end: datetime | None) -> bool:
    when = datetime.fromisoformat(timestamp)
    return (start is None or when >= start) and (end is None or when < end)


def _s(payload: Mapping[str, JSONValue], key: str) -> str:
    value = payload.get(key)
    return value if isinstance(value, str) else ""


def _strings(payload: Mapping[str, JSONValue], key: str) -> list[str]:
    value = payload.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class _Accumulator:
    def __init__(self) -> None:
        self.actions: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.lines: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.outputs: Counter[str] = Counter()
        self.tenants: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.routes: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.submitted: dict[str, str] = {}
        self.state: dict[str, str] = {}
        self.seconds: list[float] = []
        self.approvals: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        self.kinds: dict[str, str] = {}
        self.categories: dict[str, tuple[str, ...]] = {}
        self.decided: dict[str, str] = {}
        self.halts: list[Event] = []
        self.policy: list[Event] = []
        self.in_force: Counter[str] = Counter()
        self.purposes: Counter[str] = Counter()
        self.cited: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.register: list[Event] = []
        self.fail_closed: Counter[str] = Counter()
        self.denied = 0

    def add(self, r: AuditRecord) -> None:
        p = r.payload
        kind = r.event_type.value
        if kind == "request_decision":
            self.request(r.timestamp[:10], p)
        elif kind == "response_decision":
            self.outputs[_s(p, "action")] += 1
            if "fail closed" in _s(p, "reason"):
                self.fail_closed["output screening failed closed"] += 1
        elif kind == "review_action":
            self.review(r.timestamp, p)
        elif kind in {"halt", "resume"}:
            keys = ("scope", "by", "reason") if kind == "halt" else ("scope", "by", "outcome")
            self.halts.append(_event(r, kind, p, keys))
        elif kind == "policy_change":
            self.policy.append(
                _event(
                    r,
                    _s(p, "outcome"),
                    p,
                    ("new_sha256", "floor_sha256", "floor_signer", "overlay_sha256", "by"),
                )
            )
            if _s(p, "outcome") == "rejected":
                self.fail_closed["policy reload rejected (old policy kept)"] += 1
        elif kind == "authority_register":
            self.register_event(r, p)
        elif kind == "access_decision" and p.get("allowed") is False:
            self.denied += 1

    def request(self, day: str, p: Mapping[str, JSONValue]) -> None:
        action = _s(p, "action")
        self.actions[day][action] += 1
        for category in _strings(p, "categories"):
            self.lines[day][category] += 1
        self.tenants[_s(p, "tenant")][action] += 1
        self.routes[_s(p, "model")][action] += 1
        self.in_force[_s(p, "policy_sha256")] += 1
        if _s(p, "purpose"):
            self.purposes[_s(p, "purpose")] += 1
        problems = " ".join(_strings(p, "authority_problems"))
        for ref in _strings(p, "authorities"):
            kind = ref.split(":", 1)[0]
            self.cited[kind] += 1
            if ref + ":" in problems or ref + "," in problems:
                self.refused[kind] += 1
        if "fail closed" in _s(p, "reason"):
            self.fail_closed["input screening failed closed"] += 1

    def review(self, ts: str, p: Mapping[str, JSONValue]) -> None:
        rid, action = _s(p, "review_id"), _s(p, "action")
        if action == "submit":
            self.submitted[rid] = ts
            self.kinds[rid] = _s(p, "kind")
            self.categories[rid] = tuple(_strings(p, "categories"))
            self.state[rid] = "pending"
            return
        if action == "approve":
            text = _s(p, "rationale")
            self.approvals[rid].append((_s(p, "actor"), hashlib.sha256(text.encode()).hexdigest()))
        after = _s(p, "state_after")
        if action in {"approve", "deny", "expire"} and after in {"approved", "denied", "expired"}:
            self.state[rid] = after
            self.decided[rid] = ts
            if rid in self.submitted:
                start = datetime.fromisoformat(self.submitted[rid])
                self.seconds.append((datetime.fromisoformat(ts) - start).total_seconds())

    def register_event(self, r: AuditRecord, p: Mapping[str, JSONValue]) -> None:
        # Counts, not references: an authority's id can itself be sensitive.
        counts: dict[str, JSONValue] = {
            "sha256": p.get("sha256"),
            "entries": p.get("entries"),
            "added": len(_strings(p, "added")),
            "removed": len(_strings(p, "removed")),
            "revoked": len(_strings(p, "revoked")),
            "error": "the register did not verify or parse" if p.get("error") else None,
        }
        self.register.append(_event(r, _s(p, "outcome"), counts, tuple(counts)))
        if _s(p, "outcome") == "rejected":
            self.fail_closed["authority register rejected (citations refused)"] += 1

    def figures(self, kept: list[AuditRecord]) -> Figures:
        days = tuple(sorted(self.actions))
        lines = sorted({c for counts in self.lines.values() for c in counts})
        overrides = tuple(
            Override(
                review_id=rid,
                decided=self.decided[rid],
                categories=self.categories.get(rid, ()),
                approvers=tuple(a for a, _ in self.approvals[rid]),
                rationale_sha256=tuple(d for _, d in self.approvals[rid]),
            )
            for rid in sorted(self.decided, key=lambda k: (self.decided[k], k))
            if self.kinds.get(rid) == "override" and self.state.get(rid) == "approved"
        )
        return Figures(
            first=kept[0].timestamp if kept else "",
            last=kept[-1].timestamp if kept else "",
            records=len(kept),
            days=days,
            actions_by_day={d: dict(self.actions[d]) for d in days},
            lines_by_day={d: dict(self.lines[d]) for d in days},
            red_lines=tuple(lines),
            totals=dict(sum(self.actions.values(), Counter())),
            output_totals=dict(self.outputs),
            tenants=_rows(self.tenants),
            routes=_rows(self.routes),
            review_outcomes=dict(Counter(self.state.values())),
            review_seconds=tuple(sorted(self.seconds)),
            overrides=overrides,
            halts=tuple(self.halts),
            policy_changes=tuple(self.policy),
            policies_in_force=dict(self.in_force),
            purposes=dict(self.purposes),
            authorities={k: (self.cited[k], self.refused[k]) for k in sorted(self.cited)},
            register_events=tuple(self.register),
            fail_closed=dict(self.fail_closed),
            access_denied=self.denied,
        )


def _rows(groups: Mapping[str, Counter[str]]) -> tuple[GroupRow, ...]:
    return tuple(
        GroupRow(
            name=name or "-",
            total=sum(c.values()),
            review=c["review"],
            block=c["block"],
        )
        for name, c in sorted(groups.items())
    )


def _event(r: AuditRecord, kind: str, p: Mapping[str, JSONValue], keys: Iterable[str]) -> Event:
    fields = []
    for key in keys:
        value = p.get(key)
        if value is None or value in ("", []):
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        fields.append((key, text[:200]))
    return Event(timestamp=r.timestamp, kind=kind, fields=tuple(fields))
