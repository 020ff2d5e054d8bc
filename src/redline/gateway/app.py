"""``create_app(open_services)``: the ASGI application, over services built elsewhere.

The app builds nothing: ``open_services`` (the composition root, :mod:`redline.bootstrap`,
or a test's own) is entered in the lifespan and yields :class:`Services`. Handlers do only
wire work inside the one frame (:mod:`redline.gateway.frame`): read the body within its
limit, parse it (``redline/wire.py``), call the orchestrator, and map the outcome to HTTP.

Probes and metrics (docs/OBSERVABILITY.md): ``GET /healthz`` answers while the process
serves (no authentication, no dependency touched); ``GET /readyz`` runs the readiness checks
(503 when any fails); ``GET /metrics`` is the Prometheus exposition, for an admin-role key
by default (``[observability] metrics``): its labels name routes, categories and halt
scopes an operator may not want every client of the gateway to enumerate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from redline.domain import ChatRequest, Endpoint, Principal
from redline.errors import GatewayBusy, GatewayError, RequestTimeout
from redline.gateway.admin import ControlPlane, admin_routes
from redline.gateway.console.routes import console_mount
from redline.gateway.errors import error_response_parts
from redline.gateway.frame import JSON, endpoint, read_body, require_role, services_of
from redline.gateway.operator_api import operator_routes
from redline.gateway.oversight_api import oversight_routes
from redline.gateway.review_api import ReviewWeb, review_api_routes
from redline.monitors import CONFIRMATION_HEADER
from redline.service import Authenticator, Completed, Orchestrator, Refused, Streaming
from redline.service.certs import CertificateAuthenticator
from redline.service.cpu_lane import PARSE_BYTES, CpuLane
from redline.service.health import Readiness
from redline.service.orchestrator import RequestContext
from redline.service.oversight import Oversight
from redline.service.tracing import NO_TRACING, Tracing
from redline.wire import (
    METADATA_KEYS,
    error_body,
    parse_declared,
    parse_moderation,
    parse_request,
    refusal_body,
)

__all__ = ["Services", "create_app"]

logger = logging.getLogger("redline.requests")

_PARSE_INLINE_BYTES = 256 * 1024  # larger bodies are parsed off the event loop
_TRUE = frozenset({"1", "true", "yes"})


@dataclass(slots=True, kw_only=True)
class Services:
    """Everything the web edge uses, built once by the composition root."""

    max_body_bytes: int
    authenticator: Authenticator
    certificates: CertificateAuthenticator | None
    orchestrator: Orchestrator
    control: ControlPlane
    review: ReviewWeb
    oversight: Oversight
    metrics: Callable[[], Awaitable[tuple[bytes, str]]] | None = None
    """The exposition and its media type; ``None``: metrics are off (``/metrics`` is 404)."""
    metrics_access: str = "admin"
    """``admin``: ``/metrics`` needs a key with the admin role; ``public``: no key."""
    readiness: Callable[[], Awaitable[Readiness]] | None = None
    """The readiness checks; ``None``: never ready (nothing was wired to check)."""
    tracing: Tracing = NO_TRACING
    lane: CpuLane | None = None
    """Worker processes for parsing very large bodies; ``None``: a thread parses them."""
    large_bodies: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    """Bodies over 256 KB (or of unknown length) are read and parsed one at a time.
    Receiving a body costs the event loop a wake-up and a copy per 64 KB: a flood of large
    bodies read all at once leaves small requests waiting behind all of them (measured: p99
    ~260 ms while 16 clients sent 7 MB bodies; ~140 ms two at a time, ~90 ms one at a
    time). The others wait in TCP back-pressure, at most :data:`LARGE_BODY_WAIT_S` (then
    503 ``redline_busy``), and a body must arrive within :func:`_large_body_deadline`
    (then 408 ``request_timeout``), so a slow sender cannot hold the turn."""


OpenServices = Callable[[], AbstractAsyncContextManager[Services]]


def create_app(open_services: OpenServices) -> Starlette:
    """The gateway as an ASGI app; ``open_services`` is entered once in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services() as services:
            app.state.services = services
            yield

    return Starlette(
        routes=[
            Route("/v1/chat/completions", _generation(Endpoint.CHAT), methods=["POST"]),
            Route("/v1/completions", _generation(Endpoint.COMPLETIONS), methods=["POST"]),
            Route("/v1/embeddings", _generation(Endpoint.EMBEDDINGS), methods=["POST"]),
            Route("/v1/models", endpoint("models", _models), methods=["GET"]),
            Route("/v1/moderations", endpoint("moderations", _moderations), methods=["POST"]),
            Route("/healthz", _health, methods=["GET"]),
            Route("/readyz", _ready, methods=["GET"]),
            Route("/metrics", _metrics, methods=["GET"]),
            *admin_routes(),
            *operator_routes(),
            *review_api_routes(),
            *oversight_routes(),
            console_mount(),
        ],
        lifespan=lifespan,
    )


