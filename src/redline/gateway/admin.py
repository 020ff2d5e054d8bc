"""The admin API under ``/redline/v1/admin/``: kill switch and policy reload.

Routes: ``POST halt`` ``{"scope": "all"|"tenant:T"|"model:M", "reason": "..."}``,
``POST resume`` ``{"scope": ...}`` (two distinct administrators), ``GET halts``,
``POST policy/reload``, ``GET policy`` (effective policy sha256 and a summary).

Authentication is separate from user traffic: the bearer key must belong to a principal
with the ``admin`` role (``redline keys create --tenant ops --role admin``); any other key
gets 403 ``permission_error`` and the refusal is recorded. Errors are OpenAI-shaped. Every
admin action is an audit event: halts and resumes through :class:`HaltService`, reloads
through :class:`PolicyRuntime`, refused admin calls in the frame (``access_decision``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.domain import JSONValue, Principal
from redline.errors import RequestError
from redline.gateway.frame import JSON, endpoint, read_json, require_role
from redline.killswitch.service import HaltService
from redline.killswitch.state import ResumeOutcome
from redline.policy import Policy
from redline.service.policy_runtime import PolicyRuntime
from redline.service.ports import AuditSink
from redline.wire import error_body

if TYPE_CHECKING:
    from redline.gateway.app import Services

__all__ = ["ADMIN_ROLE", "PREFIX", "ControlPlane", "admin_routes"]

ADMIN_ROLE = "admin"
PREFIX = "/redline/v1/admin"
MAX_ADMIN_BODY = 16 * 1024
MAX_REASON_CHARS = 1000


@dataclass(slots=True, kw_only=True)
class ControlPlane:
    """The services behind the admin routes: kill switch, policy in force, audit sink."""

    halts: HaltService
    policy: PolicyRuntime
    audit: AuditSink


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
    async def run(request: Request, services: Services, principal: Principal, rid: str) -> Response:
        await require_role(services, principal, ADMIN_ROLE, "admin." + op)
        return await work(request, services.control, principal)

    return endpoint("admin." + op, run)


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


async def _body(request: Request) -> Mapping[str, object]:
    return await read_json(request, MAX_ADMIN_BODY)


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
