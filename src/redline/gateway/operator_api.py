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
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.domain import Principal
from redline.errors import RequestError
from redline.gateway.frame import JSON, endpoint, read_json, require_role
from redline.monitors import issue_token

if TYPE_CHECKING:
    from redline.gateway.app import Services

__all__ = ["operator_routes"]

_MAX_BODY = 64 * 1024


def operator_routes() -> list[Route]:
    """Routes to mount in the app."""
    return [
        Route("/redline/v1/admin/monitors", endpoint("admin.monitors", _monitors), methods=["GET"]),
        Route("/redline/v1/confirmations", endpoint("confirmations", _confirm), methods=["POST"]),
    ]


async def _monitors(
    request: Request, services: Services, principal: Principal, rid: str
) -> Response:
    await require_role(services, principal, "admin", "admin.monitors")
    subject = request.query_params.get("principal")
    if not subject:
        raise RequestError("query parameter 'principal' is required", param="principal")
    monitors = services.orchestrator.monitors
    doc = await monitors.snapshot(subject, request.query_params.get("tenant"))
    return Response(orjson.dumps(doc), media_type=JSON)


async def _confirm(request: Request, services: Services, human: Principal, rid: str) -> Response:
    if not {"operator", "admin"} & human.roles:
        await require_role(services, human, "operator", "confirmations")
    body = await read_json(request, _MAX_BODY)
    fields = {k: body.get(k) for k in ("principal", "tool", "arguments")}
    for name, value in fields.items():
        if not isinstance(value, str) or (name != "arguments" and not value):
            raise RequestError(f"'{name}' must be a string", param=name)
    ttl = body.get("ttl_s", 60)
    if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not 0 < ttl <= 120:
        raise RequestError("'ttl_s' must be a number in (0, 120]", param="ttl_s")
    issued = issue_token(
        services.orchestrator.monitors.confirmation_key,
        principal=str(fields["principal"]),
        tool=str(fields["tool"]),
        arguments=str(fields["arguments"]),
        now=time.time(),
        ttl_s=float(ttl),
    )
    await services.orchestrator.record(
        "confirmation",
        {
            "by": human.id,
            "for_principal": str(fields["principal"]),
            "tool": str(fields["tool"]),
            "token_id": issued.token_id,
            "expires_at": issued.expires_at,
        },
        rid,
    )
    doc = {"token": issued.token, "token_id": issued.token_id, "expires_at": issued.expires_at}
    return Response(orjson.dumps(doc), media_type=JSON)
