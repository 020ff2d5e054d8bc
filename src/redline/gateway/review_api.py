"""The requester's review endpoint and the review services of the web app.

``GET /redline/v1/reviews/{review_id}`` (same API key, or another key of the same tenant
cleared for the item's label) answers::

    {"id": "rev_…", "object": "redline.review", "status": "pending|approved|denied|expired",
     "kind": "review|override", "created_at": …, "expires_at": …, "decided_at": … | null,
     "approvals": 1, "approvals_required": 2, "answer_pending": false,
     "answer": {…the chat completion…} | null}

An item the caller may not read is a 404 exactly like an unknown id.
:class:`ReviewWeb` holds what this module and the console need; the composition root
(:mod:`redline.bootstrap`) builds it once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.clock import Clock, rfc3339
from redline.domain import Principal
from redline.gateway.console.sessions import SessionStore
from redline.gateway.frame import JSON, endpoint
from redline.review import ReviewRuntime, ReviewState, ReviewStatus
from redline.service import Authenticator
from redline.service.ports import KeyStore

if TYPE_CHECKING:
    from redline.gateway.app import Services

__all__ = ["ReviewWeb", "review_api_routes", "status_body"]


@dataclass(slots=True, kw_only=True)
class ReviewWeb:
    """Review services of the web app.

    ``keys`` is read directly (no cache) by the console: a console session is re-checked
    against it on every request, so revoking a key ends its sessions.
    """

    runtime: ReviewRuntime
    authenticator: Authenticator
    keys: KeyStore
    clock: Clock
    sessions: SessionStore = field(default_factory=SessionStore)
    _sweeper: asyncio.Task[None] | None = None

    def start_sweeper(self) -> None:
        """Start the background expiry and purge sweep (stopped by :meth:`aclose`)."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self.runtime.maintain(self.clock))

    async def aclose(self) -> None:
        """Stop the sweep and close the review runtime."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.runtime.aclose()


def review_api_routes() -> list[Route]:
    """The requester-facing review routes."""
    return [
        Route(
            "/redline/v1/reviews/{review_id}",
            endpoint("review.status", _get_review),
            methods=["GET"],
        )
    ]


async def _get_review(
    request: Request, services: Services, principal: Principal, rid: str
) -> Response:
    web = services.review
    review_id = request.path_params["review_id"]
    status = await web.runtime.service.status(review_id, principal, now=web.clock.now())
    return Response(status_body(status), media_type=JSON)


def status_body(status: ReviewStatus) -> bytes:
    """The JSON body of a review status (module docstring)."""
    answer: object = None
    if status.answer is not None:
        try:
            answer = orjson.loads(status.answer)
        except orjson.JSONDecodeError:
            answer = {"error": {"message": "stored answer is not JSON", "type": "server_error"}}
    pending = status.state is ReviewState.APPROVED and status.answer is None
    return orjson.dumps(
        {
            "id": status.id,
            "object": "redline.review",
            "status": status.state.value,
            "kind": status.kind.value,
            "created_at": rfc3339(status.created_at),
            "expires_at": rfc3339(status.expires_at),
            "decided_at": rfc3339(status.decided_at) if status.decided_at else None,
            "approvals": status.approvals,
            "approvals_required": status.approvals_required,
            "answer_pending": pending and not status.answer_purged,
            "answer_purged": status.answer_purged,
            "answer": answer,
        }
    )
