"""Run a policy's own ``[[tests]]``: conversation -> expected decision.

The screening function is injected (``redline.screening`` provides the real one; tests use
a deterministic fake), so this module stays pure and below ``screening`` in the layers.
A test passes when the decision's action equals ``expect`` and, if the test lists
``categories``, the decision's categories equal them as a set.

A test that states oversight facts (``purpose``, ``authorities``, ``invalid_authorities``,
``us_person``, ``model``) is screened with them (:class:`~redline.domain.OversightFacts`): its cited
authorities count as confirmed by the register except those listed as invalid, so a policy's
authority rules are tested without a register.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redline.domain import AuthorityRef, Decision, Declared, Message, OversightFacts
from redline.errors import GatewayError
from redline.policy.model import Policy, PolicyTest

__all__ = ["PolicyTestResult", "Screen", "oversight_of", "run_policy_tests"]


class Screen(Protocol):
    """Screen a conversation and decide (with the request's oversight facts, if any)."""

    def __call__(
        self, messages: Sequence[Message], /, *, oversight: OversightFacts | None = None
    ) -> Awaitable[Decision]:
        """The decision for ``messages``."""
        ...


def oversight_of(test: PolicyTest) -> OversightFacts | None:
    """The oversight facts a policy test states, or ``None`` when it states none."""
    if not (test.purpose or test.authorities or test.us_person or test.model):
        return None
    refs = tuple(_ref(a) for a in test.authorities)
    bad = set(test.invalid_authorities)
    return OversightFacts(
        declared=Declared(purpose=test.purpose, authorities=refs),
        model=test.model,
        us_person=test.us_person,
        valid_types=frozenset(r.type for r in refs if str(r) not in bad),
        problems=tuple(f"{r}: invalid" for r in refs if str(r) in bad),
    )


def _ref(text: str) -> AuthorityRef:
    kind, _, ident = text.partition(":")
    return AuthorityRef(type=kind, id=ident)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyTestResult:
    """The outcome of one policy test; ``message`` explains a failure."""

    test: PolicyTest
    passed: bool
    decision: Decision | None = None
    message: str = ""


async def run_policy_tests(policy: Policy, screen: Screen) -> tuple[PolicyTestResult, ...]:
    """Screen every test conversation of ``policy`` in order and compare.

    A :class:`~redline.errors.GatewayError` from ``screen`` fails that test (and the run
    goes on); any other exception is a bug and propagates.
    """
    results = []
    for test in policy.tests:
        try:
            facts = oversight_of(test)
            if facts is None:
                decision = await screen(test.messages)
            else:
                decision = await screen(test.messages, oversight=facts)
        except GatewayError as exc:
            results.append(
                PolicyTestResult(test=test, passed=False, message=f"screening failed: {exc}")
            )
            continue
        results.append(_compare(test, decision))
    return tuple(results)


def _compare(test: PolicyTest, decision: Decision) -> PolicyTestResult:
    problems = []
    if decision.action is not test.expect:
        problems.append(f"expected {test.expect.value}, got {decision.action.value}")
    if test.categories is not None and set(test.categories) != set(decision.categories):
        problems.append(
            f"expected categories {sorted(test.categories)}, got {sorted(decision.categories)}"
        )
    return PolicyTestResult(
        test=test, passed=not problems, decision=decision, message="; ".join(problems)
    )
