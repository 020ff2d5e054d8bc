"""``decide``: block > review > allow, maximum per category, fail closed."""

from __future__ import annotations

import math

import pytest

from redline.domain import Action, Verdict
from redline.policy import Policy, RouteSettings, decide, load_policy
from tests.unit.policy.conftest import asset

WEAPONS = "autonomous_weapons"
SURVEILLANCE = "mass_domestic_surveillance"
DECISIONS = "high_stakes_automated_decisions"


def v(category: str, score: float, *evidence: str, source: str = "clf") -> Verdict:
    return Verdict(category=category, score=score, source=source, evidence=evidence)


def test_no_verdicts_allow(floor: Policy) -> None:
    d = decide(floor, [])
    assert (d.action, d.categories, d.clauses, d.reason) == (Action.ALLOW, (), (), "")
    assert d.policy_sha256 == floor.sha256


@pytest.mark.parametrize(
    ("score", "action"),
    [
        (0.0, Action.ALLOW),
        (0.49, Action.ALLOW),
        (0.5, Action.REVIEW),
        (0.79, Action.REVIEW),
        (0.8, Action.BLOCK),
        (1.0, Action.BLOCK),
    ],
)
def test_thresholds_are_inclusive(floor: Policy, score: float, action: Action) -> None:
    assert decide(floor, [v(WEAPONS, score)]).action is action


def test_block_names_categories_and_clauses_in_policy_order(floor: Policy) -> None:
    d = decide(
        floor,
        [
            v(DECISIONS, 0.9, "auto-revoke"),
            v(WEAPONS, 0.95, "fire_weapon"),
            v(SURVEILLANCE, 0.6, "broker data"),
        ],
    )
    assert d.action is Action.BLOCK
    assert d.categories == (WEAPONS, DECISIONS)
    assert d.clauses == ("C2", "C3", "C4")
    assert d.evidence == ("auto-revoke", "fire_weapon")
    assert d.scores == {DECISIONS: 0.9, WEAPONS: 0.95, SURVEILLANCE: 0.6}
    assert d.reason == (
        "block: autonomous_weapons 0.95 >= 0.80; high_stakes_automated_decisions 0.90 >= 0.80"
    )


def test_review_names_held_categories(floor: Policy) -> None:
    d = decide(floor, [v(SURVEILLANCE, 0.6, "e1"), v(WEAPONS, 0.1, "e2")])
    assert (d.action, d.categories, d.clauses) == (
        Action.REVIEW,
        (SURVEILLANCE,),
        ("C5", "C6", "C8"),
    )
    assert d.evidence == ("e1",)
    assert d.reason == "review: mass_domestic_surveillance 0.60 >= 0.50"


def test_allow_keeps_all_evidence_and_scores(floor: Policy) -> None:
    d = decide(floor, [v(WEAPONS, 0.1, "a", "b"), v(SURVEILLANCE, 0.2, "b", "c")])
    assert (d.action, d.evidence, d.scores) == (
        Action.ALLOW,
        ("a", "b", "c"),
        {WEAPONS: 0.1, SURVEILLANCE: 0.2},
    )


def test_maximum_score_per_category_wins(floor: Policy) -> None:
    d = decide(floor, [v(WEAPONS, 0.9, source="regex"), v(WEAPONS, 0.1, source="judge")])
    assert d.action is Action.BLOCK
    assert d.scores == {WEAPONS: 0.9}


def test_classifier_error_fails_closed(floor: Policy) -> None:
    d = decide(floor, [], errors=["clf: timeout"])
    assert d.action is Action.BLOCK
    assert d.reason == "block: fail closed: clf: timeout"


def test_error_with_review_route_holds_and_block_still_wins(floor: Policy) -> None:
    route = RouteSettings(model="x", on_error=Action.REVIEW)
    assert decide(floor, [], errors=["e"], route=route).action is Action.REVIEW
    d = decide(floor, [v(WEAPONS, 0.9)], errors=["e"], route=route)
    assert (d.action, d.categories) == (Action.BLOCK, (WEAPONS,))
    assert d.reason == "block: autonomous_weapons 0.90 >= 0.80; fail closed: e"


@pytest.mark.parametrize("score", [math.nan, -0.1, 1.5, math.inf])
def test_invalid_score_fails_closed(floor: Policy, score: float) -> None:
    d = decide(floor, [v(WEAPONS, score)])
    assert d.action is Action.BLOCK
    assert "invalid score" in d.reason
    assert d.scores == {}


def test_unknown_category_fails_closed(floor: Policy) -> None:
    d = decide(floor, [v("social_scoring", 0.0)])
    assert d.action is Action.BLOCK
    assert d.reason == "block: fail closed: clf: unknown category 'social_scoring'"


def test_overlay_thresholds_apply(floor_bytes: bytes) -> None:
    policy = load_policy(floor_bytes, asset("valid/overlay_tighten.toml"))
    assert decide(policy, [v(WEAPONS, 0.7)]).action is Action.BLOCK
    d = decide(policy, [v("export_control", 0.45)])
    assert (d.action, d.clauses) == (Action.REVIEW, ("X1",))
