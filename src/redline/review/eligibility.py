"""Who may see and decide a review item (DOMAIN.md §3.1, §3.2).

A reviewer may see an item only if all three hold:

1. the principal has the :data:`REVIEWER_ROLE` role;
2. need-to-know for the requester's tenant: the tenant is in ``principal.need_to_know``,
   or the principal has :data:`ALL_TENANTS_ROLE`;
3. the principal's clearance label dominates the item's label (simple security property,
   :func:`redline.access.dominates`): level, every SCI/SAP compartment, releasability.

A reviewer may *decide* an item they may see unless they are its requester.

Invariants:

* fail closed: an item label that does not parse, or a principal clearance that cannot be
  read, makes the item invisible (never visible by default);
* callers treat an invisible item exactly like an unknown one (same error, not listed, not
  counted), so eligibility checks leak nothing about items a reviewer may not see.
"""

from __future__ import annotations

import functools
import logging

from redline.access import LabelView, clearance_label, dominates
from redline.domain import Principal
from redline.errors import ConfigError, MarkingError
from redline.markings import parse_marking
from redline.review.model import ReviewItem

__all__ = [
    "ALL_TENANTS_ROLE",
    "REVIEWER_ROLE",
    "can_decide",
    "can_see",
    "clears",
    "is_reviewer",
]

logger = logging.getLogger(__name__)

#: The role every reviewer needs.
REVIEWER_ROLE = "reviewer"
#: Need-to-know for every tenant (the provider's own safety team).
ALL_TENANTS_ROLE = "reviewer:all"


def is_reviewer(principal: Principal) -> bool:
    """Whether ``principal`` has the reviewer role."""
    return REVIEWER_ROLE in principal.roles


@functools.lru_cache(maxsize=1024)
def _label(banner: str) -> LabelView | None:
    try:
        return parse_marking(banner)
    except MarkingError:
        return None


def can_see(reviewer: Principal, item: ReviewItem) -> bool:
    """Whether ``reviewer`` may see ``item`` at all (module docstring, rules 1-3)."""
    if not is_reviewer(reviewer):
        return False
    if item.tenant not in reviewer.need_to_know and ALL_TENANTS_ROLE not in reviewer.roles:
        return False
    return clears(reviewer, item)


def clears(principal: Principal, item: ReviewItem) -> bool:
    """Whether ``principal``'s clearance dominates ``item``'s label (rule 3 alone)."""
    label = _label(item.label_banner)
    if label is None:
        logger.warning("review item has an unreadable label review_id=%s", item.id)
        return False
    try:
        subject = clearance_label(principal)
    except ConfigError:
        logger.warning("principal has an unreadable clearance principal=%s", principal.id)
        return False
    return dominates(subject, label)


def can_decide(reviewer: Principal, item: ReviewItem) -> bool:
    """Whether ``reviewer`` may approve or deny ``item``: sees it and did not request it."""
    return reviewer.id != item.requester.id and can_see(reviewer, item)
