"""``create_app(open_services)``: the ASGI application, over services built elsewhere.

The app builds nothing: ``open_services`` (the composition root, :mod:`redline.bootstrap`,
or a test's own) is entered in the lifespan and yields :class:`Services`. Handlers do only
wire work inside the one frame (:mod:`redline.gateway.frame`): read the body within its
limit, parse it (``redline/wire.py``), call the orchestrator, and map the outcome to HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from redline.domain import ChatRequest, Endpoint, Principal
from redline.errors import GatewayError
from redline.gateway.admin import ControlPlane, admin_routes
from redline.gateway.console.routes import console_mount
from redline.gateway.errors import error_response_parts
from redline.gateway.frame import JSON, endpoint, read_body
from redline.gateway.operator_api import operator_routes
from redline.gateway.oversight_api import oversight_routes
from redline.gateway.review_api import ReviewWeb, review_api_routes
from redline.monitors import CONFIRMATION_HEADER
from redline.service import Authenticator, Completed, Orchestrator, Refused, Streaming
from redline.service.certs import CertificateAuthenticator
from redline.service.orchestrator import RequestContext
from redline.service.oversight import Oversight
from redline.wire import (
    METADATA_KEYS,
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
        raw = await read_body(request, services.max_body_bytes)
        parsed = await _parse(kind, raw)
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


async def _parse(kind: Endpoint, raw: bytes) -> ChatRequest:
    if len(raw) <= _PARSE_INLINE_BYTES:
        return parse_request(kind, raw)
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
        logger.warning("stream ended by error request_id=%s error=%s", rid, type(exc).__name__)
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
