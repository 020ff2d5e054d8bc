"""The orchestrator: the one request path (ARCHITECTURE.md "One request").

Order: kill switch -> route -> access (labels of every string the model would read) ->
input screening + monitors -> decide -> audit (durably, before answering) -> block | hold
for review | upstream -> output screening and output markings (whole reply, or held back
chunk by chunk while streaming) -> audit -> answer.

``handle()`` returns an :class:`Outcome` value: a completed body, a stream of events, or a
refusal. Errors (bad model, access denied, upstream failure, audit failure) are raised as
:class:`redline.errors.GatewayError` subclasses and mapped to HTTP at the edge. Every path
that answers a client has first recorded its decision in the audit log; a failed audit
write raises and the client gets no model output (fail closed).

Invariants:

* The canonical view of a request (:meth:`ChatRequest.screen_messages`,
  :meth:`ChatRequest.texts`) is what is screened and scanned for marks: every string the
  model can read, whatever field carries it (``redline/wire.py``).
* No byte of an answer reaches the requester before it has been screened: a stream is held
  back until the text received so far has been judged (:data:`HOLD_MIN_CHARS`,
  :data:`HOLD_MAX_CHARS`), so a block ends the stream before the violating text leaves.
* The label of an answer is join(request label, marks in the answer); an answer above the
  principal's clearance or the route's ceiling is withheld (:class:`OutputWithheld`).
* A route's ceiling is the meet of its configured accreditation and the policy's ceiling.
* After a review approval, output screening ignores only the categories the reviewers
  released for that request; any other category still blocks.
* The declared purpose, authorities and case of a request reach ``decide()`` as
  :class:`OversightFacts` (checked against the authority register) and are recorded, as
  given, in the request's and the response's decision events. A request citing an
  authority the register does not confirm is recorded as blocked and refused with
  :class:`AuthorityInvalid` (403 ``redline_authority_invalid``).

Observability: each step runs in a span (``killswitch``, ``route``, ``access``,
``screening``, ``policy``, ``audit``, ``review``, ``upstream``, ``output_screening``;
:mod:`redline.service.tracing`) carrying names and outcomes, never content or markings; each
decision, upstream call and fail-closed input is reported to the
:class:`~redline.service.ports.Metrics` port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from opentelemetry.context import Context
from opentelemetry.trace import Span

from redline.access import RouteCeiling, check_access
from redline.authority import Register, check_authorities
from redline.clock import Clock, SystemClock
from redline.domain import (
    Action,
    ChatRequest,
    Decision,
    Declared,
    Endpoint,
    JSONValue,
    Message,
    OversightFacts,
    Principal,
    Verdict,
)
from redline.errors import (
    AccessDenied,
    AuthorityInvalid,
    MarkingError,
    OutputBlocked,
    OutputWithheld,
    UpstreamError,
)
from redline.killswitch.service import HaltService
from redline.markings import Label, extract_label, join, parse_marking
from redline.monitors import Monitors
from redline.policy import Policy, ReviewRule, RuleKind, decide, effective_ceiling
from redline.review import ReviewItem, ReviewService, RunApproved
from redline.service.cpu_lane import EXTRACT_CHARS, CpuLane
from redline.service.ports import NO_METRICS, AuditSink, Metrics
from redline.service.routing import ModelRoute, Router
from redline.service.screening import Screener, ScreenResult
from redline.service.tracing import NO_TRACING, Tracing
from redline.wire import (
    Reply,
    StreamText,
    error_body,
    held_bytes,
    held_declared,
    parse_held,
    refusal_body,
    refusal_message,
    reply_output,
    upstream_body,
)

__all__ = [
    "HOLD_MAX_CHARS",
    "HOLD_MIN_CHARS",
    "Completed",
    "Orchestrator",
    "Outcome",
    "Refused",
    "RequestContext",
    "Streaming",
    "approved_runner",
]

logger = logging.getLogger(__name__)

HOLD_MIN_CHARS = 32
"""A stream's first text is released once this much has been received and screened."""
HOLD_MAX_CHARS = 1024
"""Later text is screened and released in steps of half what was released, up to this."""
_OFFLOAD_CHARS = 65_536  # marking extraction over more text than this runs in a thread
_Reply = TypeVar("_Reply")


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
    declared: Declared = field(default_factory=Declared)


