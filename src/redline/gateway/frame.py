"""The one HTTP frame every JSON route runs in.

:func:`endpoint` wraps a handler with what every route needs, written once: a request id
(the client's ``x-request-id`` if well-formed, else a new one) echoed in the response,
authentication (API key or client certificate) to a :class:`Principal`, the error tree
mapped to an OpenAI-shaped body (``gateway/errors.py``), the ASGI error boundary (no
traceback reaches a client), one structured log line without content (its fields passed as
``extra``: JSON or text per ``[observability] log_format``), and the request's root span
(``<method> <op>``, continuing a client's ``traceparent``) with an ``auth`` child.

:func:`read_body` / :func:`read_json` read a body within a size bound without reading past
it; :func:`require_role` refuses a principal without a role (and records the refusal).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response

from redline.domain import JSONObject, Principal
from redline.errors import AccessDenied, AuditError, GatewayError, RequestError, RequestTooLarge
from redline.gateway.errors import error_response_parts
from redline.gateway.identity import authenticate_request
from redline.ids import is_valid_request_id, new_request_id
from redline.service.orchestrator import access_payload
from redline.wire import error_body

if TYPE_CHECKING:
    from redline.gateway.app import Services

__all__ = ["JSON", "Work", "endpoint", "read_body", "read_json", "require_role", "services_of"]

logger = logging.getLogger("redline.requests")
JSON = "application/json"

Work = Callable[[Request, "Services", Principal, str], Awaitable[Response]]


def services_of(request: Request) -> Services:
    """The services the app was built with."""
    services: Services = request.app.state.services
    return services


def endpoint(op: str, work: Work) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette handler running ``work(request, services, principal, request_id)``."""

    async def handler(request: Request) -> Response:
        started = time.perf_counter()
        supplied = request.headers.get("x-request-id")
        rid = supplied if supplied and is_valid_request_id(supplied) else new_request_id()
        services = services_of(request)
        tracing = services.tracing
        who = "-"
        tenant = "-"
        with tracing.server_span(f"{request.method} {op}", request.headers) as span:
            span.set_attribute("redline.request_id", rid)
            span.set_attribute("redline.op", op)
            try:
                with tracing.span("auth"):
                    principal = await authenticate_request(
                        request, services.authenticator, services.certificates
                    )
                who, tenant = principal.id, principal.tenant
                response = await work(request, services, principal, rid)
            except GatewayError as exc:
                status, body = error_response_parts(exc)
                response = Response(body, status_code=status, media_type=JSON)
                span.set_attribute("redline.error", type(exc).__name__)
            except Exception:  # the ASGI error boundary: no traceback reaches a client
                logger.exception("unhandled error", extra={"request_id": rid, "op": op})
                body = error_body("internal error", type_="server_error", code="internal_error")
                response = Response(body, status_code=500, media_type=JSON)
            span.set_attribute("http.response.status_code", response.status_code)
        response.headers["x-request-id"] = rid
        logger.info(
            "request",
            extra={
                "request_id": rid,
                "op": op,
                "principal": who,
                "tenant": tenant,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response

    return handler


async def read_body(request: Request, limit: int) -> bytes:
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


async def read_json(request: Request, limit: int) -> JSONObject:
    """A bounded JSON object body (an empty body is ``{}``)."""
    raw = await read_body(request, limit)
    try:
        doc = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise RequestError("request body must be a JSON object")
    return doc


async def require_role(services: Services, principal: Principal, role: str, op: str) -> None:
    """Refuse (403, recorded in the audit log) unless ``principal`` has ``role``."""
    if role in principal.roles:
        return
    payload = access_payload(
        principal, label="", allowed=False, reason=f"{role} role required", operation=op
    )
    try:
        await services.control.audit.record("access_decision", payload, request_id=new_request_id())
    except AuditError as exc:  # the refusal stands either way
        logger.error("refused call not audited: %s", exc)
    raise AccessDenied(f"this endpoint requires an API key with the '{role}' role")
