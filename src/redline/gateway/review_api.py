"""The requester's review endpoint and the review services of the web app.

``GET /redline/v1/reviews/{review_id}`` (same API key, or another key of the same tenant
cleared for the item's label) answers::

    {"id": "rev_…", "object": "redline.review", "status": "pending|approved|denied|expired",
     "kind": "review|override", "created_at": …, "expires_at": …, "decided_at": … | null,
     "approvals": 1, "approvals_required": 2, "answer_pending": false,
     "answer": {…the chat completion…} | null}

An item the caller may not read is a 404 exactly like an unknown id.
:func:`open_review_web` builds what this module and the console need
(``app.state.review``), once, in the app lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.clock import Clock, SystemClock, rfc3339
from redline.errors import GatewayError
from redline.gateway.console.sessions import SessionStore
from redline.gateway.errors import error_response_parts
from redline.gateway.identity import authenticate_request
from redline.review import (
    AuditSink,
    ReviewConfig,
    ReviewRuntime,
    ReviewState,
    ReviewStatus,
    RunApproved,
    open_review,
)
from redline.service import Authenticator
from redline.settings import Settings
from redline.store.keys import SqliteKeyStore

__all__ = ["ReviewWeb", "open_review_web", "review_api_routes"]

logger = logging.getLogger("redline.requests")
JSON = "application/json"


@dataclass(slots=True, kw_only=True)
class ReviewWeb:
    """Review services of the web app (``app.state.review``).

    ``keys`` is the console's own connection to the key store: a console session is
    re-checked against it on every request, so revoking a key ends its sessions.
    """

    runtime: ReviewRuntime
    authenticator: Authenticator
    keys: SqliteKeyStore
    clock: Clock
    sessions: SessionStore = field(default_factory=SessionStore)
    _sweeper: asyncio.Task[None] | None = None

    def start_sweeper(self) -> None:
        """Start the background expiry and purge sweep (stopped by :meth:`aclose`)."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self.runtime.maintain(self.clock))

    async def aclose(self) -> None:
        """Stop the sweep, close the review runtime and the key store connection."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.runtime.aclose()
        self.keys.close()


def open_review_web(
    settings: Settings,
    *,
    audit: AuditSink,
    config: ReviewConfig | None = None,
    run_approved: RunApproved | None = None,
    clock: Clock | None = None,
) -> ReviewWeb:
    """Open the review store (``reviews.db``) and the console's key store connection."""
    keys = SqliteKeyStore(settings.data_dir / "keys.db")
    runtime = open_review(settings.data_dir, audit=audit, config=config, run_approved=run_approved)
    return ReviewWeb(
        runtime=runtime,
        authenticator=Authenticator(keys),
        keys=keys,
        clock=clock or SystemClock(),
    )


def review_api_routes() -> list[Route]:
    """The requester-facing review routes."""
    return [Route("/redline/v1/reviews/{review_id}", _get_review, methods=["GET"])]


async def _get_review(request: Request) -> Response:
    web: ReviewWeb = request.app.state.review
    review_id = request.path_params["review_id"]
    try:
        principal = await authenticate_request(request, web.authenticator)
        status = await web.runtime.service.status(review_id, principal, now=web.clock.now())
    except GatewayError as exc:
        code, body = error_response_parts(exc)
        logger.info("review status review_id=%s status=%d", review_id[:64], code)
        return Response(body, status_code=code, media_type=JSON)
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
