"""Signed webhook on new holds and on decisions, so teams can wire their paging.

Each event is one ``POST`` of a JSON object ``{"event", "id", "timestamp", "data"}`` with
the headers::

    content-type: application/json
    x-redline-event: review.created | review.decided
    x-redline-timestamp: <unix seconds>
    x-redline-signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

A receiver recomputes the HMAC over the exact bytes it received, compares in constant time
and rejects timestamps too far from its clock (replay window): :func:`verify_signature` does
all three. Payloads carry ids, states, labels and categories, never request content and
never the rationale text (its SHA-256 only).

Delivery is best effort and in order: one background task posts the events one after
another in the order they happened (a receiver never sees an item's ``review.decided``
before its ``review.created``), failures and non-2xx answers are logged and dropped, and a
slow receiver cannot delay a decision (at most 256 events wait; more are dropped and
logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping

import httpx
import orjson

from redline.domain import JSONValue
from redline.errors import ConfigError
from redline.ids import new_id

__all__ = ["DEFAULT_TOLERANCE_S", "Webhook", "sign", "verify_signature"]

logger = logging.getLogger(__name__)

#: How far a receiver accepts a timestamp from its own clock, in seconds.
DEFAULT_TOLERANCE_S = 300
_MAX_IN_FLIGHT = 256


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``x-redline-signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: bytes,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether a received webhook is authentic and fresh (for receivers and tests)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


class Webhook:
    """Posts signed review events to one URL in the background."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """
        Raises:
            ConfigError: the URL is not http(s) or the secret is shorter than 16 bytes.
        """
        if not url.startswith(("http://", "https://")):
            raise ConfigError("the review webhook URL must be http(s)")
        if len(secret) < 16:
            raise ConfigError("the review webhook secret must be at least 16 bytes")
        self._url = url
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)
        # Created on first use, inside the running event loop.
        self._queue: asyncio.Queue[tuple[str, dict[str, JSONValue]]] | None = None
        self._sender: asyncio.Task[None] | None = None

    def notify(self, event: str, payload: Mapping[str, JSONValue]) -> None:
        """Queue one signed POST behind those already queued; drops (and logs) the event
        if the backlog is full."""
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=_MAX_IN_FLIGHT)
            self._sender = asyncio.ensure_future(self._deliver(self._queue))
        try:
            self._queue.put_nowait((event, dict(payload)))
        except asyncio.QueueFull:
            logger.warning("webhook backlog full; dropped event=%s", event)

    async def _deliver(self, queue: asyncio.Queue[tuple[str, dict[str, JSONValue]]]) -> None:
        while True:
            event, payload = await queue.get()
            try:
                await self._send(event, payload)
            except Exception:  # best effort: one bad event must not stop the rest
                logger.exception("webhook delivery crashed event=%s", event)
            finally:
                queue.task_done()

    async def _send(self, event: str, payload: Mapping[str, JSONValue]) -> None:
        timestamp = int(time.time())
        body = orjson.dumps(
            {"event": event, "id": new_id("evt"), "timestamp": timestamp, "data": dict(payload)}
        )
        headers = {
            "content-type": "application/json",
            "x-redline-event": event,
            "x-redline-timestamp": str(timestamp),
            "x-redline-signature": sign(self._secret, timestamp, body),
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            logger.warning("webhook delivery failed event=%s error=%s", event, type(exc).__name__)
            return
        if not response.is_success:
            logger.warning(
                "webhook receiver refused event=%s status=%d", event, response.status_code
            )

    async def drain(self) -> None:
        """Wait for every queued delivery."""
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self) -> None:
        """Finish queued deliveries, stop the sender and close the HTTP client."""
        await self.drain()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        await self._client.aclose()
