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
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from redline.access import route_ceiling
from redline.audit import AuditLog, NoteSigner, SqliteLogStore, generate_signer
from redline.clock import SystemClock
from redline.domain import Endpoint, Principal
from redline.errors import ConfigError, GatewayError, RequestTooLarge
from redline.gateway.admin import AuditLogSink, ControlPlane, admin_routes, open_control_plane
from redline.gateway.console.routes import console_mount
from redline.gateway.errors import error_response_parts
from redline.gateway.identity import authenticate_request
from redline.gateway.openai_wire import error_body, parse_moderation, parse_request
from redline.gateway.operator_api import operator_routes
from redline.gateway.review_api import ReviewWeb, open_review_web, review_api_routes
from redline.ids import is_valid_request_id, new_request_id
from redline.markings import parse_marking
from redline.monitors import (
    CONFIRMATION_HEADER,
    InProcessMonitorState,
    MonitorConfig,
    Monitors,
    MonitorState,
    PersonExtractor,
    RedisMonitorState,
)
from redline.policy import Policy
from redline.review import ReviewItem
from redline.service import Authenticator, Completed, Gateway, Refused, Streaming
from redline.service.certs import CertificateAuthenticator
from redline.service.gateway import RequestContext
from redline.service.output import refusal_message
from redline.service.policy_runtime import PolicySources
from redline.service.routing import Route as ModelRoute
from redline.service.routing import Router
from redline.service.screening import Screener
from redline.settings import ECHO_MODEL, Settings
from redline.store.keys import SqliteKeyStore
from redline.store.secrets import load_or_create_secret
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
    """Routes from settings, plus the built-in echo model unless a route claims its name.

    Raises:
        ConfigError: a route names an unknown accreditation.
    """
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
            public_model=model,
            upstream=upstreams[r.upstream],
            upstream_model=r.upstream_model,
            ceiling=route_ceiling(r.accreditation, sci_systems=r.sci_systems),
        )
        for model, r in settings.routes.items()
    }
    routes.setdefault(
        ECHO_MODEL,
        ModelRoute(
            public_model=ECHO_MODEL,
            upstream=EchoUpstream(),
            upstream_model=ECHO_MODEL,
            ceiling=route_ceiling(settings.echo_accreditation),
        ),
    )
    return Router(routes)


async def _open_audit(settings: Settings) -> AuditLog:
    """The audit log (``audit.db``) with its checkpoint signing key (``audit.skey``)."""
    skey_path = settings.data_dir / "audit.skey"
    if skey_path.exists():
        signer = NoteSigner.parse(skey_path.read_text().strip())
    else:
        signer = generate_signer("redline.local/audit")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        skey_path.touch(mode=0o600)
        skey_path.write_text(signer.encode() + "\n")
        (settings.data_dir / "audit.vkey").write_text(signer.verifier.encode() + "\n")
    return await AuditLog.open(SqliteLogStore.in_data_dir(settings.data_dir), signer)


def _build_monitors(settings: Settings, policy: Policy) -> Monitors:
    """In-process windows, or Redis ones shared by all replicas when REDLINE_REDIS_URL is set.

    Replicas sharing Redis must share the salt and confirmation key files too (same data
    directory contents), or they count the same person twice and reject each other's tokens.
    """
    salt = load_or_create_secret(settings.data_dir, "monitor-salt.key")
    key = load_or_create_secret(settings.data_dir, "confirmation.key")
    config = MonitorConfig.from_policy(policy.monitors)
    state: MonitorState = (
        RedisMonitorState.from_url(settings.redis_url, config)
        if settings.redis_url
        else InProcessMonitorState(config)
    )
    return Monitors(
        config,
        state,
        PersonExtractor(salt),
        confirmation_key=key,
        clock=SystemClock(),
    )


