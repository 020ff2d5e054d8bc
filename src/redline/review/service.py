"""The review queue: the storage seam (:class:`ReviewQueue`) and :class:`ReviewService`.

Covers holds, eligibility, the two-person rule, expiry, audit and the webhook; DOMAIN.md §3.3.

:class:`ReviewService` is what the gateway and the console call. It composes the pure state
machine (:mod:`redline.review.model`), eligibility (:mod:`redline.review.eligibility`),
encryption at rest (:mod:`redline.review.crypto`), a :class:`ReviewQueue` (SQLite:
:class:`redline.review.sqlite.SqliteReviewQueue`), the audit log and the webhook.

Invariants:

* **Exactly one writer wins.** Every transition is a compare-and-swap on the item's
  ``version`` (:meth:`ReviewQueue.update`). A loser re-reads and re-applies its action to the
  new state: a second approval of an override by another reviewer still counts, while an
  approval that races a denial (or the final approval) fails with
  :class:`~redline.errors.InvalidTransition`.
* **Every transition is an audit event** (``review_action``, with the actor's id, the
  action, the states before and after and the rationale text). The audit record is written
  after the compare-and-swap succeeds; if the audit log cannot commit, the transition is
  rolled back (another compare-and-swap, restoring the previous content under a newer
  version) and the error propagates: nothing changes state unrecorded. A submission is
  recorded before it is stored.
* **Invisible equals unknown.** An item a principal may not see raises
  :class:`~redline.errors.ReviewItemNotFound`, exactly like an id that does not exist.
* **An approved request runs once.** Only the caller whose compare-and-swap moved the item
  to ``approved`` schedules ``run_approved``; its answer (or an OpenAI-shaped error body) is
  stored encrypted for the requester, exactly once (a second answer is refused). Without a
  ``run_approved`` the answer is left to :meth:`ReviewService.set_answer`.
* **Content is retained no longer than needed.** :meth:`ReviewService.purge_due` deletes
  the request body and the answer ``retention_s`` seconds after the decision.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

import orjson

from redline.domain import AuditSink, Decision, JSONValue, Principal
from redline.errors import (
    AccessDenied,
    AuditError,
    GatewayError,
    InvalidTransition,
    RequestError,
    ReviewError,
    ReviewItemNotFound,
)
from redline.ids import new_id
from redline.policy.model import RuleKind
from redline.review import model
from redline.review.crypto import BodyCipher, Purpose
from redline.review.eligibility import can_see, clears
from redline.review.model import ReviewAction, ReviewItem, ReviewState

__all__ = [
    "AuditSink",
    "Notifier",
    "ReviewQueue",
    "ReviewService",
    "ReviewStatus",
    "RunApproved",
]

logger = logging.getLogger(__name__)

#: Compare-and-swap retries before a decision gives up under contention.
_MAX_ATTEMPTS = 8
#: Largest request body accepted for review (the gateway's own limit applies first).
MAX_BODY_BYTES = 16 * 1024 * 1024

#: Runs an approved request as its requester (output screening included) and returns the
#: response body to give the requester. Provided by the gateway.
RunApproved = Callable[[ReviewItem, bytes], Awaitable[bytes]]


class Notifier(Protocol):
    """Tells a team about new holds and decisions (:class:`redline.review.webhook.Webhook`)."""

    def notify(self, event: str, payload: Mapping[str, JSONValue]) -> None:
        """Send in the background; never raises for delivery failures."""
        ...


class ReviewQueue(Protocol):
    """Durable storage of review items, their encrypted bodies and answers."""

    async def insert(self, item: ReviewItem, body: bytes) -> None:
        """Store a new item with its (encrypted) request body."""
        ...

    async def get(self, review_id: str) -> ReviewItem | None:
        """The item, or None."""
        ...

    async def update(self, item: ReviewItem, *, expected_version: int) -> bool:
        """Replace the stored item iff its stored version is ``expected_version``."""
        ...

    async def pending(self) -> list[ReviewItem]:
        """Every pending item, oldest first."""
        ...

    async def body(self, review_id: str) -> bytes | None:
        """The encrypted request body, or None (unknown or purged)."""
        ...

    async def store_answer(self, review_id: str, answer: bytes) -> bool:
        """Store the encrypted answer of an approved, unpurged, unanswered item (once)."""
        ...

    async def answer(self, review_id: str) -> bytes | None:
        """The encrypted answer, or None."""
        ...

    async def purge(self, decided_before: datetime) -> list[str]:
        """Delete body and answer of items decided before the instant; their ids."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewStatus:
    """What the requester sees: the state and, once approved and run, the answer."""

    id: str
    state: ReviewState
    kind: RuleKind
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    approvals: int
    approvals_required: int
    answer: bytes | None = None
    answer_purged: bool = False


