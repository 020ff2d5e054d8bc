"""The Gateway: the single orchestrator of a request (ARCHITECTURE.md "One request").

Order: kill switch -> route -> access (labels) -> input screening + monitors -> decide ->
audit (durably, before answering) -> block | hold for review | upstream -> output
screening (whole body, or incrementally while streaming) -> audit -> answer.

``handle()`` returns an :class:`Outcome` value: a completed body, a stream of events, or a
refusal. Errors (bad model, access denied, upstream failure, audit failure) are raised as
:class:`redline.errors.GatewayError` subclasses and mapped to HTTP at the edge. Every path
that answers a client has first recorded its decision in the audit log; a failed audit
write raises and the client gets no model output (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import orjson

from redline.access import check_access
from redline.clock import Clock, SystemClock
from redline.domain import (
    Action,
    ChatRequest,
    Decision,
    Endpoint,
    JSONObject,
    JSONValue,
    Message,
    Principal,
    ToolCall,
)
from redline.errors import AccessDenied, HaltedError, MarkingError, OutputBlocked
from redline.markings import Label, extract_label, join, parse_marking
from redline.monitors import Monitors
from redline.policy import Policy, RuleKind, decide
from redline.review import ReviewService
from redline.service.halts import HaltService
from redline.service.output import (
    accumulate,
    calls_of,
    refusal_body,
    refusal_message,
    reply_output,
)
from redline.service.ports import AuditSink
from redline.service.routing import Route, Router
from redline.service.screening import Screener, ScreenResult

__all__ = [
    "Completed",
    "Gateway",
    "Outcome",
    "Refused",
    "RequestContext",
    "Streaming",
]

logger = logging.getLogger(__name__)

_SCREEN_EVERY_CHARS = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """A non-streamed answer: the JSON body to return, and its classification."""

    body: bytes
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Streaming:
    """A streamed answer: SSE data payloads; the edge writes ``[DONE]`` after the last one."""

    events: AsyncIterator[bytes]
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """The policy refused (block) or held (review) the request."""

    decision: Decision
    review_id: str | None = None
    on_output: bool = False


Outcome = Completed | Streaming | Refused


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestContext:
    """Per-request facts from the edge."""

    request_id: str
    declared_label: str | None = None
    confirmation: str | None = None
    contest_block: bool = False


class Gateway:
    """Runs one request end to end; built once at start-up, shared by all requests."""

    def __init__(
        self,
        *,
        router: Router,
        policy: Callable[[], Policy],
        screener: Screener,
        audit: AuditSink,
        halts: HaltService,
        monitors: Monitors,
        review: ReviewService,
        enclave_label: Label,
        digest: Callable[[bytes], str],
        clock: Clock | None = None,
    ) -> None:
        self.digest = digest
        self.monitors = monitors
        self.router = router
        self._policy = policy
        self._screener = screener
        self._audit = audit
        self._halts = halts
        self._review = review
        self._enclave = enclave_label
        self._clock = clock or SystemClock()

    # -- the request path ---------------------------------------------------------------

    async def handle(
        self, principal: Principal, request: ChatRequest, ctx: RequestContext
    ) -> Outcome:
        """Serve one request for an authenticated principal."""
        policy = self._policy()  # read once: the whole request runs under this policy
        self._check_halt(principal, request.model)
        route = self.router.resolve(request.model)
        label = await self._check_access(principal, request, route, ctx)
        now = self._clock.now()
        screened = await self._screener.screen(policy, request.messages, request.tools)
        verdicts = list(screened.verdicts)
        errors = list(screened.errors)
        verdicts += await self.monitors.observe_request(
            principal.id,
            principal.tenant,
            request.model,
            request,
            now,
            confirmation=ctx.confirmation,
        )
        if request.endpoint is Endpoint.CHAT and any(m.non_text_parts for m in request.messages):
            errors.append("non-text content parts cannot be screened")
        decision = decide(policy, verdicts, errors=errors, route=policy.route_for(request.model))
        recorded = self._record_request(principal, request, ctx, decision, screened, label)
        if decision.action is not Action.ALLOW:
            await recorded
            if decision.action is Action.BLOCK and not ctx.contest_block:
                return Refused(decision=decision)
            return await self._hold(principal, request, ctx, decision, label, policy, now)
        # Allowed: the decision's commit overlaps the upstream call, and nothing reaches the
        # client until it is durable (a failed commit raises here and the answer is dropped).
        commit = asyncio.ensure_future(recorded)
        try:
            outcome = await self._forward(principal, request, ctx, route, policy, label)
        except BaseException:
            await _settle(commit)
            raise
        await commit
        return outcome

    def _check_halt(self, principal: Principal, model: str) -> None:
        halt = self._halts.check(principal.tenant, model)
        if halt is not None:
            raise HaltedError(f"traffic is halted ({halt.scope}): {halt.reason}")

    async def _check_access(
        self, principal: Principal, request: ChatRequest, route: Route, ctx: RequestContext
    ) -> Label:
        try:
            found = extract_label(m.text for m in request.messages)
            declared = parse_marking(ctx.declared_label) if ctx.declared_label else None
        except MarkingError as exc:
            await self._record_access(
                principal, ctx, "", allowed=False, reason=f"bad marking: {exc}"
            )
            raise
        label = join(self._enclave, found, *([declared] if declared else []))
        result = check_access(principal, label, route.ceiling)
        if not result.allowed:
            await self._record_access(
                principal, ctx, label.banner(), allowed=False, reason=result.message
            )
            raise AccessDenied(result.message)
        return label

    async def _forward(
        self,
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        route: Route,
        policy: Policy,
        label: Label,
    ) -> Outcome:
        body: JSONObject = dict(request.body)
        body["model"] = route.upstream_model
        screen_output = request.endpoint is not Endpoint.EMBEDDINGS
        if request.stream:
            events = route.upstream.stream(request.endpoint, body)
            first_events = await _started(events)
            relay = self._screened_stream(first_events, principal, request, ctx, policy)
            return Streaming(events=relay if screen_output else first_events, label=label.banner())
        reply = await route.upstream.complete(request.endpoint, body)
        if screen_output:
            text, calls = reply_output(reply.body)
            decision = await self._screen_output(principal, request, ctx, policy, text, calls)
            if decision.action is not Action.ALLOW:
                return Refused(decision=decision, on_output=True)
        return Completed(body=reply.body, label=label.banner())

    async def _hold(
        self,
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        decision: Decision,
        label: Label,
        policy: Policy,
        now: datetime,
    ) -> Refused:
        kind = RuleKind.OVERRIDE if decision.action is Action.BLOCK else RuleKind.REVIEW
        category = decision.categories[0] if decision.categories else "*"
        rule = policy.review_rule(category, kind)
        item = await self._review.submit(
            request_id=ctx.request_id,
            principal=principal,
            label_banner=label.banner(),
            request_body=orjson.dumps(request.body),
            decision=decision,
            kind=kind,
            approvals_required=rule.approvals_required
            if rule
            else (2 if kind is RuleKind.OVERRIDE else 1),
            expires_after_s=rule.expires_after_s if rule else 86_400,
            now=now,
        )
        return Refused(decision=decision, review_id=item.id)

    # -- output screening ---------------------------------------------------------------

    async def _screen_output(
        self,
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        policy: Policy,
        text: str,
        calls: Sequence[ToolCall],
        *,
        final: bool = True,
    ) -> Decision:
        conversation = (
            *request.messages,
            Message(role="assistant", text=text, tool_calls=tuple(calls)),
        )
        screened = await self._screener.screen(policy, conversation, request.tools)
        verdicts = list(screened.verdicts)
        if calls:
            verdicts += await self.monitors.observe_response(
                principal.id,
                principal.tenant,
                request.model,
                calls,
                self._clock.now(),
                confirmation=ctx.confirmation,
            )
        decision = decide(
            policy, verdicts, errors=screened.errors, route=policy.route_for(request.model)
        )
        if final or decision.action is not Action.ALLOW:
            await self._audit.record(
                "response_decision",
                {
                    **_decision_payload(decision),
                    "principal": principal.id,
                    "tenant": principal.tenant,
                    "model": request.model,
                    "output_digest": self.digest(text.encode()),
                    "complete": final,
                },
                request_id=ctx.request_id,
            )
        return decision

    async def _screened_stream(
        self,
        events: AsyncIterator[bytes],
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        policy: Policy,
    ) -> AsyncIterator[bytes]:
        """Relay events; screen the accumulated text every few hundred characters and at
        the end. A block ends the stream with a final error event and nothing more."""
        text_parts: list[str] = []
        calls: dict[int, list[str]] = {}
        unscreened = 0
        try:
            async for payload in events:
                self._check_halt(principal, request.model)
                added = accumulate(payload, text_parts, calls)
                unscreened += added
                if unscreened >= _SCREEN_EVERY_CHARS:
                    unscreened = 0
                    decision = await self._screen_output(
                        principal,
                        request,
                        ctx,
                        policy,
                        "".join(text_parts),
                        calls_of(calls),
                        final=False,
                    )
                    if decision.action is not Action.ALLOW:
                        raise OutputBlocked(refusal_message(decision))
                yield payload
            decision = await self._screen_output(
                principal, request, ctx, policy, "".join(text_parts), calls_of(calls)
            )
            if decision.action is not Action.ALLOW:
                raise OutputBlocked(refusal_message(decision))
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], request_id: str
    ) -> None:
        """Append an operator event (e.g. a human confirmation) to the audit log."""
        await self._audit.record(event_type, payload, request_id=request_id)

    async def moderate(
        self, principal: Principal, texts: Sequence[str], request_id: str
    ) -> list[Decision]:
        """``/v1/moderations``: the policy's decision for each input as a user turn."""
        policy = self._policy()
        decisions = []
        for text in texts:
            screened = await self._screener.screen(policy, (Message(role="user", text=text),))
            decisions.append(decide(policy, screened.verdicts, errors=screened.errors))
        await self._audit.record(
            "moderation",
            {
                "principal": principal.id,
                "tenant": principal.tenant,
                "inputs": len(texts),
                "actions": [d.action.value for d in decisions],
                "policy_sha256": policy.sha256,
            },
            request_id=request_id,
        )
        return decisions

    # -- review ------------------------------------------------------------------------

    async def run_approved(
        self, principal: Principal, request: ChatRequest, request_id: str
    ) -> bytes:
        """Run a request a reviewer approved: upstream, then output screening as usual."""
        policy = self._policy()
        route = self.router.resolve(request.model)
        body: JSONObject = dict(request.body)
        body["model"] = route.upstream_model
        body.pop("stream", None)
        body.pop("stream_options", None)
        reply = await route.upstream.complete(request.endpoint, body)
        text, calls = reply_output(reply.body)
        ctx = RequestContext(request_id=request_id)
        plain = replace(request, stream=False)
        decision = await self._screen_output(principal, plain, ctx, policy, text, calls)
        if decision.action is not Action.ALLOW:
            return refusal_body(decision)
        return reply.body

    # -- audit -------------------------------------------------------------------------

    async def _record_request(
        self,
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        decision: Decision,
        screened: ScreenResult,
        label: Label,
    ) -> None:
        await self._audit.record(
            "request_decision",
            {
                **_decision_payload(decision),
                "principal": principal.id,
                "tenant": principal.tenant,
                "model": request.model,
                "endpoint": request.endpoint.value,
                "label": label.banner(),
                "prompt_digest": self.digest(orjson.dumps(request.body)),
                "safety_stack": screened.stack_version,
                "tiers": list(screened.tiers),
                "contest_block": ctx.contest_block,
            },
            request_id=ctx.request_id,
        )

    async def _record_access(
        self, principal: Principal, ctx: RequestContext, label: str, *, allowed: bool, reason: str
    ) -> None:
        await self._audit.record(
            "access_decision",
            {
                "principal": principal.id,
                "tenant": principal.tenant,
                "clearance": principal.clearance,
                "label": label,
                "allowed": allowed,
                "reason": reason,
            },
            request_id=ctx.request_id,
        )


def _decision_payload(decision: Decision) -> dict[str, JSONValue]:
    return {
        "action": decision.action.value,
        "categories": list(decision.categories),
        "clauses": list(decision.clauses),
        "scores": {k: round(v, 4) for k, v in decision.scores.items()},
        "evidence": list(decision.evidence),
        "policy_sha256": decision.policy_sha256,
        "reason": decision.reason,
    }


async def _settle(task: asyncio.Future[None]) -> None:
    """Wait for a task whose result no longer matters (the request already failed)."""
    with contextlib.suppress(Exception):
        await task


async def _started(events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Wait for the first event so that failures before it become HTTP errors, not SSE events.

    Returns an iterator that yields the first event again, then the rest.
    """
    try:
        first = await anext(events)
    except StopAsyncIteration:
        return _empty()
    except BaseException:
        await _close(events)
        raise
    return _chain(first, events)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        yield first
        async for event in rest:
            yield event
    finally:
        await _close(rest)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _close(events: AsyncIterator[bytes]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
