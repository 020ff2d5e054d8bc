"""The review item and its state machine: pending -> approved | denied | expired.

Spec: ARCHITECTURE.md "review", DOMAIN.md §3.3 (two-person integrity).

A :class:`ReviewItem` is a request the policy held (``kind = review``) or a red-line block
an operator contests (``kind = override``). Cleared reviewers approve or deny it; each
decision carries a written rationale. The functions here are pure: they take an item and
return the next item (with ``version + 1``), or raise
:class:`~redline.errors.InvalidTransition` naming the current state and the attempted action.

Transition table (every other pair is invalid)::

    pending --approve--> pending    (an approval counted, fewer than approvals_required)
    pending --approve--> approved   (the approvals_required-th distinct approval)
    pending --deny-----> denied     (one denial by any eligible reviewer suffices)
    pending --expire---> expired    (now >= expires_at; treated as denied)

Invariants:

* terminal states (approved, denied, expired) never change again;
* ``approvals`` holds distinct reviewer ids: the same reviewer cannot approve twice, so
  ``approvals_required`` approvals are ``approvals_required`` different people;
* an ``override`` item never needs fewer than :data:`MIN_OVERRIDE_APPROVALS` (2) approvals,
  whatever the policy says (the two-person rule is part of the floor);
* a pending item whose ``expires_at`` has passed accepts only ``expire``;
* ``version`` increases by exactly one per transition; storage uses it for compare-and-swap.

Eligibility (who may act at all) is :mod:`redline.review.eligibility`'s job; this module
checks only what the item itself can tell: state, expiry, distinct approvers, self-review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from redline.domain import Decision, Principal
from redline.errors import AccessDenied, InvalidTransition, RequestError
from redline.policy.model import RuleKind

__all__ = [
    "MAX_RATIONALE_CHARS",
    "MIN_OVERRIDE_APPROVALS",
    "ReviewAction",
    "ReviewItem",
    "ReviewState",
    "ReviewerDecision",
    "approve",
    "deny",
    "expire",
    "required_approvals",
    "validate_rationale",
]

#: Longest rationale accepted, in characters.
MAX_RATIONALE_CHARS = 4000
#: The two-person rule: releasing a red-line block needs at least this many approvers.
MIN_OVERRIDE_APPROVALS = 2


class ReviewState(StrEnum):
    """Where a review item is (wire-stable)."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        """Whether no transition leaves this state."""
        return self is not ReviewState.PENDING


class ReviewAction(StrEnum):
    """What someone (or the clock) does to an item (wire-stable; audit ``action`` field)."""

    SUBMIT = "submit"
    APPROVE = "approve"
    DENY = "deny"
    EXPIRE = "expire"
    ANSWER = "answer"
    PURGE = "purge"


_ALLOWED: Mapping[ReviewState, frozenset[ReviewAction]] = MappingProxyType(
    {
        ReviewState.PENDING: frozenset(
            {ReviewAction.APPROVE, ReviewAction.DENY, ReviewAction.EXPIRE}
        ),
        ReviewState.APPROVED: frozenset(),
        ReviewState.DENIED: frozenset(),
        ReviewState.EXPIRED: frozenset(),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewerDecision:
    """One reviewer's approval or denial, with the written rationale."""

    reviewer_id: str
    approve: bool
    rationale: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewItem:
    """A held or contested request awaiting (or past) human review.

    The request body itself is not part of the item: it is stored encrypted beside it
    (:mod:`redline.review.crypto`) and deleted after the decision plus the retention period.

    Attributes:
        id: the review id (``rev_…``), returned to the requester.
        request_id: the gateway request id of the held request.
        requester: the principal who sent the request (replayed as them once approved).
        label_banner: the request's classification label, as a banner line.
        kind: ``review`` (a hold) or ``override`` (contesting a red-line block).
        approvals_required: distinct approvals that release the item.
        decision: the policy decision that held or blocked the request.
        state: the current state.
        created_at, expires_at: when the item was submitted and when it lapses.
        decided_at: when it reached a terminal state.
        decisions: every reviewer decision so far, oldest first.
        version: incremented by each transition (compare-and-swap in storage).
        answer_ready: whether the answer (or an error body) of an approved item is stored.
        purged: whether the stored request body and answer were deleted.
    """

    id: str
    request_id: str
    requester: Principal
    label_banner: str
    kind: RuleKind
    approvals_required: int
    decision: Decision
    state: ReviewState = ReviewState.PENDING
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    decisions: tuple[ReviewerDecision, ...] = field(default=())
    version: int = 1
    answer_ready: bool = False
    purged: bool = False

    @property
    def tenant(self) -> str:
        """The requester's tenant."""
        return self.requester.tenant

    @property
    def approvals(self) -> tuple[str, ...]:
        """Ids of the reviewers who approved, in order."""
        return tuple(d.reviewer_id for d in self.decisions if d.approve)

    def is_due(self, now: datetime) -> bool:
        """Whether a pending item has passed its time limit."""
        return self.state is ReviewState.PENDING and now >= self.expires_at


