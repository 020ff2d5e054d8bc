"""The read-only oversight routes (role ``auditor``).

* ``GET /redline/v1/oversight/report``: the oversight report (HTML) computed live from the
  audit log up to its latest signed checkpoint: the same figures and layout as
  ``redline report`` on an export of that checkpoint;
* ``GET /redline/v1/oversight/receipts/{request_id}``: the signed receipt
  (``c2sp.org/tlog-proof@v1``) of the last decision logged for a request id, as a download;
  404 ``redline_receipt_not_found`` when none is logged.

A principal without the role gets 403 (recorded in the audit log by ``require_role``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.domain import Principal
from redline.errors import ReceiptNotFound
from redline.gateway.frame import endpoint, require_role
from redline.ids import is_valid_request_id

if TYPE_CHECKING:
    from redline.gateway.app import Services

__all__ = ["AUDITOR_ROLE", "oversight_routes"]

AUDITOR_ROLE = "auditor"
PREFIX = "/redline/v1/oversight"
# The report is static HTML: inline styles and SVG, no scripts, nothing fetched.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def oversight_routes() -> list[Route]:
    """The auditor's routes."""
    return [
        Route(PREFIX + "/report", endpoint("oversight.report", _report), methods=["GET"]),
        Route(
            PREFIX + "/receipts/{request_id}",
            endpoint("oversight.receipt", _receipt),
            methods=["GET"],
        ),
    ]


async def _report(request: Request, services: Services, principal: Principal, rid: str) -> Response:
    await require_role(services, principal, AUDITOR_ROLE, "oversight.report")
    body = await services.oversight.report_html()
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"cache-control": "no-store", "content-security-policy": _CSP},
    )


async def _receipt(
    request: Request, services: Services, principal: Principal, rid: str
) -> Response:
    await require_role(services, principal, AUDITOR_ROLE, "oversight.receipt")
    request_id = request.path_params["request_id"]
    if not is_valid_request_id(request_id):
        raise ReceiptNotFound("not a request id")
    body = await services.oversight.receipt(request_id)
    return Response(
        body,
        media_type="text/plain; charset=utf-8",
        headers={
            "cache-control": "no-store",
            "content-disposition": f'attachment; filename="{request_id}.tlog-proof"',
        },
    )
