"""``create_app(settings)``: the ASGI application.

The lifespan builds every service once (key store, authenticator, router, gateway) and
closes them on shutdown. Request handlers do only wire work: read the body within its
limit, authenticate, parse, call :class:`redline.service.Gateway`, and map the outcome or
error to HTTP. Each request gets an ``x-request-id`` (the client's, if well-formed) and one
structured log line without content.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from redline.domain import Endpoint, Principal
from redline.errors import GatewayError, RequestTooLarge
from redline.gateway.admin import ControlPlane, admin_routes, open_control_plane
from redline.gateway.console.routes import console_mount
from redline.gateway.errors import error_response_parts
from redline.gateway.openai_wire import error_body, parse_request
from redline.gateway.review_api import ReviewWeb, open_review_web, review_api_routes
from redline.ids import is_valid_request_id, new_request_id
from redline.service import Authenticator, Completed, Gateway, Refused, Streaming
from redline.service.gateway import Route as ModelRoute
from redline.service.gateway import Router
from redline.settings import ECHO_MODEL, Settings
from redline.store.keys import SqliteKeyStore
from redline.upstream import EchoUpstream, OpenAIHttpUpstream, Upstream

__all__ = ["Services", "create_app"]

logger = logging.getLogger("redline.requests")
JSON = "application/json"


@dataclass(slots=True, kw_only=True)
class Services:
    """What the handlers use; built in the lifespan."""

    settings: Settings
    authenticator: Authenticator
    gateway: Gateway


def build_router(settings: Settings) -> Router:
    """Routes from settings, plus the built-in echo model unless a route claims its name."""
    upstreams: dict[str, Upstream] = {}
    for name, cfg in settings.upstreams.items():
        upstreams[name] = OpenAIHttpUpstream(
            name=name,
            base_url=cfg.base_url,
            api_key=cfg.api_key,
            azure_api_version=cfg.api_version if cfg.kind == "azure" else None,
            connect_timeout_s=cfg.connect_timeout_s,
            read_timeout_s=cfg.read_timeout_s,
            max_connections=cfg.max_connections,
        )
    routes = {
        model: ModelRoute(
            public_model=model, upstream=upstreams[r.upstream], upstream_model=r.upstream_model
        )
        for model, r in settings.routes.items()
    }
    routes.setdefault(
        ECHO_MODEL,
        ModelRoute(public_model=ECHO_MODEL, upstream=EchoUpstream(), upstream_model=ECHO_MODEL),
    )
    return Router(routes)


def create_app(settings: Settings | None = None) -> Starlette:
    """The gateway as an ASGI app; ``settings`` default to ``Settings.from_environ()``."""
    settings = settings or Settings.from_environ()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        keys = SqliteKeyStore(settings.data_dir / "keys.db")
        router = build_router(settings)
        authenticator = Authenticator(keys)
        control = await _open_control(app, settings, authenticator)
        review = _open_review(app, settings, control)
        app.state.services = Services(
            settings=settings, authenticator=authenticator, gateway=Gateway(router=router)
        )
        try:
            yield
        finally:
            await review.aclose()
            await control.aclose()
            await router.aclose()
            keys.close()

    return Starlette(
        routes=[
            Route("/v1/chat/completions", _generation(Endpoint.CHAT), methods=["POST"]),
            Route("/v1/completions", _generation(Endpoint.COMPLETIONS), methods=["POST"]),
            Route("/v1/embeddings", _generation(Endpoint.EMBEDDINGS), methods=["POST"]),
            Route("/v1/models", _models, methods=["GET"]),
            Route("/healthz", _health, methods=["GET"]),
            *admin_routes(),
            *review_api_routes(),
            console_mount(),
        ],
        lifespan=lifespan,
    )


async def _open_control(
    app: Starlette, settings: Settings, authenticator: Authenticator
) -> ControlPlane:
    """Kill switch, policy runtime and admin API services (see gateway/admin.py)."""
    control = await open_control_plane(settings, authenticator=authenticator)
    app.state.control = control
    return control


def _open_review(app: Starlette, settings: Settings, control: ControlPlane) -> ReviewWeb:
    """Review queue, requester API and reviewer console (see gateway/review_api.py)."""
    review = open_review_web(settings, audit=control.audit)
    app.state.review = review
    review.start_sweeper()
    return review


Handler = Callable[[Request], Awaitable[Response]]


def _generation(endpoint: Endpoint) -> Handler:
    async def handler(request: Request) -> Response:
        return await _run(
            request,
            endpoint.value,
            lambda services, principal, rid: _generate(request, services, principal, endpoint, rid),
        )

    return handler


async def _run(
    request: Request,
    what: str,
    work: Callable[[Services, Principal, str], Awaitable[Response]],
) -> Response:
    """Common frame: request id, authentication, error mapping, one log line."""
    started = time.perf_counter()
    supplied = request.headers.get("x-request-id")
    rid = supplied if supplied and is_valid_request_id(supplied) else new_request_id()
    services: Services = request.app.state.services
    tenant = "-"
    try:
        principal = await services.authenticator.authenticate(request.headers.get("authorization"))
        tenant = principal.tenant
        response = await work(services, principal, rid)
    except GatewayError as exc:
        status, body = error_response_parts(exc)
        response = Response(body, status_code=status, media_type=JSON)
    except Exception:  # the ASGI error boundary: no traceback reaches a client (logged here)
        logger.exception("unhandled error request_id=%s", rid)
        body = error_body("internal error", type_="server_error", code="internal_error")
        response = Response(body, status_code=500, media_type=JSON)
    response.headers["x-request-id"] = rid
    logger.info(
        '{"request_id":"%s","op":"%s","tenant":"%s","status":%d,"ms":%.2f}',
        rid,
        what,
        tenant,
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) as soon as it exceeds ``limit`` without reading the rest."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"request body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _generate(
    request: Request, services: Services, principal: Principal, endpoint: Endpoint, rid: str
) -> Response:
    raw = await _read_body(request, services.settings.max_body_bytes)
    parsed = parse_request(endpoint, raw)
    outcome = await services.gateway.handle(principal, parsed)
    if isinstance(outcome, Completed):
        return Response(outcome.body, media_type=JSON)
    if isinstance(outcome, Streaming):
        return StreamingResponse(_sse(outcome.events, rid), media_type="text/event-stream")
    return _refusal(outcome)


def _refusal(outcome: Refused) -> Response:
    decision = outcome.decision
    code = "redline_review" if outcome.review_id else "redline_blocked"
    lines = ", ".join(decision.categories) or "policy"
    clauses = ", ".join(decision.clauses) or "-"
    verb = "held for review" if outcome.review_id else "blocked"
    message = f"Request {verb} by Redline: red line {lines} (clauses {clauses})."
    extra = {"review_id": outcome.review_id} if outcome.review_id else {}
    body = error_body(message, type_="redline_policy", code=code, **extra)
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


async def _models(request: Request) -> Response:
    async def work(services: Services, principal: Principal, rid: str) -> Response:
        data = [
            {"id": model, "object": "model", "created": 0, "owned_by": "redline"}
            for model in services.gateway.router.models()
        ]
        return Response(orjson.dumps({"object": "list", "data": data}), media_type=JSON)

    return await _run(request, "models", work)


async def _health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)
