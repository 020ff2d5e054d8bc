"""ReviewService over the in-memory queue fake: visibility, decisions, audit, answers, purge."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import pytest

from redline.errors import (
    AccessDenied,
    AuditStoreError,
    InvalidTransition,
    RequestError,
    ReviewItemNotFound,
    UpstreamTimeout,
)
from redline.policy.model import RuleKind
from redline.review import BodyCipher, ReviewItem, ReviewService, ReviewState
from tests.unit.review.fakes import DECISION, REQUESTER, T0, MemoryQueue, RecordingAudit, principal

ALICE = principal("key:alice", clearance="TS")
BOB = principal("key:bob", clearance="S")
LOW = principal("key:low", clearance="C")
BODY = b'{"model":"m","messages":[{"role":"user","content":"find everyone in Ohio"}]}'


class Runner:
    def __init__(self, answer: bytes = b'{"choices":[]}', error: Exception | None = None):
        self.answer, self.error = answer, error
        self.calls: list[tuple[str, bytes]] = []

    async def __call__(self, item: ReviewItem, body: bytes) -> bytes:
        self.calls.append((item.id, body))
        if self.error is not None:
            raise self.error
        return self.answer


def service(
    queue: MemoryQueue, audit: RecordingAudit, runner: Runner | None = None
) -> ReviewService:
    return ReviewService(
        queue, cipher=BodyCipher(b"k" * 32), audit=audit, run_approved=runner, retention_s=3600
    )


async def submit(
    svc: ReviewService,
    kind: RuleKind = RuleKind.REVIEW,
    *,
    label: str = "SECRET//NOFORN",
    at: datetime = T0,
) -> ReviewItem:
    return await svc.submit(
        request_id="req_1",
        principal=REQUESTER,
        label_banner=label,
        request_body=BODY,
        decision=DECISION,
        kind=kind,
        approvals_required=1,
        expires_after_s=600,
        now=at,
    )


async def test_submit_stores_encrypted_body_and_audits_first() -> None:
    queue, audit = MemoryQueue(), RecordingAudit()
    svc = service(queue, audit)
    item = await submit(svc)
    assert item.id.startswith("rev_")
    assert item.state is ReviewState.PENDING
    assert b"Ohio" not in (queue.bodies[item.id] or b"")
    assert await svc.request_body_for(item) == BODY
    assert audit.actions() == ["submit"]
    assert audit.events[0][2] == "req_1"


async def test_submission_unrecorded_is_not_stored() -> None:
    queue, audit = MemoryQueue(), RecordingAudit(fail=True)
    with pytest.raises(AuditStoreError):
        await submit(service(queue, audit))
    assert queue.items == {}


async def test_override_gets_two_person_rule() -> None:
    svc = service(MemoryQueue(), RecordingAudit())
    item = await submit(svc, RuleKind.OVERRIDE)
    assert item.approvals_required == 2


async def test_approve_runs_the_request_and_the_requester_sees_the_answer() -> None:
    audit, runner = RecordingAudit(), Runner(b'{"id":"chatcmpl-1"}')
    svc = service(MemoryQueue(), audit, runner)
    item = await submit(svc)
    pending = await svc.status(item.id, REQUESTER, now=T0)
    assert pending.state is ReviewState.PENDING
    assert pending.answer is None
    done = await svc.decide(item.id, ALICE, approve=True, rationale="lawful", now=T0)
    assert done.state is ReviewState.APPROVED
    await svc.drain()
    assert runner.calls == [(item.id, BODY)]
    status = await svc.status(item.id, REQUESTER, now=T0)
    assert status.state is ReviewState.APPROVED
    assert status.answer == b'{"id":"chatcmpl-1"}'
    assert audit.actions() == ["submit", "approve", "answer"]
    event = audit.events[1][1]
    assert event["actor"] == "key:alice"
    assert event["rationale"] == "lawful"
    assert (event["state_before"], event["state_after"]) == ("pending", "approved")


async def test_a_failing_run_stores_an_openai_error_body() -> None:
    svc = service(MemoryQueue(), RecordingAudit(), Runner(error=UpstreamTimeout("slow")))
    item = await submit(svc)
    await svc.decide(item.id, ALICE, approve=True, rationale="ok", now=T0)
    await svc.drain()
    status = await svc.status(item.id, REQUESTER, now=T0)
    error = orjson.loads(status.answer or b"{}")["error"]
    assert error["code"] == "redline_review_run_failed"
    assert "slow" in error["message"]


async def test_approval_of_unknown_item_is_not_found() -> None:
    svc = service(MemoryQueue(), RecordingAudit())
    with pytest.raises(ReviewItemNotFound):
        await svc.decide("rev_nope", ALICE, approve=True, rationale="x", now=T0)


async def test_reviewer_below_the_label_gets_not_found_like_unknown() -> None:
    audit = RecordingAudit()
    svc = service(MemoryQueue(), audit)
    item = await submit(svc)
    with pytest.raises(ReviewItemNotFound) as hidden:
        await svc.decide(item.id, LOW, approve=True, rationale="x", now=T0)
    with pytest.raises(ReviewItemNotFound) as unknown:
        await svc.decide("rev_nope", LOW, approve=True, rationale="x", now=T0)
    assert str(hidden.value).replace(item.id, "ID") == str(unknown.value).replace("rev_nope", "ID")
    assert await svc.list_for(LOW, T0) == []
    assert audit.actions() == ["submit"]


async def test_self_review_is_refused_at_the_service() -> None:
    svc = service(MemoryQueue(), RecordingAudit())
    item = await submit(svc)
    me = principal(REQUESTER.id, clearance="TS")
    with pytest.raises(AccessDenied, match="own request"):
        await svc.decide(item.id, me, approve=True, rationale="mine", now=T0)


async def test_approval_of_an_expired_item_expires_it_and_fails() -> None:
    audit = RecordingAudit()
    svc = service(MemoryQueue(), audit)
    item = await submit(svc)
    late = T0 + timedelta(seconds=600)
    with pytest.raises(InvalidTransition, match="expired"):
        await svc.decide(item.id, ALICE, approve=True, rationale="x", now=late)
    assert (await svc.status(item.id, REQUESTER, now=late)).state is ReviewState.EXPIRED
    assert audit.actions() == ["submit", "expire"]
    with pytest.raises(InvalidTransition, match="is expired; cannot approve"):
        await svc.decide(item.id, ALICE, approve=True, rationale="x", now=late)


async def test_double_approval_of_override_by_the_same_reviewer() -> None:
    svc = service(MemoryQueue(), RecordingAudit())
    item = await submit(svc, RuleKind.OVERRIDE)
    await svc.decide(item.id, ALICE, approve=True, rationale="ok", now=T0)
    with pytest.raises(InvalidTransition, match="already approved"):
        await svc.decide(item.id, ALICE, approve=True, rationale="again", now=T0)
    final = await svc.decide(item.id, BOB, approve=True, rationale="second person", now=T0)
    assert final.state is ReviewState.APPROVED
    assert final.approvals == ("key:alice", "key:bob")


async def test_huge_rationale_is_rejected_before_anything_changes() -> None:
    audit = RecordingAudit()
    svc = service(MemoryQueue(), audit)
    item = await submit(svc)
    with pytest.raises(RequestError, match="limit is 4000"):
        await svc.decide(item.id, ALICE, approve=False, rationale="x" * 1_000_000, now=T0)
    assert audit.actions() == ["submit"]


async def test_unrecordable_decision_is_rolled_back() -> None:
    queue, audit = MemoryQueue(), RecordingAudit()
    svc = service(queue, audit)
    item = await submit(svc)
    audit.fail = True
    with pytest.raises(AuditStoreError):
        await svc.decide(item.id, ALICE, approve=True, rationale="ok", now=T0)
    audit.fail = False
    assert queue.items[item.id].state is ReviewState.PENDING
    assert queue.items[item.id].decisions == ()
    done = await svc.decide(item.id, BOB, approve=False, rationale="no", now=T0)
    assert done.state is ReviewState.DENIED


async def test_queue_lists_overrides_first_then_oldest_and_hides_the_rest() -> None:
    svc = service(MemoryQueue(), RecordingAudit())
    old_hold = await submit(svc, at=T0)
    new_override = await submit(svc, RuleKind.OVERRIDE, at=T0 + timedelta(seconds=5))
    new_hold = await submit(svc, at=T0 + timedelta(seconds=9))
    secret_sci = await submit(svc, label="TOP SECRET//SI//NOFORN", at=T0)
    ids = [i.id for i in await svc.list_for(ALICE, T0 + timedelta(seconds=10))]
    assert ids == [new_override.id, old_hold.id, new_hold.id]
    assert secret_sci.id not in ids
    assert await svc.list_for(principal("key:x", roles=frozenset()), T0) == []


async def test_status_is_only_for_the_owning_tenant() -> None:
    svc = service(MemoryQueue(), RecordingAudit())
    item = await submit(svc)
    stranger = principal("key:s", tenant="other", roles=frozenset())
    with pytest.raises(ReviewItemNotFound):
        await svc.status(item.id, stranger, now=T0)
    colleague_low = principal("key:c", roles=frozenset(), clearance="U")
    with pytest.raises(ReviewItemNotFound):
        await svc.status(item.id, colleague_low, now=T0)
    colleague = principal("key:c2", roles=frozenset(), clearance="S")
    assert (await svc.status(item.id, colleague, now=T0)).state is ReviewState.PENDING


async def test_expire_due_and_purge_after_retention() -> None:
    queue, audit = MemoryQueue(), RecordingAudit()
    svc = service(queue, audit)
    item = await submit(svc)
    assert await svc.expire_due(T0 + timedelta(seconds=599)) == []
    expired = await svc.expire_due(T0 + timedelta(seconds=600))
    assert [i.id for i in expired] == [item.id]
    assert await svc.purge_due(T0 + timedelta(seconds=600 + 3599)) == []
    assert await svc.purge_due(T0 + timedelta(seconds=600 + 3601)) == [item.id]
    assert queue.bodies[item.id] is None
    assert await svc.request_body_for(queue.items[item.id]) is None
    assert audit.actions() == ["submit", "expire", "purge"]


async def test_set_answer_only_for_approved_items() -> None:
    svc = service(MemoryQueue(), RecordingAudit())
    item = await submit(svc)
    with pytest.raises(InvalidTransition, match="is pending; cannot answer"):
        await svc.set_answer(item.id, b"{}")
    with pytest.raises(ReviewItemNotFound):
        await svc.set_answer("rev_nope", b"{}")
