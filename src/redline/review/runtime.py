"""Assemble the review package from settings: :func:`open_review` and :class:`ReviewRuntime`.

The web layer calls :func:`open_review` once in its lifespan and :meth:`ReviewRuntime.aclose`
on shutdown. :meth:`ReviewRuntime.maintain` is the background sweep that expires due items
and purges content past its retention (every ``interval_s`` seconds).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from redline.clock import Clock
from redline.errors import GatewayError
from redline.review.crypto import BodyCipher, load_or_create_key
from redline.review.service import AuditSink, ReviewQueue, ReviewService, RunApproved
from redline.review.sqlite import SqliteReviewQueue
from redline.review.webhook import Webhook

__all__ = ["ClosableReviewQueue", "ReviewConfig", "ReviewRuntime", "open_review"]

logger = logging.getLogger(__name__)


class ClosableReviewQueue(ReviewQueue, Protocol):
    """A review queue the runtime closes on shutdown (SQLite or PostgreSQL)."""

    def close(self) -> None:
        """Release the store."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewConfig:
    """Review settings; the defaults suit the embedded single-node gateway.

    Attributes:
        body_key: the 32-byte AES key for stored bodies; ``None`` = key file in the data dir.
        retention_s: how long request bodies and answers are kept after a decision.
        webhook_url: where to POST signed events; ``None`` = no webhook.
        webhook_secret: the HMAC key of the webhook (required with a URL).
        sweep_interval_s: how often due items are expired and old content purged.
    """

    body_key: bytes | None = field(default=None, repr=False)
    retention_s: int = 7 * 24 * 3600
    webhook_url: str | None = None
    webhook_secret: bytes | None = field(default=None, repr=False)
    sweep_interval_s: float = 30.0


@dataclass(slots=True, kw_only=True)
class ReviewRuntime:
    """The review service and what must be closed with it."""

    service: ReviewService
    queue: ClosableReviewQueue
    webhook: Webhook | None
    sweep_interval_s: float

    async def maintain(self, clock: Clock) -> None:
        """Expire due items and purge old content forever (run as a task; cancel to stop)."""
        while True:
            try:
                await self.service.expire_due(clock.now())
                await self.service.purge_due(clock.now())
            except GatewayError as exc:  # keep sweeping; the next round retries
                logger.warning("review sweep failed error=%s", type(exc).__name__)
            await asyncio.sleep(self.sweep_interval_s)

    async def aclose(self) -> None:
        """Finish background work and close the store and the webhook client."""
        await self.service.drain()
        if self.webhook is not None:
            await self.webhook.aclose()
        self.queue.close()


def open_review(
    data_dir: Path,
    *,
    audit: AuditSink,
    config: ReviewConfig | None = None,
    run_approved: RunApproved | None = None,
    queue: ClosableReviewQueue | None = None,
) -> ReviewRuntime:
    """Open ``data_dir/reviews.db`` (or use ``queue``, the fleet's) and the body key, and
    build the service.

    Raises:
        ConfigError: bad key, key file or webhook settings.
        StoreError: the database cannot be opened.
    """
    config = config or ReviewConfig()
    key = config.body_key or load_or_create_key(data_dir / "review-body.key")
    webhook = None
    if config.webhook_url:
        webhook = Webhook(config.webhook_url, config.webhook_secret or b"")
    if queue is None:
        queue = SqliteReviewQueue(data_dir / "reviews.db")
    service = ReviewService(
        queue,
        cipher=BodyCipher(key),
        audit=audit,
        notifier=webhook,
        run_approved=run_approved,
        retention_s=config.retention_s,
    )
    return ReviewRuntime(
        service=service, queue=queue, webhook=webhook, sweep_interval_s=config.sweep_interval_s
    )