class _Pending:
    """An audit event of this request not appended yet (taken once)."""

    __slots__ = ("_event",)

    def __init__(self, event: Callable[[], Coroutine[None, None, None]]) -> None:
        self._event: Callable[[], Coroutine[None, None, None]] | None = event

    def take(self) -> Callable[[], Coroutine[None, None, None]] | None:
        event, self._event = self._event, None
        return event


@dataclass(frozen=True, slots=True, kw_only=True)
class _Answering:
    """What output screening needs to know about the request being answered."""

    principal: Principal
    request: ChatRequest
    ctx: RequestContext
    policy: Policy
    label: Label
    ceiling: RouteCeiling
    released: frozenset[str] = frozenset()
    pending: _Pending | None = None  # the request decision, when it goes with the next event


class Orchestrator:
    """Runs one request end to end; built once at start-up, shared by all requests."""

    def __init__(
        self,
        *,
        router: Router,
        policy: Callable[[], Policy],
        screener: Screener,
        audit: AuditSink,
        halts: HaltService,
        monitors: Callable[[], Monitors],
        review: ReviewService,
        enclave_label: Label,
        digest: Callable[[bytes], str],
        clock: Clock | None = None,
        register: Callable[[], Awaitable[Register]] | None = None,
        metrics: Metrics = NO_METRICS,
        tracing: Tracing = NO_TRACING,
        lane: CpuLane | None = None,
    ) -> None:
        self._metrics = metrics
        self._tracing = tracing
        self._lane = lane
        self.digest = digest
        self.router = router
        self._monitors = monitors
        self._policy = policy
        self._screener = screener
        self._audit = audit
        self._halts = halts
        self._review = review
        self._enclave = enclave_label
        self._clock = clock or SystemClock()
        self._register = register

    @property
    def monitors(self) -> Monitors:
        """The cross-request monitors of the policy in force."""
        return self._monitors()

    # -- the request path ---------------------------------------------------------------

    async def handle(
        self, principal: Principal, request: ChatRequest, ctx: RequestContext
    ) -> Outcome:
        """Serve one request for an authenticated principal."""
        policy = self._policy()  # read once: the whole request runs under this policy
        tracing = self._tracing
        with tracing.span("killswitch"):
            self._halts.enforce(principal.tenant, request.model)
        route, ceiling, label = await self._admit(principal, request, policy, ctx)
        now = self._clock.now()
        with tracing.span("screening") as span:
            screened = await self._screener.screen(policy, request.screen_messages(), request.tools)
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
            if any(m.non_text_parts for m in request.messages):
                errors.append("non-text content parts cannot be screened")
                self._metrics.fail_closed("non_text_content")
            span.set_attribute("redline.tiers", screened.tiers)
            span.set_attribute("redline.errors", len(errors))
        facts = await self._oversight(policy, request, ctx.declared, now)
        with tracing.span("policy") as span:
            decision = decide(
                policy,
                verdicts,
                errors=errors,
                route=policy.route_for(request.model),
                oversight=facts,
            )
            _annotate(span, decision)
        self._metrics.decision("request", decision.action.value, decision.categories)

        # The decision may be recorded later, with the response decision: its span still
        # belongs under the request's root, beside the other steps.
        trace_parent = self._tracing.context()

        def recorded() -> Coroutine[None, None, None]:
            return self._record_request(
                principal, request, ctx, decision, screened, label, facts, trace_parent
            )

        if facts.problems:  # decide() blocked it; the refusal names the authority problem
            await recorded()
            raise AuthorityInvalid(
                "a cited authority is not confirmed by the authority register: "
                + "; ".join(facts.problems),
                problems=facts.problems,
            )
        if decision.action is not Action.ALLOW:
            await recorded()
            if decision.action is Action.BLOCK and not ctx.contest_block:
                return Refused(decision=decision)
            return await self._hold(principal, request, ctx, decision, label, policy, now)
        answering = _Answering(
            principal=principal,
            request=request,
            ctx=ctx,
            policy=policy,
            label=label,
            ceiling=ceiling,
            pending=None if request.stream else _Pending(recorded),
        )
        if answering.pending is not None:
            # Allowed, answered whole: the request decision is appended together with the
            # next event of this request (the response decision, or an access decision),
            # so both land in one commit; nothing reaches the client before it is durable.
            try:
                outcome = await self._forward(answering, route)
            except BaseException:
                await _settle(asyncio.ensure_future(self._flush(answering)))
                raise
            await self._flush(answering)
            return outcome
        # Allowed, streamed: the decision's commit overlaps the upstream call, and nothing
        # reaches the client until it is durable (a failed commit raises here and the answer
        # is dropped).
        commit = asyncio.ensure_future(recorded())
        try:
            outcome = await self._forward(answering, route)
        except BaseException:
            await _settle(commit)
            raise
        await commit
        return outcome

    async def _oversight(
        self, policy: Policy, request: ChatRequest, declared: Declared, now: datetime
    ) -> OversightFacts:
        """The request's oversight facts; the person scan and the register are consulted only
        when the policy has authority rules or the request cites an authority."""
        if not policy.authority.rules and not declared.authorities:
            return OversightFacts(declared=declared, model=request.model)
        monitors = self.monitors
        scope = bool(declared.authorities)
        if sum(len(m.text) for m in request.messages) <= _OFFLOAD_CHARS:
            us_person, persons = monitors.us_persons(request, scope=scope)
        else:
            us_person, persons = await asyncio.to_thread(
                lambda: monitors.us_persons(request, scope=scope)
            )
        register = None
        if declared.authorities and self._register is not None:
            register = await self._register()
        return check_authorities(
            declared,
            register,
            model=request.model,
            now=now,
            us_person=us_person,
            persons=persons,
            cover=monitors.selector_digests,
        )

    async def _extract(self, texts: list[str]) -> Label:
        """Marks found in ``texts``; large inputs are scanned off the event loop (in the CPU
        lane's worker processes when one is wired and ready, else on a thread)."""
        size = sum(len(t) for t in texts)
        if size <= _OFFLOAD_CHARS:
            return extract_label(texts)
        if self._lane is not None and self._lane.ready and size > EXTRACT_CHARS:
            return await self._lane.extract_label(texts)
        return await asyncio.to_thread(extract_label, texts)

    async def _flush(self, answering: _Answering) -> None:
        """Append the request's deferred audit event, if it has not been appended yet."""
        if answering.pending is not None and (event := answering.pending.take()) is not None:
            await event()

    async def _with_pending(
        self, answering: _Answering, event: Callable[[], Coroutine[None, None, None]]
    ) -> None:
        """Append ``event`` after the request's deferred event (if any) in the same commit:
        both are queued before the audit writer runs, and both must be durable."""
        first = answering.pending.take() if answering.pending is not None else None
        if first is None:
            await event()
            return
        await asyncio.gather(first(), event())

    async def _admit(
        self, principal: Principal, request: ChatRequest, policy: Policy, ctx: RequestContext
    ) -> tuple[ModelRoute, RouteCeiling, Label]:
        """The route, its effective ceiling (accreditation met with the policy's ceiling) and
        the request's label, once the principal and the route may carry it."""
        with self._tracing.span("route") as span:
            route = self.router.resolve(request.model)
            span.set_attribute("redline.model", route.public_model)
            ceiling = effective_ceiling(route.ceiling, policy.route_for(request.model).ceiling)
        with self._tracing.span("access"):
            label = await self._check_access(principal, request, ceiling, ctx)
        return route, ceiling, label

    async def _check_access(
        self, principal: Principal, request: ChatRequest, ceiling: RouteCeiling, ctx: RequestContext
    ) -> Label:
        try:
            found = await self._extract(request.texts())
            declared = parse_marking(ctx.declared_label) if ctx.declared_label else None
        except MarkingError as exc:
            await self._record_access(
                principal, ctx, "", allowed=False, reason=f"bad marking: {exc}"
            )
            raise
        label = join(self._enclave, found, *([declared] if declared else []))
        result = check_access(principal, label, ceiling)
        if not result.allowed:
            await self._record_access(
                principal, ctx, label.banner(), allowed=False, reason=result.message
            )
            raise AccessDenied(result.message)
        return label

    async def _forward(self, answering: _Answering, route: ModelRoute) -> Outcome:
        request = answering.request
        body = upstream_body(request, route.upstream_model, stream=request.stream)
        screen_output = request.endpoint is not Endpoint.EMBEDDINGS
        if request.stream:
            events = self._halts.guard(
                route.upstream.stream(request.endpoint, body),
                answering.principal.tenant,
                request.model,
            )
            first_events = await self._upstream(route, _started(events))
            if not screen_output:
                return Streaming(events=first_events, label=answering.label.banner())
            relay = self._held_back(first_events, answering, self._tracing.context())
            return Streaming(events=relay, label=answering.label.banner())
        reply = await self._upstream(route, route.upstream.complete(request.endpoint, body))
        if not screen_output:
            return Completed(body=reply.body, label=answering.label.banner())
        return await self._answer(answering, reply.body)

    async def _upstream(self, route: ModelRoute, call: Awaitable[_Reply]) -> _Reply:
        """One upstream call (a whole reply, or a stream's first event), timed and traced."""
        started = time.perf_counter()
        with self._tracing.span("upstream") as span:
            span.set_attribute("redline.model", route.public_model)
            try:
                reply = await call
            except UpstreamError as exc:
                error = type(exc).__name__
                self._metrics.upstream(route.public_model, time.perf_counter() - started, error)
                span.set_attribute("redline.error", error)
                raise
        self._metrics.upstream(route.public_model, time.perf_counter() - started, None)
        return reply

    async def _answer(self, answering: _Answering, body: bytes) -> Outcome:
        """Screen and label a whole reply: the answer, a refusal, or OutputWithheld."""
        with self._tracing.span("output_screening") as span:
            output = reply_output(body)
            label = await self._output_label(answering, output)
            decision = await self._screen_output(answering, output)
            _annotate(span, decision)
        if decision.action is not Action.ALLOW:
            return Refused(decision=decision, on_output=True)
        return Completed(body=body, label=label.banner())

    async def _output_label(self, answering: _Answering, output: Reply) -> Label:
        """join(request label, marks in the answer); withheld when the principal or the
        route may not receive it."""
        texts = [output.text, *(f"{c.name}\n{c.arguments}" for c in output.tool_calls)]
        ctx = answering.ctx
        try:
            found = await self._extract(texts)
        except MarkingError as exc:
            reason = f"bad marking in output: {exc}"
            await self._with_pending(
                answering,
                lambda: self._record_access(
                    answering.principal, ctx, "", allowed=False, reason=reason
                ),
            )
            raise OutputWithheld(f"the answer carries an unreadable marking: {exc}") from None
        label = join(answering.label, found)
        result = check_access(answering.principal, label, answering.ceiling)
        if not result.allowed:
            await self._with_pending(
                answering,
                lambda: self._record_access(
                    answering.principal,
                    ctx,
                    label.banner(),
                    allowed=False,
                    reason=f"output withheld: {result.message}",
                ),
            )
            raise OutputWithheld(
                f"the answer is marked above what may be returned ({result.message})"
            )
        return label

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
        with self._tracing.span("review"):
            item = await self._submit(principal, request, ctx, decision, label, kind, rule, now)
        return Refused(decision=decision, review_id=item.id)

    async def _submit(
        self,
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        decision: Decision,
        label: Label,
        kind: RuleKind,
        rule: ReviewRule | None,
        now: datetime,
    ) -> ReviewItem:
        return await self._review.submit(
            request_id=ctx.request_id,
            principal=principal,
            label_banner=label.banner(),
            request_body=held_bytes(request, ctx.declared),
            decision=decision,
            kind=kind,
            approvals_required=rule.approvals_required
            if rule
            else (2 if kind is RuleKind.OVERRIDE else 1),
            expires_after_s=rule.expires_after_s if rule else 86_400,
            now=now,
        )

    # -- output screening ---------------------------------------------------------------

    async def _screen_output(
        self, answering: _Answering, output: Reply, *, final: bool = True
    ) -> Decision:
        request, principal, policy = answering.request, answering.principal, answering.policy
        conversation = (
            *request.screen_messages(),
            Message(role="assistant", text=output.text, tool_calls=output.tool_calls),
        )
        screened = await self._screener.screen(policy, conversation, request.tools)
        verdicts = _without(screened.verdicts, answering.released)
        if output.tool_calls:
            verdicts += await self.monitors.observe_response(
                principal.id,
                principal.tenant,
                request.model,
                list(output.tool_calls),
                self._clock.now(),
                confirmation=answering.ctx.confirmation,
                history=request.messages,
            )
        decision = decide(
            policy, verdicts, errors=screened.errors, route=policy.route_for(request.model)
        )
        if final or decision.action is not Action.ALLOW:
            self._metrics.decision("response", decision.action.value, decision.categories)
            payload: dict[str, JSONValue] = {
                **_decision_payload(decision),
                "principal": principal.id,
                "tenant": principal.tenant,
                "model": request.model,
                "output_digest": self.digest(_output_bytes(output)),
                "complete": final,
                "released_categories": list[JSONValue](sorted(answering.released)),
                **_declared_payload(answering.ctx.declared),
            }
            await self._with_pending(
                answering,
                lambda: self._audit.record(
                    "response_decision", payload, request_id=answering.ctx.request_id
                ),
            )
        return decision

    async def _held_back(
        self, events: AsyncIterator[bytes], answering: _Answering, trace_parent: Context | None
    ) -> AsyncIterator[bytes]:
        """Relay a stream, releasing events only after the text up to them was screened.

        It runs after the request's handler returned: its spans are children of
        ``trace_parent``, the request's trace context when the stream was set up.

        A block or a marking above the announced label ends the stream with an error event
        (raised here, written by the edge) and none of the held text.
        """
        received = StreamText()
        held: list[bytes] = []
        pending = released = 0
        try:
            async for payload in events:
                pending += received.feed(payload)
                held.append(payload)
                if pending < max(HOLD_MIN_CHARS, min(released // 2, HOLD_MAX_CHARS)):
                    continue
                with self._tracing.span("output_screening", trace_parent):
                    await self._release_check(answering, received.reply(), final=False)
                released += pending
                pending = 0
                for event in held:
                    yield event
                held.clear()
            with self._tracing.span("output_screening", trace_parent):
                await self._release_check(answering, received.reply(), final=True)
            for event in held:
                yield event
        finally:
            await _close(events)

    async def _release_check(self, answering: _Answering, output: Reply, *, final: bool) -> None:
        label = await self._output_label(answering, output)
        if label != answering.label:
            await self._record_access(
                answering.principal,
                answering.ctx,
                label.banner(),
                allowed=False,
                reason="streamed answer marked above its announced label",
            )
            raise OutputWithheld(
                f"the streamed answer carries a marking above its announced label "
                f"({answering.label.banner()}); request it without streaming"
            )
        decision = await self._screen_output(answering, output, final=final)
        if decision.action is not Action.ALLOW:
            raise OutputBlocked(refusal_message(decision))

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
            decision = decide(policy, screened.verdicts, errors=screened.errors)
            self._metrics.decision("moderation", decision.action.value, decision.categories)
            decisions.append(decision)
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
        self,
        principal: Principal,
        request: ChatRequest,
        request_id: str,
        *,
        released: Iterable[str] = (),
        declared: Declared | None = None,
    ) -> Outcome:
        """Run a request reviewers approved: upstream, then output screening and markings.

        ``released`` are the categories the reviewers approved for this request; output
        screening does not block on them again, and still blocks on any other.
        """
        policy = self._policy()
        self._halts.enforce(principal.tenant, request.model)
        ctx = RequestContext(request_id=request_id, declared=declared or Declared())
        route, ceiling, label = await self._admit(principal, request, policy, ctx)
        body = upstream_body(request, route.upstream_model, stream=False)
        reply = await self._upstream(route, route.upstream.complete(request.endpoint, body))
        if request.endpoint is Endpoint.EMBEDDINGS:
            return Completed(body=reply.body, label=label.banner())
        answering = _Answering(
            principal=principal,
            request=request,
            ctx=ctx,
            policy=policy,
            label=label,
            ceiling=ceiling,
            released=frozenset(released),
        )
        return await self._answer(answering, reply.body)

    # -- audit -------------------------------------------------------------------------

    async def _record_request(
        self,
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        decision: Decision,
        screened: ScreenResult,
        label: Label,
        facts: OversightFacts,
        trace_parent: Context | None = None,
    ) -> None:
        with self._tracing.span("audit", parent=trace_parent):
            await self._record_request_now(
                principal, request, ctx, decision, screened, label, facts
            )

    async def _record_request_now(
        self,
        principal: Principal,
        request: ChatRequest,
        ctx: RequestContext,
        decision: Decision,
        screened: ScreenResult,
        label: Label,
        facts: OversightFacts,
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
                "prompt_digest": self.digest(held_bytes(request)),
                "safety_stack": screened.stack_version,
                "tiers": list(screened.tiers),
                "contest_block": ctx.contest_block,
                **_declared_payload(ctx.declared),
                "us_person": facts.us_person,
                "authority_problems": list(facts.problems),
            },
            request_id=ctx.request_id,
        )

    async def _record_access(
        self, principal: Principal, ctx: RequestContext, label: str, *, allowed: bool, reason: str
    ) -> None:
        await self._audit.record(
            "access_decision",
            access_payload(principal, label=label, allowed=allowed, reason=reason),
            request_id=ctx.request_id,
        )


