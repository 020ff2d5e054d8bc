"""The admin API under ``/redline/v1/admin/``: kill switch and policy reload (issue 4 items 5-7).

Routes: ``POST halt`` ``{"scope": "all"|"tenant:T"|"model:M", "reason": "..."}``,
``POST resume`` ``{"scope": ...}`` (two distinct administrators), ``GET halts``,
``POST policy/reload``, ``GET policy`` (effective policy sha256 and a summary).

Authentication is separate from user traffic: the bearer key must belong to a principal
with the ``admin`` role (``redline keys create --tenant ops --role admin``); any other key
gets 403 ``permission_error`` and the refusal is recorded. Errors are OpenAI-shaped. Every
admin action is an audit event: halts and resumes through :class:`HaltService`, reloads
through :class:`PolicyRuntime`, refused admin calls here (``access_decision``).

:func:`open_control_plane` builds the services behind these routes for the app lifespan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.audit import AuditLog, SqliteLogStore
from redline.domain import JSONValue, Principal
from redline.errors import AccessDenied, AuditError, GatewayError, InvalidTransition, RequestError
from redline.gateway.errors import error_response_parts
from redline.gateway.identity import authenticate_request
from redline.gateway.openai_wire import error_body
from redline.ids import new_request_id
from redline.policy import Policy, ResumeOutcome
from redline.service import Authenticator
from redline.service.halts import HaltService
from redline.service.policy_runtime import PolicyRuntime, PolicySources, install_sighup_reload
from redline.service.ports import AuditSink
from redline.settings import Settings
from redline.store.halts import (
    HaltChannel,
    HaltStore,
    PostgresHaltChannel,
    PostgresHaltStore,
    RedisHaltChannel,
    SqliteHaltStore,
)

__all__ = ["ADMIN_ROLE", "PREFIX", "ControlPlane", "admin_routes", "open_control_plane"]

logger = logging.getLogger("redline.admin")

ADMIN_ROLE = "admin"
PREFIX = "/redline/v1/admin"
MAX_ADMIN_BODY = 16 * 1024
MAX_REASON_CHARS = 1000
JSON = "application/json"


@dataclass(slots=True, kw_only=True)
class ControlPlane:
    """The services behind the admin routes (``app.state.control``)."""

    authenticator: Authenticator
    halts: HaltService
    policy: PolicyRuntime
    audit: AuditSink
    audit_log: AuditLog | None = None
    """The audit log opened here when no sink was given (its ``body_digest`` salt)."""
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _remove_sighup: Callable[[], None] = lambda: None

    async def aclose(self) -> None:
        """Stop the kill switch's background tasks and close what was opened here."""
        self._remove_sighup()
        await self.halts.aclose()
        for close in reversed(self._closers):
            await close()


async def open_control_plane(
    settings: Settings,
    *,
    authenticator: Authenticator,
    audit: AuditSink | None = None,
    policy_sources: PolicySources | None = None,
    redis_url: str | None = None,
    postgres_url: str | None = None,
    sighup: bool = True,
) -> ControlPlane:
    """Build the kill switch and the policy runtime for one gateway process.

    Args:
        settings: the gateway settings (data directory).
        authenticator: the shared key authenticator.
        audit: the gateway's audit sink; if None, an audit log over the data directory's
            ``audit.db`` is opened here (and closed by :meth:`ControlPlane.aclose`).
        policy_sources: the policy files; default: the built-in floor, no overlay.
        redis_url: broadcast halts over Redis pub/sub (``redline:halt``).
        postgres_url: keep the halt state in PostgreSQL and broadcast with NOTIFY;
            otherwise ``DATA_DIR/halts.db``.
        sighup: reload the policy on SIGHUP (main thread only).

    Raises:
        StoreError: the halt state cannot be read (the gateway must not start).
        PolicyError: the policy does not load.
    """
    closers: list[Callable[[], Awaitable[None]]] = []
    log = None
    if audit is None:
        log = await AuditLog.open(SqliteLogStore.in_data_dir(settings.data_dir))
        closers.append(log.close)
        audit = AuditLogSink(log)
    store: HaltStore
    channels: list[HaltChannel] = []
    if postgres_url:
        store = PostgresHaltStore(postgres_url)
        channels.append(PostgresHaltChannel(postgres_url))
    else:
        store = SqliteHaltStore.in_data_dir(settings.data_dir)
    if redis_url:
        channels.append(RedisHaltChannel(redis_url))
    halts = HaltService(store, audit, channels=channels)
    try:
        await halts.start()
        policy = await PolicyRuntime.open(policy_sources or PolicySources(), audit)
    except BaseException:
        await halts.aclose()
        for close in reversed(closers):
            await close()
        raise
    control = ControlPlane(
        authenticator=authenticator,
        halts=halts,
        policy=policy,
        audit=audit,
        audit_log=log,
        _closers=closers,
    )
    if sighup:
        control._remove_sighup = install_sighup_reload(policy)
    return control


