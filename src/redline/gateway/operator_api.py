"""Operator routes for the cross-request monitors.

* ``GET /redline/v1/admin/monitors?principal=ID[&tenant=T]`` (role ``admin``): the current
  window counts of a principal (distinct persons per window, status ok/review/block).
* ``POST /redline/v1/confirmations`` (role ``operator`` or ``admin``) with
  ``{"principal", "tool", "arguments", "ttl_s"?}``: a human confirms one effector call of an
  agent; the answer is a signed, short-lived, single-use token the agent sends in the
  ``x-redline-human-confirmation`` header. Issuing is an audit event naming the human.
"""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.errors import GatewayError, RequestError
from redline.gateway.errors import error_response_parts
from redline.gateway.identity import authenticate_request
from redline.gateway.openai_wire import error_body
from redline.ids import new_request_id
from redline.monitors import issue_token

__all__ = ["operator_routes"]

JSON = "application/json"
_MAX_BODY = 64 * 1024


def operator_routes() -> list[Route]:
    """Routes to mount in the app."""
    return [
        Route("/redline/v1/admin/monitors", _monitors, methods=["GET"]),
        Route("/redline/v1/confirmations", _confirm, methods=["POST"]),
    ]


async def _monitors(request: Request) -> Response:
    services = request.app.state.services
    try:
        principal = await authenticate_request(request, services.authenticator)
        if "admin" not in principal.roles:
            return _forbidden("admin role required")
        subject = request.query_params.get("principal")
        if not subject:
            raise RequestError("query parameter 'principal' is required", param="principal")
        doc = await services.gateway.monitors.snapshot(subject, request.query_params.get("tenant"))
    except GatewayError as exc:
        status, body = error_response_parts(exc)
        return Response(body, status_code=status, media_type=JSON)
    return Response(orjson.dumps(doc), media_type=JSON)


async def _confirm(request: Request) -> Response:
    services = request.app.state.services
    try:
        human = await authenticate_request(request, services.authenticator)
        if not {"operator", "admin"} & human.roles:
            return _forbidden("operator role required to confirm an effector call")
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            raise RequestError("confirmation request too large")
        try:
            body = orjson.loads(raw or b"null")
        except orjson.JSONDecodeError:
            raise RequestError("the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        fields = {k: body.get(k) for k in ("principal", "tool", "arguments")}
        for name, value in fields.items():
            if not isinstance(value, str) or (name != "arguments" and not value):
                raise RequestError(f"'{name}' must be a string", param=name)
        ttl = body.get("ttl_s", 60)
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not 0 < ttl <= 120:
            raise RequestError("'ttl_s' must be a number in (0, 120]", param="ttl_s")
        issued = issue_token(
            services.gateway.monitors.confirmation_key,
            principal=str(fields["principal"]),
            tool=str(fields["tool"]),
            arguments=str(fields["arguments"]),
            now=time.time(),
            ttl_s=float(ttl),
        )
        await services.gateway.record(
            "confirmation",
            {
                "by": human.id,
                "for_principal": str(fields["principal"]),
                "tool": str(fields["tool"]),
                "token_id": issued.token_id,
                "expires_at": issued.expires_at,
            },
            new_request_id(),
        )
    except GatewayError as exc:
        status, body_bytes = error_response_parts(exc)
        return Response(body_bytes, status_code=status, media_type=JSON)
    doc = {"token": issued.token, "token_id": issued.token_id, "expires_at": issued.expires_at}
    return Response(orjson.dumps(doc), media_type=JSON)


def _forbidden(message: str) -> Response:
    body = error_body(message, type_="permission_error", code="permission_denied")
    return Response(body, status_code=403, media_type=JSON)