def access_payload(
    principal: Principal, *, label: str, allowed: bool, reason: str, operation: str = "request"
) -> dict[str, JSONValue]:
    """The one shape of an ``access_decision`` audit event."""
    return {
        "principal": principal.id,
        "tenant": principal.tenant,
        "clearance": principal.clearance,
        "operation": operation,
        "label": label,
        "allowed": allowed,
        "reason": reason,
    }


def approved_runner(orchestrator: Orchestrator) -> RunApproved:
    """The review service's runner: the held request, run as its requester, as answer bytes
    (the model's answer, or the refusal body when output screening or markings stop it)."""

    async def run(item: ReviewItem, held: bytes) -> bytes:
        request = parse_held(held)
        try:
            outcome = await orchestrator.run_approved(
                item.requester,
                request,
                item.request_id,
                released=item.decision.categories,
                declared=held_declared(held),
            )
        except OutputWithheld as exc:
            return error_body(str(exc), type_="permission_error", code="redline_output_withheld")
        if isinstance(outcome, Refused):
            return refusal_body(outcome.decision, review_id=outcome.review_id)
        if isinstance(outcome, Streaming):  # pragma: no cover - run_approved never streams
            raise TypeError("an approved request is answered whole")
        return outcome.body

    return run


def _annotate(span: Span, decision: Decision) -> None:
    """The decision on a span: its action and the category ids that drove it."""
    span.set_attribute("redline.action", decision.action.value)
    if decision.categories:
        span.set_attribute("redline.categories", decision.categories)


def _without(verdicts: Iterable[Verdict], released: frozenset[str]) -> list[Verdict]:
    if not released:
        return list(verdicts)
    return [v for v in verdicts if v.category not in released]


def _output_bytes(output: Reply) -> bytes:
    calls = "".join(f"\n{c.name}\n{c.arguments}" for c in output.tool_calls)
    return (output.text + calls).encode()


def _declared_payload(declared: Declared) -> dict[str, JSONValue]:
    """What the request declared, as given (never content): purpose, authorities, case."""
    return {
        "purpose": declared.purpose,
        "authorities": [str(a) for a in declared.authorities],
        "case": declared.case,
    }


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
