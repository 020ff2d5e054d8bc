"""Policy lookups: categories, clauses, routes, review rules; the shipped floor's content."""

from __future__ import annotations

from dataclasses import replace

import pytest

from redline.domain import Action
from redline.policy import Policy, RouteSettings, RuleKind
from redline.policy.model import AUTHORITY_PATTERN

RED_LINES = ("mass_domestic_surveillance", "autonomous_weapons", "high_stakes_automated_decisions")


def test_floor_has_the_three_red_lines_and_ten_clauses(floor: Policy) -> None:
    assert tuple(c.id for c in floor.categories) == RED_LINES
    assert [c.id for c in floor.clauses] == [f"C{i}" for i in range(1, 11)]
    assert floor.category("mass_domestic_surveillance").clauses == ("C5", "C6", "C8")
    assert floor.category("autonomous_weapons").clauses == ("C2", "C4")
    assert floor.category("high_stakes_automated_decisions").clauses == ("C3",)
    assert all(c.floor for c in floor.categories)
    assert all(c.floor for c in floor.clauses)
    assert "DoDD-3000.09@2023-01-25" in floor.clause("C2").authorities
    assert "EO-12333@1981-12-04" in floor.clause("C5").authorities
    assert floor.default_route == RouteSettings(model="*", on_error=Action.BLOCK)
    assert not floor.judge.enabled


def test_floor_review_rules(floor: Policy) -> None:
    review = floor.review_rule("autonomous_weapons")
    override = floor.review_rule("autonomous_weapons", RuleKind.OVERRIDE)
    assert review is not None
    assert (review.approvals_required, review.expires_after_s) == (1, 86400)
    assert override is not None
    assert (override.approvals_required, override.distinct) == (2, True)


def test_review_rule_missing(floor: Policy) -> None:
    assert replace(floor, review_rules=()).review_rule("x") is None


@pytest.mark.parametrize(
    ("authority", "ok"),
    [
        ("DoDD-3000.09@2023-01-25", True),
        ("FISA-50USC1801@1978", True),
        ("EO-12333@1981-12", True),
        ("FISA", False),
        ("@1978", False),
        ("EO 12333@1981", False),
        ("EO-12333@81", False),
    ],
)
def test_authority_shape(authority: str, ok: bool) -> None:
    assert bool(AUTHORITY_PATTERN.fullmatch(authority)) is ok


def test_clauses_for_is_a_union_in_policy_order(floor: Policy) -> None:
    clauses = floor.clauses_for(["high_stakes_automated_decisions", "autonomous_weapons"])
    assert [c.id for c in clauses] == ["C2", "C3", "C4"]
    assert floor.clauses_for([]) == ()
    with pytest.raises(KeyError):
        floor.clauses_for(["nope"])
    with pytest.raises(KeyError):
        floor.category("nope")
    with pytest.raises(KeyError):
        floor.clause("C99")


def test_route_for_prefers_exact_then_longest_pattern(floor: Policy) -> None:
    routes = (
        RouteSettings(model="*"),
        RouteSettings(model="gpt-*", ceiling="S"),
        RouteSettings(model="gpt-4*", ceiling="TS"),
        RouteSettings(model="gpt-4o", ceiling="U"),
    )
    policy = replace(floor, routes=routes)
    assert policy.route_for("gpt-4o").ceiling == "U"
    assert policy.route_for("gpt-4o-mini").ceiling == "TS"
    assert policy.route_for("gpt-3").ceiling == "S"
    assert policy.route_for("llama").model == "*"


def test_hand_built_policy_without_default_route_fails_closed(floor: Policy) -> None:
    policy = replace(floor, routes=(RouteSettings(model="a", on_error=Action.REVIEW),))
    assert policy.route_for("b") == RouteSettings(model="*", on_error=Action.BLOCK)
    assert policy.default_route.on_error is Action.BLOCK
