"""Run a policy's own ``[[tests]]`` (issue 4 item 4): conversation -> expected decision.

The screening function is injected (``redline.screening`` provides the real one; tests use
a deterministic fake), so this module stays pure and below ``screening`` in the layers.
A test passes when the decision's action equals ``expect`` and, if the test lists
``categories``, the decision's categories equal them as a set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redline.domain import Decision, Message
from redline.errors import GatewayError
from redline.policy.model import Policy, PolicyTest

__all__ = ["PolicyTestResult", "Screen", "run_policy_tests"]

Screen = Callable[[Sequence[Message]], Awaitable[Decision]]


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
            decision = await screen(test.messages)
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
