"""Fakes at the review package's seams: an in-memory ReviewQueue and a recording audit sink."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from redline.domain import Action, Decision, JSONValue, Principal
from redline.errors import AuditStoreError
from redline.review import ReviewItem, ReviewState

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def principal(
    pid: str,
    *,
    tenant: str = "acme",
    roles: frozenset[str] = frozenset({"reviewer"}),
    clearance: str = "TS",
    read_ins: frozenset[str] = frozenset(),
    need_to_know: frozenset[str] | None = None,
    nationality: str = "USA",
) -> Principal:
    return Principal(
        id=pid,
        tenant=tenant,
        roles=roles,
        clearance=clearance,
        nationality=nationality,
        read_ins=read_ins,
        need_to_know=frozenset({tenant}) if need_to_know is None else need_to_know,
    )


REQUESTER = principal("key:requester", roles=frozenset(), clearance="S")

DECISION = Decision(
    action=Action.REVIEW,
    categories=("mass_domestic_surveillance",),
    clauses=("RL1.2",),
    scores={"mass_domestic_surveillance": 0.61, "autonomous_weapons": 0.02},
    evidence=("track every resident",),
    policy_sha256="ab" * 32,
    reason="score above review threshold",
)


@dataclass
class RecordingAudit:
    """Keeps every event; ``fail`` makes the next records raise AuditStoreError."""

    events: list[tuple[str, dict[str, JSONValue], str | None]] = field(default_factory=list)
    fail: bool = False

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        if self.fail:
            raise AuditStoreError("audit store is down")
        self.events.append((event_type, dict(payload), request_id))

    def actions(self) -> list[str]:
        return [str(p["action"]) for _, p, _ in self.events]


class MemoryQueue:
    """The ReviewQueue Protocol in memory (same compare-and-swap contract as SQLite)."""

    def __init__(self) -> None:
        self.items: dict[str, ReviewItem] = {}
        self.bodies: dict[str, bytes | None] = {}
        self.answers: dict[str, bytes | None] = {}

    async def insert(self, item: ReviewItem, body: bytes) -> None:
        self.items[item.id] = item
        self.bodies[item.id] = body
        self.answers[item.id] = None

    async def get(self, review_id: str) -> ReviewItem | None:
        return self.items.get(review_id)

    async def update(self, item: ReviewItem, *, expected_version: int) -> bool:
        current = self.items.get(item.id)
        if current is None or current.version != expected_version:
            return False
        self.items[item.id] = item
        return True

    async def pending(self) -> list[ReviewItem]:
        return sorted(
            (i for i in self.items.values() if i.state is ReviewState.PENDING),
            key=lambda i: (i.created_at, i.id),
        )

    async def body(self, review_id: str) -> bytes | None:
        return self.bodies.get(review_id)

    async def store_answer(self, review_id: str, answer: bytes) -> bool:
        item = self.items.get(review_id)
        if item is None or item.state is not ReviewState.APPROVED:
            return False
        if item.purged or item.answer_ready:
            return False
        self.answers[review_id] = answer
        self.items[review_id] = replace(item, answer_ready=True)
        return True

    async def answer(self, review_id: str) -> bytes | None:
        return self.answers.get(review_id)

    async def purge(self, decided_before: datetime) -> list[str]:
        done = []
        for item in list(self.items.values()):
            if item.decided_at is not None and item.decided_at < decided_before:
                if self.bodies.get(item.id) is None and self.answers.get(item.id) is None:
                    continue
                self.bodies[item.id] = None
                self.answers[item.id] = None
                self.items[item.id] = replace(item, purged=True)
                done.append(item.id)
        return done
