"""Screen conversations outside the gateway: ``redline screen``, ``redline eval``,
``redline policy test`` and ``/v1/moderations`` all decide through here, so they agree
with the gateway's input screening (same stack, same :func:`redline.policy.decide`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from redline.domain import Decision, Message, OversightFacts, ToolSpec
from redline.policy import Policy, decide, load_builtin_floor
from redline.screening.stack import SafetyStack

__all__ = ["Screen", "screen_messages_factory"]


class Screen:
    """A policy and its stack; ``decide`` screens one conversation synchronously."""

    def __init__(self, policy: Policy | None = None, stack: SafetyStack | None = None) -> None:
        self.policy = policy or load_builtin_floor()
        self.stack = stack or SafetyStack.load(self.policy)

    def decide(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        oversight: OversightFacts | None = None,
    ) -> Decision:
        """The policy's decision for a conversation (fails closed on stack errors)."""
        errors: list[str] = []
        verdicts = []
        try:
            verdicts = self.stack.judge(messages, tools).verdicts()
        except Exception as exc:  # noqa: BLE001 - classifier isolation boundary: fail closed
            errors.append(f"safety stack failed: {type(exc).__name__}")
        return decide(self.policy, verdicts, errors=errors, oversight=oversight)


def screen_messages_factory(
    policy: Policy,
) -> Callable[..., Awaitable[Decision]]:
    """The screen function ``redline policy test`` runs a policy's own test cases with."""
    screen = Screen(policy)

    async def run(
        messages: Sequence[Message], /, *, oversight: OversightFacts | None = None
    ) -> Decision:
        return screen.decide(messages, oversight=oversight)

    return run