def _generation(kind: Endpoint) -> Callable[[Request], object]:
    async def work(
        request: Request, services: Services, principal: Principal, rid: str
    ) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) <= _PARSE_INLINE_BYTES:
            raw = await read_body(request, services.max_body_bytes)
            parsed = await _parse(kind, raw, services.lane)
        else:  # a large body: read and parsed one request at a time (see Services)
            async with _one_large_body(services.large_bodies):
                raw = await _read_large_body(request, services.max_body_bytes, declared)
                parsed = await _parse(kind, raw, services.lane)
        headers = request.headers
        ctx = RequestContext(
            request_id=rid,
            declared_label=headers.get("x-redline-classification"),
            confirmation=headers.get(CONFIRMATION_HEADER),
            contest_block=headers.get("x-redline-contest-block", "").lower() in _TRUE,
            declared=parse_declared({k: headers.getlist(k) for k in METADATA_KEYS}, parsed.body),
        )
        outcome = await services.orchestrator.handle(principal, parsed, ctx)
        if isinstance(outcome, Completed):
            return Response(outcome.body, media_type=JSON, headers=_label_header(outcome.label))
        if isinstance(outcome, Streaming):
            return StreamingResponse(
                _sse(outcome.events, rid),
                media_type="text/event-stream",
                headers=_label_header(outcome.label),
            )
        return _refusal(outcome)

    return endpoint(kind.value, work)


LARGE_BODY_WAIT_S = 10.0


@asynccontextmanager
async def _one_large_body(turn: asyncio.Semaphore) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(LARGE_BODY_WAIT_S):
            await turn.acquire()
    except TimeoutError:
        raise GatewayBusy("too many large request bodies are waiting; retry later") from None
    try:
        yield
    finally:
        turn.release()


def _large_body_deadline(declared: str) -> float:
    """Seconds a large body may take to arrive: 5 s plus 1 s per MB declared (at least
    1 MB/s), 30 s when the length is not declared."""
    if not declared.isdigit():
        return 30.0
    return 5.0 + int(declared) / 1_000_000


async def _read_large_body(request: Request, limit: int, declared: str) -> bytes:
    try:
        async with asyncio.timeout(_large_body_deadline(declared)):
            return await read_body(request, limit)
    except TimeoutError:
        raise RequestTimeout("the request body arrived too slowly") from None


async def _parse(kind: Endpoint, raw: bytes, lane: CpuLane | None) -> ChatRequest:
    if len(raw) <= _PARSE_INLINE_BYTES:
        return parse_request(kind, raw)
    if lane is not None and lane.ready and len(raw) > PARSE_BYTES:
        return await lane.parse(kind, raw)
    return await asyncio.to_thread(parse_request, kind, raw)


def _label_header(label: str) -> dict[str, str]:
    return {"x-redline-classification": label} if label else {}


def _refusal(outcome: Refused) -> Response:
    subject = "Response" if outcome.on_output else "Request"
    body = refusal_body(outcome.decision, subject=subject, review_id=outcome.review_id)
    return Response(body, status_code=403, media_type=JSON)


async def _sse(events: AsyncIterator[bytes], rid: str) -> AsyncIterator[bytes]:
    """Relay events as they arrive; a failure becomes a final SSE error event."""
    try:
        async for payload in events:
            yield b"data: " + payload + b"\n\n"
    except GatewayError as exc:
        _, body = error_response_parts(exc)
        logger.warning(
            "stream ended by error", extra={"request_id": rid, "error": type(exc).__name__}
        )
        yield b"data: " + body + b"\n\n"
        return
    yield b"data: [DONE]\n\n"


async def _models(request: Request, services: Services, principal: Principal, rid: str) -> Response:
    data = [
        {"id": model, "object": "model", "created": 0, "owned_by": "redline"}
        for model in services.orchestrator.router.models()
    ]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type=JSON)


async def _moderations(
    request: Request, services: Services, principal: Principal, rid: str
) -> Response:
    """OpenAI's moderation shape; categories are the policy's (red lines + operator ones)."""
    raw = await read_body(request, services.max_body_bytes)
    texts = parse_moderation(raw)
    decisions = await services.orchestrator.moderate(principal, texts, rid)
    results = [
        {
            "flagged": d.action.value != "allow",
            "decision": d.action.value,
            "categories": {c: c in d.categories for c in d.scores},
            "category_scores": dict(d.scores),
            "clauses": list(d.clauses),
        }
        for d in decisions
    ]
    body = {"id": "modr-" + rid, "model": "redline-safety-stack", "results": results}
    return Response(orjson.dumps(body), media_type=JSON)


async def _health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)


async def _ready(request: Request) -> Response:
    """200 with every check when ready, else 503 naming what failed."""
    services = services_of(request)
    if services.readiness is None:
        body = {"status": "not ready", "checks": {}, "error": "no readiness checks are wired"}
        return Response(orjson.dumps(body), status_code=503, media_type=JSON)
    readiness = await services.readiness()
    status = 200 if readiness.ready else 503
    return Response(orjson.dumps(readiness.as_json()), status_code=status, media_type=JSON)


async def _metrics_for_admin(
    request: Request, services: Services, principal: Principal, rid: str
) -> Response:
    await require_role(services, principal, "admin", "metrics")
    return await _exposition(services)


_admin_metrics = endpoint("metrics", _metrics_for_admin)


async def _metrics(request: Request) -> Response:
    services = services_of(request)
    if services.metrics is None or services.metrics_access == "public":
        return await _exposition(services)  # a 404 when metrics are off
    return await _admin_metrics(request)


async def _exposition(services: Services) -> Response:
    if services.metrics is None:
        body = error_body(
            "metrics are off ([observability] metrics)", type_="not_found", code="metrics_off"
        )
        return Response(body, status_code=404, media_type=JSON)
    body, media_type = await services.metrics()
    return Response(body, media_type=media_type)
