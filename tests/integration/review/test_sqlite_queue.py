"""SqliteReviewQueue with real SQLite: persistence, compare-and-swap, concurrent decisions."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from redline.domain import Principal
from redline.errors import InvalidTransition
from redline.policy.model import RuleKind
from redline.review import BodyCipher, ReviewItem, ReviewService, ReviewState, SqliteReviewQueue
from tests.unit.review.fakes import DECISION, REQUESTER, T0, RecordingAudit, principal

KEY = b"k" * 32
BODY = b'{"model":"m","messages":[{"role":"user","content":"hello"}]}'
REVIEWERS = [principal(f"key:r{i}", clearance="S") for i in range(10)]


def services(path: Path, n: int, audit: RecordingAudit) -> list[ReviewService]:
    """n services, each with its own connection to the same database file."""
    return [
        ReviewService(SqliteReviewQueue(path), cipher=BodyCipher(KEY), audit=audit)
        for _ in range(n)
    ]


async def submit(svc: ReviewService, kind: RuleKind) -> ReviewItem:
    return await svc.submit(
        request_id="req_1",
        principal=REQUESTER,
        label_banner="SECRET//NOFORN",
        request_body=BODY,
        decision=DECISION,
        kind=kind,
        approvals_required=1,
        expires_after_s=600,
        now=T0,
    )


async def outcomes(
    svcs: list[ReviewService], item: ReviewItem, reviewers: list[Principal], approve: list[bool]
) -> list[ReviewItem | BaseException]:
    return await asyncio.gather(
        *(
            svc.decide(item.id, r, approve=a, rationale=f"by {r.id}", now=T0)
            for svc, r, a in zip(svcs, reviewers, approve, strict=True)
        ),
        return_exceptions=True,
    )


async def test_item_round_trips_through_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "reviews.db"
    svc = services(path, 1, RecordingAudit())[0]
    item = await submit(svc, RuleKind.OVERRIDE)
    await svc.decide(item.id, REVIEWERS[0], approve=True, rationale="first\nline", now=T0)
    reopened = SqliteReviewQueue(path)
    stored = await reopened.get(item.id)
    assert stored is not None
    assert stored.requester == REQUESTER
    assert stored.decision == DECISION
    assert stored.created_at == T0
    assert stored.decisions[0].rationale == "first\nline"
    assert stored.version == 2
    assert [i.id for i in await reopened.pending()] == [item.id]
    raw = await reopened.body(item.id)
    assert raw is not None
    assert b"hello" not in raw
    assert b"hello" not in path.read_bytes()


async def test_stale_version_update_is_refused(tmp_path: Path) -> None:
    queue = SqliteReviewQueue(tmp_path / "reviews.db")
    svc = ReviewService(queue, cipher=BodyCipher(KEY), audit=RecordingAudit())
    item = await submit(svc, RuleKind.REVIEW)
    assert await queue.update(item, expected_version=item.version + 1) is False
    assert await queue.update(item, expected_version=item.version) is True


async def test_concurrent_decisions_on_one_hold_exactly_one_wins(tmp_path: Path) -> None:
    for racers in (2, 10):
        await race_once(tmp_path / f"reviews{racers}.db", racers)


async def race_once(path: Path, racers: int) -> None:
    audit = RecordingAudit()
    svcs = services(path, racers, audit)
    item = await submit(svcs[0], RuleKind.REVIEW)
    # Half approve, half deny, all at once, each on its own connection.
    verdicts = [i % 2 == 0 for i in range(racers)]
    results = await outcomes(svcs, item, REVIEWERS[:racers], verdicts)
    winners = [r for r in results if isinstance(r, ReviewItem)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(e, InvalidTransition) for e in losers)
    final = await svcs[0].get_for(item.id, REVIEWERS[0])
    assert final.state in (ReviewState.APPROVED, ReviewState.DENIED)
    assert len(final.decisions) == 1
    assert audit.actions().count("approve") + audit.actions().count("deny") == 1


async def test_two_person_rule_holds_under_concurrent_approvals(tmp_path: Path) -> None:
    audit = RecordingAudit()
    svcs = services(tmp_path / "reviews.db", 10, audit)
    item = await submit(svcs[0], RuleKind.OVERRIDE)
    results = await outcomes(svcs, item, REVIEWERS, [True] * 10)
    winners = [r for r in results if isinstance(r, ReviewItem)]
    assert len(winners) == 2  # exactly two distinct approvals are ever counted
    assert [w.state for w in sorted(winners, key=lambda w: w.version)] == [
        ReviewState.PENDING,
        ReviewState.APPROVED,
    ]
    assert all(isinstance(r, InvalidTransition) for r in results if r not in winners)
    final = await svcs[0].get_for(item.id, REVIEWERS[0])
    assert final.state is ReviewState.APPROVED
    assert len(set(final.approvals)) == len(final.approvals) == 2
    assert audit.actions().count("approve") == 2


async def test_same_reviewer_racing_themself_counts_once(tmp_path: Path) -> None:
    svcs = services(tmp_path / "reviews.db", 6, RecordingAudit())
    item = await submit(svcs[0], RuleKind.OVERRIDE)
    results = await outcomes(svcs, item, [REVIEWERS[0]] * 6, [True] * 6)
    assert sum(isinstance(r, ReviewItem) for r in results) == 1
    final = await svcs[0].get_for(item.id, REVIEWERS[0])
    assert final.state is ReviewState.PENDING
    assert final.approvals == (REVIEWERS[0].id,)


async def test_purge_deletes_bodies_and_answers_after_retention(tmp_path: Path) -> None:
    queue = SqliteReviewQueue(tmp_path / "reviews.db")
    svc = ReviewService(queue, cipher=BodyCipher(KEY), audit=RecordingAudit(), retention_s=60)
    item = await submit(svc, RuleKind.REVIEW)
    await svc.decide(item.id, REVIEWERS[0], approve=True, rationale="ok", now=T0)
    await svc.set_answer(item.id, b'{"ok":true}')
    with pytest.raises(InvalidTransition, match="already"):
        await svc.set_answer(item.id, b'{"forged":true}')
    assert (await svc.status(item.id, REQUESTER, now=T0)).answer == b'{"ok":true}'
    assert await svc.purge_due(T0 + timedelta(seconds=61)) == [item.id]
    assert await queue.body(item.id) is None
    assert await queue.answer(item.id) is None
    status = await svc.status(item.id, REQUESTER, now=T0 + timedelta(seconds=61))
    assert status.answer is None
    assert status.answer_purged
    assert await svc.purge_due(T0 + timedelta(seconds=120)) == []