class AuditLogSink:
    """:class:`AuditSink` over an :class:`AuditLog` (until the gateway provides its own)."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        await self._log.append(event_type, payload, request_id=request_id)


def admin_routes() -> list[Route]:
    """The admin routes, to mount in the app."""
    return [
        Route(PREFIX + "/halt", _admin("halt", _halt), methods=["POST"]),
        Route(PREFIX + "/resume", _admin("resume", _resume), methods=["POST"]),
        Route(PREFIX + "/halts", _admin("halts", _halts), methods=["GET"]),
        Route(PREFIX + "/policy/reload", _admin("policy.reload", _reload), methods=["POST"]),
        Route(PREFIX + "/policy", _admin("policy", _policy), methods=["GET"]),
    ]


Work = Callable[[Request, ControlPlane, Principal], Awaitable[Response]]


def _admin(op: str, work: Work) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        started = time.perf_counter()
        control: ControlPlane = request.app.state.control
        who = "-"
        try:
            principal = await authenticate_request(request, control.authenticator)
            who = principal.id
            await _require_admin(control, principal, op)
            response = await work(request, control, principal)
        except InvalidTransition as exc:
            response = _json_error(409, str(exc), code="redline_invalid_transition")
        except GatewayError as exc:
            status, body = error_response_parts(exc)
            response = Response(body, status_code=status, media_type=JSON)
        logger.info(
            '{"op":"admin.%s","by":"%s","status":%d,"ms":%.2f}',
            op,
            who,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    return handler


async def _require_admin(control: ControlPlane, principal: Principal, op: str) -> None:
    if ADMIN_ROLE in principal.roles:
        return
    payload: dict[str, JSONValue] = {
        "decision": "deny",
        "principal": principal.id,
        "tenant": principal.tenant,
        "operation": "admin." + op,
        "reason": "admin role required",
    }
    try:
        await control.audit.record("access_decision", payload, request_id=new_request_id())
    except AuditError as exc:  # the refusal stands either way
        logger.error("refused admin call not audited: %s", exc)
    raise AccessDenied("this endpoint requires an API key with the 'admin' role")


async def _halt(request: Request, control: ControlPlane, principal: Principal) -> Response:
    body = await _body(request)
    reason = _text(body, "reason", required=False)
    result = await control.halts.halt(_text(body, "scope"), reason=reason, by=principal.id)
    doc: dict[str, JSONValue] = {
        "object": "redline.halt",
        "scope": result.halt.scope,
        "reason": result.halt.reason,
        "by": result.halt.by,
        "at": result.halt.at,
        "version": result.version,
        "audited": result.audited,
    }
    if not result.audited:
        doc["warning"] = "the halt is in force but the audit log could not record it"
    return _json(doc)


async def _resume(request: Request, control: ControlPlane, principal: Principal) -> Response:
    body = await _body(request)
    result = await control.halts.resume(_text(body, "scope"), by=principal.id)
    doc: dict[str, JSONValue] = {
        "object": "redline.resume",
        "scope": result.scope,
        "outcome": result.outcome.value,
        "by": result.by,
        "version": result.version,
    }
    if result.outcome is ResumeOutcome.PENDING:
        doc["message"] = "approval recorded; a second, distinct administrator must confirm"
        return _json(doc, status=202)
    return _json(doc)


async def _halts(request: Request, control: ControlPlane, principal: Principal) -> Response:
    state = control.halts.state
    return _json(
        {
            "object": "redline.halts",
            "version": control.halts.version,
            "halts": [
                {"scope": h.scope, "reason": h.reason, "by": h.by, "at": h.at} for h in state.halts
            ],
            "pending": [{"scope": p.scope, "by": p.by, "at": p.at} for p in state.pending],
        }
    )


async def _reload(request: Request, control: ControlPlane, principal: Principal) -> Response:
    result = await control.policy.reload(by=principal.id, trigger="admin")
    if not result.ok:
        return _json_error(
            422,
            f"policy reload rejected; policy {result.old_sha256} stays in force: {result.error}",
            code="redline_policy_rejected",
        )
    return _json(
        {
            "object": "redline.policy_reload",
            "ok": True,
            "changed": result.changed,
            "old_sha256": result.old_sha256,
            "new_sha256": result.new_sha256,
            "generation": result.generation,
        }
    )


async def _policy(request: Request, control: ControlPlane, principal: Principal) -> Response:
    policy = control.policy.current
    doc = policy_summary(policy)
    doc["generation"] = control.policy.holder.generation
    return _json(doc)


def policy_summary(policy: Policy) -> dict[str, JSONValue]:
    """The effective policy's hashes and a short summary (no clause texts)."""
    return {
        "object": "redline.policy",
        "sha256": policy.sha256,
        "floor_sha256": policy.floor_sha256,
        "overlay_sha256": policy.overlay_sha256,
        "schema_version": policy.schema_version,
        "clauses": [c.id for c in policy.clauses],
        "categories": [
            {
                "id": c.id,
                "review_threshold": c.review_threshold,
                "block_threshold": c.block_threshold,
                "floor": c.floor,
            }
            for c in policy.categories
        ],
        "review_rules": len(policy.review_rules),
        "routes": [r.model for r in policy.routes],
    }


async def _body(request: Request) -> dict[str, object]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_ADMIN_BODY:
            raise RequestError(f"admin request body exceeds {MAX_ADMIN_BODY} bytes")
    try:
        doc = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise RequestError("request body must be a JSON object")
    return doc


def _text(body: Mapping[str, object], key: str, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise RequestError(f"'{key}' is required and must be a string", param=key)
    if len(value) > MAX_REASON_CHARS:
        raise RequestError(f"'{key}' is longer than {MAX_REASON_CHARS} characters", param=key)
    return value


def _json(doc: Mapping[str, JSONValue], *, status: int = 200) -> Response:
    return Response(orjson.dumps(doc), status_code=status, media_type=JSON)


def _json_error(status: int, message: str, *, code: str) -> Response:
    body = error_body(message, type_="invalid_request_error", code=code)
    return Response(body, status_code=status, media_type=JSON)
