"""Human review: holds, two-person overrides, eligibility, expiry (ARCHITECTURE.md "review").

Entry points: :class:`ReviewService` (submit / status / list_for / decide / expire_due /
purge_due / set_answer), built by :func:`open_review`; the pure state machine in
:mod:`redline.review.model`; eligibility rules in :mod:`redline.review.eligibility`.
Spec: DOMAIN.md §3.1-3.3.
"""

from __future__ import annotations

from redline.review.crypto import BodyCipher, Purpose, load_or_create_key
from redline.review.eligibility import (
    ALL_TENANTS_ROLE,
    REVIEWER_ROLE,
    can_decide,
    can_see,
    clears,
    is_reviewer,
)
from redline.review.model import (
    MAX_RATIONALE_CHARS,
    MIN_OVERRIDE_APPROVALS,
    ReviewAction,
    ReviewerDecision,
    ReviewItem,
    ReviewState,
)
from redline.review.runtime import ReviewConfig, ReviewRuntime, open_review
from redline.review.service import (
    AuditSink,
    Notifier,
    ReviewQueue,
    ReviewService,
    ReviewStatus,
    RunApproved,
)
from redline.review.sqlite import SqliteReviewQueue
from redline.review.webhook import Webhook, sign, verify_signature

__all__ = [
    "ALL_TENANTS_ROLE",
    "MAX_RATIONALE_CHARS",
    "MIN_OVERRIDE_APPROVALS",
    "REVIEWER_ROLE",
    "AuditSink",
    "BodyCipher",
    "Notifier",
    "Purpose",
    "ReviewAction",
    "ReviewConfig",
    "ReviewItem",
    "ReviewQueue",
    "ReviewRuntime",
    "ReviewService",
    "ReviewState",
    "ReviewStatus",
    "ReviewerDecision",
    "RunApproved",
    "SqliteReviewQueue",
    "Webhook",
    "can_decide",
    "can_see",
    "clears",
    "is_reviewer",
    "load_or_create_key",
    "open_review",
    "sign",
    "verify_signature",
]