def create_app(settings: Settings | None = None) -> Starlette:
    """The gateway as an ASGI app; ``settings`` default to ``Settings.from_environ()``."""
    settings = settings or Settings.from_environ()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            keys = SqliteKeyStore(settings.data_dir / "keys.db")
            stack.callback(keys.close)
            router = build_router(settings)
            stack.push_async_callback(router.aclose)
            audit_log = await _open_audit(settings)
            stack.push_async_callback(audit_log.close)
            authenticator = Authenticator(keys)
            app.state.certificates = _certificate_authenticator(settings)
            control = await _open_control(app, settings, authenticator, AuditLogSink(audit_log))
            stack.push_async_callback(control.aclose)
            screener = Screener(judge_upstream=lambda model: router.resolve(model).upstream)
            screener.prepare(control.policy.current)  # fail to start on broken artifacts
            review = _open_review(app, settings, control)
            stack.push_async_callback(review.aclose)
            gateway = Gateway(
                router=router,
                policy=lambda: control.policy.current,
                screener=screener,
                audit=control.audit,
                halts=control.halts,
                monitors=_build_monitors(settings, control.policy.current),
                review=review.runtime.service,
                enclave_label=parse_marking(settings.enclave_label),
                digest=audit_log.body_digest,
            )
            review.runtime.service.run_approved = _approved_runner(gateway)
            app.state.services = Services(
                settings=settings, authenticator=authenticator, gateway=gateway
            )
            yield

    return Starlette(
        routes=[
            Route("/v1/chat/completions", _generation(Endpoint.CHAT), methods=["POST"]),
            Route("/v1/completions", _generation(Endpoint.COMPLETIONS), methods=["POST"]),
            Route("/v1/embeddings", _generation(Endpoint.EMBEDDINGS), methods=["POST"]),
            Route("/v1/models", _models, methods=["GET"]),
            Route("/v1/moderations", _moderations, methods=["POST"]),
            Route("/healthz", _health, methods=["GET"]),
            *admin_routes(),
            *operator_routes(),
            *review_api_routes(),
            console_mount(),
        ],
        lifespan=lifespan,
    )


async def _open_control(
    app: Starlette, settings: Settings, authenticator: Authenticator, audit: AuditLogSink
) -> ControlPlane:
    """Kill switch, policy runtime and admin API services (see gateway/admin.py)."""
    sources = PolicySources(
        floor_path=settings.policy_floor,
        overlay_path=settings.policy_overlay,
        provider_public_key=_read_key(settings.provider_public_key),
    )
    control = await open_control_plane(
        settings,
        authenticator=authenticator,
        audit=audit,
        policy_sources=sources,
        redis_url=settings.redis_url,
        postgres_url=settings.database_url,
    )
    app.state.control = control
    return control


def _certificate_authenticator(settings: Settings) -> CertificateAuthenticator | None:
    """Client-certificate identities when mTLS is on (see gateway/identity.py)."""
    tls = settings.tls
    if tls is None or tls.client_ca is None:
        return None
    return CertificateAuthenticator(tls.identities)


def _read_key(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read provider public key {path}: {exc.strerror}") from exc


def _open_review(app: Starlette, settings: Settings, control: ControlPlane) -> ReviewWeb:
    """Review queue, requester API and reviewer console (see gateway/review_api.py)."""
    review = open_review_web(settings, audit=control.audit)
    app.state.review = review
    review.start_sweeper()
    return review


def _approved_runner(gateway: Gateway) -> Callable[[ReviewItem, bytes], Awaitable[bytes]]:
    """Run an approved held request as its requester, with output screening."""

    async def run(item: ReviewItem, body: bytes) -> bytes:
        held = orjson.loads(body)
        endpoint = (
            Endpoint.CHAT if isinstance(held, dict) and "messages" in held else Endpoint.COMPLETIONS
        )
        request = parse_request(endpoint, body)
        return await gateway.run_approved(item.requester, request, item.request_id)

    return run


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
        principal = await authenticate_request(request, services.authenticator)
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
    headers = request.headers
    ctx = RequestContext(
        request_id=rid,
        declared_label=headers.get("x-redline-classification"),
        confirmation=headers.get(CONFIRMATION_HEADER),
        contest_block=headers.get("x-redline-contest-block", "").lower() in {"1", "true", "yes"},
    )
    outcome = await services.gateway.handle(principal, parsed, ctx)
    if isinstance(outcome, Completed):
        return Response(outcome.body, media_type=JSON, headers=_label_header(outcome.label))
    if isinstance(outcome, Streaming):
        return StreamingResponse(
            _sse(outcome.events, rid),
            media_type="text/event-stream",
            headers=_label_header(outcome.label),
        )
    return _refusal(outcome)


def _label_header(label: str) -> dict[str, str]:
    return {"x-redline-classification": label} if label else {}


def _refusal(outcome: Refused) -> Response:
    decision = outcome.decision
    code = "redline_review" if outcome.review_id else "redline_blocked"
    subject = "Response" if outcome.on_output else "Request"
    message = refusal_message(decision, subject=subject, held=outcome.review_id is not None)
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


async def _moderations(request: Request) -> Response:
    """OpenAI's moderation shape; categories are the policy's (red lines + operator ones)."""

    async def work(services: Services, principal: Principal, rid: str) -> Response:
        raw = await _read_body(request, services.settings.max_body_bytes)
        texts = parse_moderation(raw)
        decisions = await services.gateway.moderate(principal, texts, rid)
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

    return await _run(request, "moderations", work)


async def _health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)
