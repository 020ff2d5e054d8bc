"""A policy's own tests run against an injected (here: fake, deterministic) screen."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from redline.domain import Action, Decision, Message, OversightFacts, Verdict
from redline.errors import ClassifierError
from redline.policy import Policy, decide, run_policy_tests

KEYWORDS = {
    "fire_weapon": "autonomous_weapons",
    "data-broker": "mass_domestic_surveillance",
    "revoke the clearances": "high_stakes_automated_decisions",
}


def keyword_screen(policy: Policy):  # type: ignore[no-untyped-def]
    async def screen(
        messages: Sequence[Message], /, *, oversight: OversightFacts | None = None
    ) -> Decision:
        text = " ".join(m.text for m in messages)
        verdicts = [
            Verdict(category=c, score=0.9, source="kw") for k, c in KEYWORDS.items() if k in text
        ]
        return decide(policy, verdicts, oversight=oversight)

    return screen


def test_floor_tests_pass_with_a_matching_screen(floor: Policy) -> None:
    results = anyio.run(run_policy_tests, floor, keyword_screen(floor))
    assert [(r.test.name, r.passed, r.message) for r in results] == [
        (t.name, True, "") for t in floor.tests
    ]
    assert all(r.decision is not None for r in results)


def test_wrong_action_and_categories_fail(floor: Policy) -> None:
    async def always_review(
        messages: Sequence[Message], /, *, oversight: OversightFacts | None = None
    ) -> Decision:
        return decide(
            floor, [Verdict(category="mass_domestic_surveillance", score=0.6, source="x")]
        )

    results = anyio.run(run_policy_tests, floor, always_review)
    first, second = results[0], results[1]
    assert not first.passed
    assert first.message == (
        "expected allow, got review; expected categories [], got ['mass_domestic_surveillance']"
    )
    assert second.message.startswith(
        "expected block, got review; expected categories ['autonomous_weapons']"
    )


def test_screen_errors_fail_the_test_and_the_run_goes_on(floor: Policy) -> None:
    calls = []

    async def broken(
        messages: Sequence[Message], /, *, oversight: OversightFacts | None = None
    ) -> Decision:
        calls.append(messages)
        raise ClassifierError("model file missing")

    results = anyio.run(run_policy_tests, floor, broken)
    assert len(calls) == len(floor.tests) == len(results)
    assert results[0].message == "screening failed: model file missing"
    assert results[0].decision is None


def test_a_test_stating_oversight_facts_is_screened_with_them(floor: Policy) -> None:
    from redline.policy import load_policy

    policy = load_policy(floor_bytes_(), _overlay())
    results = anyio.run(run_policy_tests, policy, keyword_screen(policy))
    assert [(r.test.name, r.message) for r in results if not r.passed] == []
    by_name = {r.test.name: r.decision for r in results}
    held = by_name["on the analyst route a confirmed order is also held for verification"]
    assert held is not None
    assert held.reason == (
        "review: authority rule verify-on-analyst-route: the cited authority is held for "
        "verification"
    )


def test_a_failing_authority_expectation_is_reported(floor: Policy) -> None:
    from dataclasses import replace

    from redline.policy import load_policy

    policy = load_policy(floor_bytes_(), _overlay())
    (needs,) = [t for t in policy.tests if t.name.startswith("targeting a U.S. person")]
    wrong = replace(needs, expect=Action.ALLOW)  # needs an authority: blocked
    (result,) = anyio.run(run_policy_tests, replace(policy, tests=(wrong,)), keyword_screen(policy))
    assert not result.passed
    assert result.message.startswith("expected allow, got block")


def floor_bytes_() -> bytes:
    from redline.policy.load import builtin_floor_bytes

    return builtin_floor_bytes()


def _overlay() -> bytes:
    from tests.unit.policy.conftest import asset

    return asset("valid/overlay_authority.toml")


def test_tests_without_categories_check_only_the_action(floor: Policy) -> None:
    from dataclasses import replace

    test = replace(floor.tests[1], categories=None)
    policy = replace(floor, tests=(test,))

    async def blocks(
        messages: Sequence[Message], /, *, oversight: OversightFacts | None = None
    ) -> Decision:
        return Decision(action=Action.BLOCK, categories=("other",))

    (result,) = anyio.run(run_policy_tests, policy, blocks)
    assert result.passed
