"""Who may see and decide a review item: role, need-to-know, clearance dominance."""

from __future__ import annotations

from datetime import timedelta

import pytest

from redline.policy.model import RuleKind
from redline.review import ReviewItem, can_decide, can_see, clears
from tests.unit.review.fakes import DECISION, REQUESTER, T0, principal


def item(label: str = "SECRET//NOFORN", tenant_requester: str = "acme") -> ReviewItem:
    requester = principal("key:requester", tenant=tenant_requester, roles=frozenset())
    return ReviewItem(
        id="rev_1",
        request_id="req_1",
        requester=requester,
        label_banner=label,
        kind=RuleKind.REVIEW,
        approvals_required=1,
        decision=DECISION,
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
    )


def test_cleared_reviewer_with_need_to_know_sees_and_decides() -> None:
    reviewer = principal("key:r", clearance="S")
    assert can_see(reviewer, item())
    assert can_decide(reviewer, item())


def test_reviewer_role_is_required() -> None:
    assert not can_see(principal("key:r", roles=frozenset()), item())


@pytest.mark.parametrize(
    ("clearance", "read_ins", "label"),
    [
        ("C", frozenset(), "SECRET//NOFORN"),  # level below the label
        ("TS", frozenset(), "TOP SECRET//SI//NOFORN"),  # not read into SI
        ("TS", frozenset({"SI"}), "TOP SECRET//SI-G ABCD//NOFORN"),  # compartment-exact
        ("S", frozenset(), "SECRET//SAR-BP//NOFORN"),  # SAP
    ],
)
def test_clearance_below_the_item_label_hides_the_item(
    clearance: str, read_ins: frozenset[str], label: str
) -> None:
    reviewer = principal("key:r", clearance=clearance, read_ins=read_ins)
    assert not can_see(reviewer, item(label))
    assert not can_decide(reviewer, item(label))


def test_sci_read_in_reviewer_sees_the_compartment() -> None:
    reviewer = principal("key:r", clearance="TS", read_ins=frozenset({"SI", "TK"}))
    assert can_see(reviewer, item("TOP SECRET//SI/TK//NOFORN"))


def test_releasability_noforn_excludes_a_foreign_reviewer() -> None:
    liaison = principal("key:gbr", clearance="S", nationality="GBR")
    assert not can_see(liaison, item("SECRET//NOFORN"))
    assert can_see(liaison, item("SECRET//REL TO USA, GBR"))


def test_need_to_know_for_the_tenant_is_required() -> None:
    outsider = principal("key:r", tenant="other", need_to_know=frozenset({"other"}))
    assert not can_see(outsider, item())
    provider = principal("key:p", tenant="provider", roles=frozenset({"reviewer", "reviewer:all"}))
    assert can_see(provider, item())


def test_unreadable_label_or_clearance_fails_closed() -> None:
    assert not can_see(principal("key:r"), item("SECRET//BOGUS-TOKEN"))
    assert not can_see(principal("key:r", clearance="COSMIC"), item("U"))
    assert not clears(principal("key:r", clearance="COSMIC"), item("U"))


def test_the_requester_may_see_but_not_decide() -> None:
    me = principal(REQUESTER.id, clearance="TS")
    assert can_see(me, item())
    assert not can_decide(me, item())