def required_approvals(kind: RuleKind, approvals_required: int) -> int:
    """The approvals an item of ``kind`` needs: the policy's number, floored by the rules.

    Every item needs at least one approval; an override needs at least two (two-person
    rule, DOMAIN.md §3.3), even if a policy asks for fewer.
    """
    floor = MIN_OVERRIDE_APPROVALS if kind is RuleKind.OVERRIDE else 1
    return max(floor, approvals_required)


def validate_rationale(text: str) -> str:
    """The rationale, stripped, if acceptable.

    Raises:
        RequestError: empty, longer than :data:`MAX_RATIONALE_CHARS`, or containing NUL or
            other control characters (tab and newlines are fine).
    """
    if len(text) > MAX_RATIONALE_CHARS:
        raise RequestError(
            f"the rationale is {len(text)} characters long; the limit is "
            f"{MAX_RATIONALE_CHARS} characters",
            param="rationale",
        )
    stripped = text.strip()
    if not stripped:
        raise RequestError("a written rationale is required for every decision", param="rationale")
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in stripped):
        raise RequestError("the rationale contains control characters", param="rationale")
    return stripped


def _check(item: ReviewItem, action: ReviewAction, now: datetime) -> None:
    if action not in _ALLOWED[item.state]:
        raise InvalidTransition(f"review {item.id} is {item.state.value}; cannot {action.value} it")
    if action is not ReviewAction.EXPIRE and item.is_due(now):
        raise InvalidTransition(
            f"review {item.id} is expired (time limit passed); cannot {action.value} it"
        )


def _check_reviewer(item: ReviewItem, reviewer_id: str) -> None:
    if reviewer_id == item.requester.id:
        raise AccessDenied("nobody may review their own request")


def approve(item: ReviewItem, *, reviewer_id: str, rationale: str, now: datetime) -> ReviewItem:
    """Count one approval; the ``approvals_required``-th distinct one approves the item.

    Raises:
        InvalidTransition: the item is not pending, is past its time limit, or this
            reviewer has already approved it.
        AccessDenied: the reviewer is the requester.
        RequestError: the rationale is missing or too long.
    """
    reason = validate_rationale(rationale)
    _check(item, ReviewAction.APPROVE, now)
    _check_reviewer(item, reviewer_id)
    if reviewer_id in item.approvals:
        raise InvalidTransition(
            f"review {item.id} is {item.state.value}; cannot approve it again: reviewer "
            f"{reviewer_id} has already approved (approvals must come from distinct reviewers)"
        )
    decisions = (
        *item.decisions,
        ReviewerDecision(reviewer_id=reviewer_id, approve=True, rationale=reason, at=now),
    )
    done = sum(1 for d in decisions if d.approve) >= required_approvals(
        item.kind, item.approvals_required
    )
    return replace(
        item,
        decisions=decisions,
        state=ReviewState.APPROVED if done else ReviewState.PENDING,
        decided_at=now if done else None,
        version=item.version + 1,
    )


def deny(item: ReviewItem, *, reviewer_id: str, rationale: str, now: datetime) -> ReviewItem:
    """Deny the item: one denial by any eligible reviewer is final.

    Raises:
        InvalidTransition: the item is not pending or is past its time limit.
        AccessDenied: the reviewer is the requester.
        RequestError: the rationale is missing or too long.
    """
    reason = validate_rationale(rationale)
    _check(item, ReviewAction.DENY, now)
    _check_reviewer(item, reviewer_id)
    decisions = (
        *item.decisions,
        ReviewerDecision(reviewer_id=reviewer_id, approve=False, rationale=reason, at=now),
    )
    return replace(
        item,
        decisions=decisions,
        state=ReviewState.DENIED,
        decided_at=now,
        version=item.version + 1,
    )


def expire(item: ReviewItem, *, now: datetime) -> ReviewItem:
    """Expire a pending item whose time limit has passed (treated as denied).

    Raises:
        InvalidTransition: the item is not pending, or its time limit has not passed.
    """
    _check(item, ReviewAction.EXPIRE, now)
    if not item.is_due(now):
        raise InvalidTransition(
            f"review {item.id} is {item.state.value} until its time limit; cannot expire it yet"
        )
    return replace(item, state=ReviewState.EXPIRED, decided_at=now, version=item.version + 1)
