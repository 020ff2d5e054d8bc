"""The review state machine: every transition, valid and invalid."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from redline.errors import AccessDenied, InvalidTransition, RequestError
from redline.policy.model import RuleKind
from redline.review import MAX_RATIONALE_CHARS, ReviewItem, ReviewState
from redline.review.model import approve, deny, expire, required_approvals, validate_rationale
from tests.unit.review.fakes import DECISION, REQUESTER, T0

NOW = T0 + timedelta(minutes=1)


def item(kind: RuleKind = RuleKind.REVIEW, required: int = 1, **kw: object) -> ReviewItem:
    base = ReviewItem(
        id="rev_1",
        request_id="req_1",
        requester=REQUESTER,
        label_banner="SECRET//NOFORN",
        kind=kind,
        approvals_required=required_approvals(kind, required),
        decision=DECISION,
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_single_approval_approves_a_review_hold() -> None:
    new = approve(item(), reviewer_id="key:a", rationale="lawful tasking", now=NOW)
    assert new.state is ReviewState.APPROVED
    assert new.approvals == ("key:a",)
    assert new.decided_at == NOW
    assert new.version == 2
    assert new.decisions[0].rationale == "lawful tasking"


def test_override_needs_two_distinct_approvals() -> None:
    first = approve(item(RuleKind.OVERRIDE), reviewer_id="key:a", rationale="ok", now=NOW)
    assert first.state is ReviewState.PENDING
    assert first.decided_at is None
    second = approve(first, reviewer_id="key:b", rationale="agree", now=NOW)
    assert second.state is ReviewState.APPROVED
    assert second.approvals == ("key:a", "key:b")
    assert second.version == 3


@pytest.mark.parametrize("asked", [0, 1, 2])
def test_override_floor_is_two_whatever_the_policy_says(asked: int) -> None:
    assert required_approvals(RuleKind.OVERRIDE, asked) == 2
    assert required_approvals(RuleKind.OVERRIDE, 3) == 3
    assert required_approvals(RuleKind.REVIEW, 0) == 1
    assert required_approvals(RuleKind.REVIEW, 3) == 3


def test_policy_may_require_more_approvals_for_a_hold() -> None:
    one = approve(item(required=2), reviewer_id="key:a", rationale="ok", now=NOW)
    assert one.state is ReviewState.PENDING


def test_double_approval_by_the_same_reviewer_is_rejected() -> None:
    first = approve(item(RuleKind.OVERRIDE), reviewer_id="key:a", rationale="ok", now=NOW)
    with pytest.raises(InvalidTransition, match="already approved"):
        approve(first, reviewer_id="key:a", rationale="ok again", now=NOW)


def test_one_denial_denies_even_after_an_approval() -> None:
    first = approve(item(RuleKind.OVERRIDE), reviewer_id="key:a", rationale="ok", now=NOW)
    denied = deny(first, reviewer_id="key:b", rationale="no: bulk tracking", now=NOW)
    assert denied.state is ReviewState.DENIED
    assert denied.decided_at == NOW
    assert [d.approve for d in denied.decisions] == [True, False]


def test_expire_after_the_time_limit() -> None:
    late = T0 + timedelta(hours=1)
    expired = expire(item(), now=late)
    assert expired.state is ReviewState.EXPIRED
    assert expired.decided_at == late


def test_expire_before_the_time_limit_is_invalid() -> None:
    with pytest.raises(InvalidTransition, match="pending until its time limit"):
        expire(item(), now=NOW)


@pytest.mark.parametrize("verb", ["approve", "deny"])
def test_decisions_on_a_pending_item_past_its_limit_are_invalid(verb: str) -> None:
    late = T0 + timedelta(hours=2)
    fn = approve if verb == "approve" else deny
    with pytest.raises(InvalidTransition, match=f"expired .*cannot {verb}"):
        fn(item(), reviewer_id="key:a", rationale="x", now=late)


TERMINAL = [ReviewState.APPROVED, ReviewState.DENIED, ReviewState.EXPIRED]


@pytest.mark.parametrize("state", TERMINAL)
@pytest.mark.parametrize("verb", ["approve", "deny", "expire"])
def test_every_transition_out_of_a_terminal_state_is_invalid(state: ReviewState, verb: str) -> None:
    done = item(state=state, decided_at=NOW)
    late = T0 + timedelta(hours=2)
    attempts = {
        "approve": lambda: approve(done, reviewer_id="key:a", rationale="x", now=NOW),
        "deny": lambda: deny(done, reviewer_id="key:a", rationale="x", now=NOW),
        "expire": lambda: expire(done, now=late),
    }
    with pytest.raises(InvalidTransition, match=f"is {state.value}; cannot {verb}"):
        attempts[verb]()


@pytest.mark.parametrize("verb", ["approve", "deny"])
def test_self_review_is_refused(verb: str) -> None:
    fn = approve if verb == "approve" else deny
    with pytest.raises(AccessDenied, match="own request"):
        fn(item(), reviewer_id=REQUESTER.id, rationale="mine", now=NOW)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_rationale_is_required(text: str) -> None:
    with pytest.raises(RequestError, match="rationale is required") as info:
        approve(item(), reviewer_id="key:a", rationale=text, now=NOW)
    assert info.value.param == "rationale"


def test_huge_rationale_is_rejected_with_its_length() -> None:
    huge = "x" * (MAX_RATIONALE_CHARS + 1)
    with pytest.raises(RequestError, match=r"4001 characters long; the limit is 4000"):
        deny(item(), reviewer_id="key:a", rationale=huge, now=NOW)
    assert validate_rationale("y" * MAX_RATIONALE_CHARS) == "y" * MAX_RATIONALE_CHARS


def test_rationale_with_control_characters_is_rejected() -> None:
    with pytest.raises(RequestError, match="control characters"):
        validate_rationale("fine\x00hidden")
    assert validate_rationale("  line one\nline two\t ") == "line one\nline two"