def rationale_sha256(text: str) -> str:
    """Hex SHA-256 of a rationale (kept in webhook payloads instead of the text)."""
    return hashlib.sha256(text.encode()).hexdigest()


class ReviewService:
    """Submit, list, decide, expire and purge review items (module docstring)."""

    def __init__(
        self,
        queue: ReviewQueue,
        *,
        cipher: BodyCipher,
        audit: AuditSink,
        notifier: Notifier | None = None,
        run_approved: RunApproved | None = None,
        retention_s: int = 7 * 24 * 3600,
    ) -> None:
        self._queue = queue
        self._cipher = cipher
        self._audit = audit
        self._notifier = notifier
        self._run_approved = run_approved
        self._retention = timedelta(seconds=retention_s)
        self._tasks: set[asyncio.Task[None]] = set()

    def bind_runner(self, run_approved: RunApproved) -> None:
        """Set the runner of approved requests once, at start-up (the composition root
        builds the runner from the orchestrator, which itself needs this service).

        Raises:
            ReviewError: a runner is already bound.
        """
        if self._run_approved is not None:
            raise ReviewError("the review service already has a runner")
        self._run_approved = run_approved

    # -- requester side ---------------------------------------------------------------

    async def submit(
        self,
        *,
        request_id: str,
        principal: Principal,
        label_banner: str,
        request_body: bytes,
        decision: Decision,
        kind: RuleKind,
        approvals_required: int,
        expires_after_s: int,
        now: datetime,
    ) -> ReviewItem:
        """Hold a request for review; returns the new item (its ``id`` is the review id).

        Raises:
            RequestError: ``expires_after_s`` is not positive or the body is too large.
            AuditStoreError: the submission could not be recorded (nothing is stored).
            StoreError: the item could not be stored.
        """
        if expires_after_s <= 0:
            raise RequestError("a review hold needs a positive time limit")
        if len(request_body) > MAX_BODY_BYTES:
            raise RequestError(f"request body over {MAX_BODY_BYTES} bytes cannot be held")
        item = ReviewItem(
            id=new_id("rev"),
            request_id=request_id,
            requester=principal,
            label_banner=label_banner,
            kind=kind,
            approvals_required=model.required_approvals(kind, approvals_required),
            decision=decision,
            created_at=now,
            expires_at=now + timedelta(seconds=expires_after_s),
        )
        sealed = self._cipher.seal(item.id, Purpose.REQUEST, request_body)
        await self._record(item, ReviewAction.SUBMIT, actor=principal.id, before=None)
        await self._queue.insert(item, sealed)
        self._notify("review.created", item)
        return item

    async def status(self, review_id: str, principal: Principal, *, now: datetime) -> ReviewStatus:
        """The requester's view of an item.

        The requester's tenant must own the item. Another principal of that tenant must
        also hold a clearance that dominates the item's label (the answer is at that label).

        Raises:
            ReviewItemNotFound: unknown, or not the caller's (indistinguishable).
        """
        item = await self._queue.get(review_id)
        if item is None or not _may_read_own(principal, item):
            raise ReviewItemNotFound(f"no review {review_id}")
        if item.is_due(now):
            item = await self._expire_one(item, now) or item
        answer = None
        if item.state is ReviewState.APPROVED and item.answer_ready and not item.purged:
            sealed = await self._queue.answer(item.id)
            answer = self._cipher.open(item.id, Purpose.ANSWER, sealed) if sealed else None
        return ReviewStatus(
            id=item.id,
            state=item.state,
            kind=item.kind,
            created_at=item.created_at,
            expires_at=item.expires_at,
            decided_at=item.decided_at,
            approvals=len(item.approvals),
            approvals_required=item.approvals_required,
            answer=answer,
            answer_purged=item.purged,
        )

    # -- reviewer side ----------------------------------------------------------------

    async def list_for(self, reviewer: Principal, now: datetime) -> list[ReviewItem]:
        """Pending, unexpired items ``reviewer`` may see; overrides first, then oldest first."""
        items = [i for i in await self._queue.pending() if not i.is_due(now)]
        visible = [i for i in items if can_see(reviewer, i)]
        visible.sort(key=lambda i: (i.kind is not RuleKind.OVERRIDE, i.created_at, i.id))
        return visible

    async def get_for(self, review_id: str, reviewer: Principal) -> ReviewItem:
        """An item ``reviewer`` may see, in any state.

        Raises:
            ReviewItemNotFound: unknown or not visible to ``reviewer`` (indistinguishable).
        """
        item = await self._queue.get(review_id)
        if item is None or not can_see(reviewer, item):
            raise ReviewItemNotFound(f"no review {review_id}")
        return item

    async def request_body_for(self, item: ReviewItem) -> bytes | None:
        """The decrypted request body of an item (None once purged).

        Callers must have checked visibility (:meth:`get_for`).
        """
        sealed = await self._queue.body(item.id)
        return self._cipher.open(item.id, Purpose.REQUEST, sealed) if sealed else None

    async def decide(
        self,
        review_id: str,
        reviewer: Principal,
        *,
        approve: bool,
        rationale: str,
        now: datetime,
    ) -> ReviewItem:
        """Approve or deny an item as ``reviewer``, with a written rationale.

        Raises:
            ReviewItemNotFound: unknown or not visible to ``reviewer``.
            AccessDenied: the reviewer is the requester.
            InvalidTransition: the item is not pending, has expired, or the reviewer has
                already approved it.
            RequestError: the rationale is empty, too long or has control characters.
            AuditStoreError: the decision could not be recorded (it is rolled back).
        """
        text = model.validate_rationale(rationale)
        action = ReviewAction.APPROVE if approve else ReviewAction.DENY
        for _ in range(_MAX_ATTEMPTS):
            item = await self.get_for(review_id, reviewer)
            if reviewer.id == item.requester.id:
                raise AccessDenied("nobody may review their own request")
            if item.is_due(now):
                await self._expire_one(item, now)
                raise InvalidTransition(
                    f"review {item.id} is expired (time limit passed); cannot {action.value} it"
                )
            if approve:
                new = model.approve(item, reviewer_id=reviewer.id, rationale=text, now=now)
            else:
                new = model.deny(item, reviewer_id=reviewer.id, rationale=text, now=now)
            if await self._queue.update(new, expected_version=item.version):
                break
        else:
            raise InvalidTransition(f"review {review_id} is changing too fast; try again")
        await self._commit_audit(item, new, action, actor=reviewer.id, rationale=text)
        if new.state is not ReviewState.PENDING:
            self._notify("review.decided", new)
        if new.state is ReviewState.APPROVED:
            self._spawn(self._run(new))
        return new

    # -- the clock's side -------------------------------------------------------------

    async def expire_due(self, now: datetime) -> list[ReviewItem]:
        """Expire every pending item past its time limit; the items expired by this call."""
        expired = []
        for item in await self._queue.pending():
            if item.is_due(now):
                done = await self._expire_one(item, now)
                if done is not None:
                    expired.append(done)
        return expired

    async def purge_due(self, now: datetime) -> list[str]:
        """Delete bodies and answers decided more than ``retention_s`` ago; their ids."""
        ids = await self._queue.purge(now - self._retention)
        for review_id in ids:
            await self._audit.record(
                "review_action",
                {"review_id": review_id, "action": ReviewAction.PURGE.value, "actor": "system"},
            )
        return ids

    async def set_answer(self, review_id: str, answer_body: bytes) -> None:
        """Store the answer of an approved item (encrypted) for the requester's status call.

        Raises:
            ReviewItemNotFound: no such item.
            InvalidTransition: the item is not approved, already has its answer (answers
                are written once), or its content was purged.
        """
        item = await self._queue.get(review_id)
        if item is None:
            raise ReviewItemNotFound(f"no review {review_id}")
        if item.state is not ReviewState.APPROVED or item.purged or item.answer_ready:
            what = "already answered" if item.answer_ready else item.state.value
            what = "purged" if item.purged else what
            raise InvalidTransition(
                f"review {review_id} is {what}; cannot {ReviewAction.ANSWER} it"
            )
        sealed = self._cipher.seal(review_id, Purpose.ANSWER, answer_body)
        if not await self._queue.store_answer(review_id, sealed):
            raise InvalidTransition(f"review {review_id}: the answer can no longer be stored")
        await self._audit.record(
            "review_action",
            {
                "review_id": review_id,
                "action": ReviewAction.ANSWER.value,
                "actor": "system",
                "answer_sha256": hashlib.sha256(answer_body).hexdigest(),
            },
            request_id=item.request_id,
        )

    async def drain(self) -> None:
        """Wait for background work (approved-request runs) to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- internals --------------------------------------------------------------------

    async def _expire_one(self, item: ReviewItem, now: datetime) -> ReviewItem | None:
        new = model.expire(item, now=now)
        if not await self._queue.update(new, expected_version=item.version):
            return None  # someone else decided or expired it first
        await self._commit_audit(item, new, ReviewAction.EXPIRE, actor="system", rationale="")
        self._notify("review.decided", new)
        return new

    async def _commit_audit(
        self,
        before: ReviewItem,
        after: ReviewItem,
        action: ReviewAction,
        *,
        actor: str,
        rationale: str,
    ) -> None:
        """Record a committed transition; undo it if the audit log cannot commit."""
        try:
            await self._record(after, action, actor=actor, before=before, rationale=rationale)
        except AuditError:
            restored = replace(before, version=after.version + 1)
            if not await self._queue.update(restored, expected_version=after.version):
                logger.error("could not roll back unrecorded transition review_id=%s", after.id)
            raise

    async def _record(
        self,
        item: ReviewItem,
        action: ReviewAction,
        *,
        actor: str,
        before: ReviewItem | None,
        rationale: str = "",
    ) -> None:
        payload: dict[str, JSONValue] = {
            "review_id": item.id,
            "action": action.value,
            "actor": actor,
            "tenant": item.tenant,
            "requester": item.requester.id,
            "kind": item.kind.value,
            "label": item.label_banner,
            "state_before": before.state.value if before else None,
            "state_after": item.state.value,
            "approvals": list(item.approvals),
            "approvals_required": item.approvals_required,
            "categories": list(item.decision.categories),
            "clauses": list(item.decision.clauses),
        }
        if rationale:
            # Oversight reads the reviewer's reasoning; it is reviewer prose, not content.
            payload["rationale"] = rationale
        await self._audit.record("review_action", payload, request_id=item.request_id)

    def _notify(self, event: str, item: ReviewItem) -> None:
        if self._notifier is None:
            return
        last = item.decisions[-1] if item.decisions else None
        self._notifier.notify(
            event,
            {
                "review_id": item.id,
                "request_id": item.request_id,
                "tenant": item.tenant,
                "kind": item.kind.value,
                "state": item.state.value,
                "label": item.label_banner,
                "categories": list(item.decision.categories),
                "clauses": list(item.decision.clauses),
                "approvals": len(item.approvals),
                "approvals_required": item.approvals_required,
                "reviewer": last.reviewer_id if last else None,
                "rationale_sha256": rationale_sha256(last.rationale) if last else None,
            },
        )

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, item: ReviewItem) -> None:
        """Run an approved request and store its answer, or an error body if that fails."""
        if self._run_approved is None:
            return  # the answer will come through set_answer()
        try:
            body = await self.request_body_for(item)
            if body is None:
                raise InvalidTransition(f"review {item.id}: the request body was purged")
            answer = await self._run_approved(item, body)
        except GatewayError as exc:
            logger.warning(
                "approved request failed review_id=%s error=%s", item.id, type(exc).__name__
            )
            answer = _error_body(str(exc), type(exc).__name__)
        except Exception:  # background task boundary: the requester must get an answer
            logger.exception("approved request crashed review_id=%s", item.id)
            answer = _error_body("internal error while running the approved request", "internal")
        try:
            await self.set_answer(item.id, answer)
        except GatewayError as exc:
            logger.error(
                "could not store the answer review_id=%s error=%s", item.id, type(exc).__name__
            )


def _may_read_own(principal: Principal, item: ReviewItem) -> bool:
    if principal.tenant != item.tenant:
        return False
    if principal.id == item.requester.id:
        return True
    # Another key of the same tenant may read the answer only if cleared for its label.
    return clears(principal, item)


def _error_body(message: str, kind: str) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "message": f"the approved request could not be completed: {message}",
                "type": "redline_review",
                "param": None,
                "code": "redline_review_run_failed",
                "cause": kind,
            }
        }
    )
