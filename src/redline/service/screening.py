"""Run the safety stack for the gateway: per-policy stacks, isolation, timeout, fail closed.

A :class:`SafetyStack` is built once per effective policy (operator categories depend on
it) and cached by the policy's SHA-256, so a hot reload builds the new stack before any
request uses it. Judging runs inline for small inputs that tier 1 settles (well under a
millisecond); on two screening threads for medium ones and for small ones that go to tier 2
(ONNX Runtime releases the GIL while it runs, so the event loop serves others meanwhile);
and for conversations over :data:`~redline.service.cpu_lane.JUDGE_CHARS` of text in the
CPU lane's worker processes (when one is wired); all under a timeout. Any failure or
timeout becomes an ``errors`` entry, which :func:`redline.policy.decide` turns into the
route's fail-closed action; it is also counted in :attr:`Screener.failures` and reported
to the :class:`~redline.service.ports.Metrics` port (with the time spent in each tier).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from redline.domain import Message, ToolSpec, Verdict
from redline.errors import ClassifierError, GatewayBusy, ModelNotFound
from redline.policy import Policy
from redline.screening.artifacts import ARTIFACTS_DIR
from redline.screening.judge import run_judge, should_judge
from redline.screening.stack import Judgement, SafetyStack
from redline.service.cpu_lane import JUDGE_CHARS, CpuLane
from redline.service.ports import NO_METRICS, Metrics
from redline.upstream.base import Upstream

__all__ = ["ScreenResult", "Screener"]

logger = logging.getLogger(__name__)

# Small conversations that tier 1 settles are judged inline (well under a millisecond);
# anything larger, or going to tier 2 (~5 ms of ONNX Runtime, which releases the GIL), runs
# on the screening threads so that no request holds the event loop for long.
_INLINE_CHARS = 1_024
_INLINE_MESSAGES = 8
_THREADS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenResult:
    """Verdicts, or the reasons the stack could not produce them."""

    verdicts: tuple[Verdict, ...] = ()
    errors: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    stack_version: str = ""
    judgement: Judgement | None = field(default=None, repr=False)


class Screener:
    """Holds one stack per policy and screens conversations with isolation."""

    def __init__(
        self,
        *,
        directory: Path = ARTIFACTS_DIR,
        timeout_s: float = 2.0,
        judge_upstream: Callable[[str], Upstream] | None = None,
        metrics: Metrics = NO_METRICS,
        lane: CpuLane | None = None,
    ) -> None:
        self._metrics = metrics
        self._lane = lane
        self._judge_upstream = judge_upstream
        self._directory = directory
        self._timeout = timeout_s
        self._stacks: dict[str, SafetyStack] = {}
        self._executor = ThreadPoolExecutor(_THREADS, thread_name_prefix="redline-screen")
        self.failures = 0

    def close(self) -> None:
        """Stop the screening threads (after the last request)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def prepare(self, policy: Policy) -> SafetyStack:
        """Build (or fetch) the stack for ``policy``; call at start-up and on reload.

        Raises:
            ClassifierError: the artifacts are missing, altered or unusable.
        """
        stack = self._stacks.get(policy.sha256)
        if stack is None:
            stack = SafetyStack.load(policy, self._directory)
            self._stacks = {policy.sha256: stack}  # keep only the newest
        return stack

    async def screen(
        self, policy: Policy, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()
    ) -> ScreenResult:
        """Judge a conversation; never raises for classifier failures (fail closed)."""
        try:
            stack = self._stacks.get(policy.sha256)
            if stack is None:
                stack = await asyncio.to_thread(self.prepare, policy)
            size = sum(len(m.text) for m in messages) + sum(
                len(t.description) + len(t.parameters_json) for t in tools
            )
            small = size <= _INLINE_CHARS and len(messages) <= _INLINE_MESSAGES
            if small and not stack.escalates(messages, tools):
                judgement = stack.judge(messages, tools)
            elif self._lane is not None and self._lane.ready and size > JUDGE_CHARS:
                async with asyncio.timeout(self._timeout):
                    judgement = await self._lane.judge(
                        policy.sha256, policy.categories, messages, tools
                    )
            else:
                loop = asyncio.get_running_loop()
                async with asyncio.timeout(self._timeout):
                    judgement = await loop.run_in_executor(
                        self._executor, stack.judge, messages, tools
                    )
        except GatewayBusy:
            raise  # not a screening failure: the client is told to retry (503)
        except TimeoutError:
            self._failed("screening_timeout")
            logger.warning("safety stack timed out after %.1f s", self._timeout)
            return ScreenResult(errors=("safety stack timed out",))
        except ClassifierError as exc:
            self._failed("screening_error")
            logger.error("safety stack failed: %s", exc)
            return ScreenResult(errors=(f"safety stack failed: {exc}",))
        except Exception as exc:
            self._failed("screening_crash")
            logger.exception("safety stack crashed")
            return ScreenResult(errors=(f"safety stack crashed: {type(exc).__name__}",))
        for tier, seconds in judgement.timings.items():
            self._metrics.screening(tier, seconds)
        verdicts = judgement.verdicts()
        errors: tuple[str, ...] = ()
        tiers = judgement.tiers
        if should_judge(policy, judgement.scores):
            started = time.perf_counter()
            try:
                verdicts += await self._judge(policy, messages)
                tiers = (*tiers, "judge")
            except (ClassifierError, ModelNotFound) as exc:
                self._failed("judge_error")
                errors = (f"LLM judge: {exc}",)
            self._metrics.screening("judge", time.perf_counter() - started)
        return ScreenResult(
            verdicts=tuple(verdicts),
            errors=errors,
            tiers=tiers,
            stack_version=stack.manifest.sha256,
            judgement=judgement,
        )

    def _failed(self, reason: str) -> None:
        self.failures += 1
        self._metrics.fail_closed(reason)

    async def _judge(self, policy: Policy, messages: Sequence[Message]) -> list[Verdict]:
        if self._judge_upstream is None:
            raise ClassifierError("the policy enables the LLM judge but no upstream is wired")
        return await run_judge(policy, self._judge_upstream(policy.judge.model), messages)
