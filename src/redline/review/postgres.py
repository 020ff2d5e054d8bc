"""``PostgresReviewQueue``: review items in the fleet database (``redline.review_items``).

The same document layout and compare-and-swap as :class:`~redline.review.sqlite.SqliteReviewQueue`
(``UPDATE … WHERE id = %s AND version = %s``), so an item held on one replica is listed,
read and decided on any other, and two reviewers deciding at once on two replicas cannot
both win. Bodies and answers are the opaque blobs :class:`~redline.review.crypto.BodyCipher`
makes: every replica must hold the same body key (the fleet checks its fingerprint at
start-up). The table is created by ``redline db upgrade``, never here.

Blocking calls run in :func:`asyncio.to_thread` on one connection guarded by a lock, re-opened
after a connection failure; every driver error becomes :class:`~redline.errors.StoreError`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import psycopg

from redline.errors import StoreError
from redline.review.model import ReviewItem, ReviewState
from redline.review.sqlite import item_from_json, item_to_json, micros, patch_item

__all__ = ["PostgresReviewQueue"]

T = TypeVar("T")
Conn = psycopg.Connection[tuple[object, ...]]


class PostgresReviewQueue:
    """The :class:`redline.review.service.ReviewQueue` on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._conn: Conn | None = None

    async def _call(self, work: Callable[[Conn], T]) -> T:
        def locked() -> T:
            with self._lock:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    self._conn = psycopg.connect(self.url, autocommit=True)
                return work(self._conn)

        try:
            return await asyncio.to_thread(locked)
        except psycopg.Error as exc:
            raise StoreError(f"review store (postgres): {exc}") from exc

    async def insert(self, item: ReviewItem, body: bytes) -> None:
        def work(db: Conn) -> None:
            db.execute(
                "INSERT INTO redline.review_items (id, tenant, state, created_us, expires_us,"
                " decided_us, version, item_json, body, answer)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL)",
                (
                    item.id,
                    item.tenant,
                    item.state.value,
                    micros(item.created_at),
                    micros(item.expires_at),
                    micros(item.decided_at) if item.decided_at else None,
                    item.version,
                    item_to_json(item),
                    body,
                ),
            )

        await self._call(work)

    async def get(self, review_id: str) -> ReviewItem | None:
        def work(db: Conn) -> bytes | None:
            row = db.execute(
                "SELECT item_json FROM redline.review_items WHERE id = %s", (review_id,)
            ).fetchone()
            return _blob(row[0]) if row else None

        raw = await self._call(work)
        return item_from_json(raw) if raw is not None else None

    async def update(self, item: ReviewItem, *, expected_version: int) -> bool:
        def work(db: Conn) -> bool:
            cursor = db.execute(
                "UPDATE redline.review_items SET state = %s, decided_us = %s, version = %s,"
                " item_json = %s WHERE id = %s AND version = %s",
                (
                    item.state.value,
                    micros(item.decided_at) if item.decided_at else None,
                    item.version,
                    item_to_json(item),
                    item.id,
                    expected_version,
                ),
            )
            return cursor.rowcount == 1

        return await self._call(work)

    async def pending(self) -> list[ReviewItem]:
        def work(db: Conn) -> list[bytes]:
            rows = db.execute(
                "SELECT item_json FROM redline.review_items WHERE state = %s"
                " ORDER BY created_us, id",
                (ReviewState.PENDING.value,),
            ).fetchall()
            return [_blob(row[0]) for row in rows]

        return [item_from_json(raw) for raw in await self._call(work)]

    async def body(self, review_id: str) -> bytes | None:
        return await self._column("SELECT body FROM redline.review_items WHERE id = %s", review_id)

    async def answer(self, review_id: str) -> bytes | None:
        return await self._column(
            "SELECT answer FROM redline.review_items WHERE id = %s", review_id
        )

    async def _column(self, query: str, review_id: str) -> bytes | None:
        def work(db: Conn) -> bytes | None:
            row = db.execute(query, (review_id,)).fetchone()
            return _blob(row[0]) if row and row[0] is not None else None

        return await self._call(work)

    async def store_answer(self, review_id: str, answer: bytes) -> bool:
        def work(db: Conn) -> bool:
            with db.transaction():
                row = db.execute(
                    "SELECT item_json FROM redline.review_items WHERE id = %s AND state = %s"
                    " FOR UPDATE",
                    (review_id, ReviewState.APPROVED.value),
                ).fetchone()
                raw = _blob(row[0]) if row else None
                item = item_from_json(raw) if raw is not None else None
                if raw is None or item is None or item.purged or item.answer_ready:
                    return False
                db.execute(
                    "UPDATE redline.review_items SET answer = %s, item_json = %s WHERE id = %s",
                    (answer, patch_item(raw, answer_ready=True), review_id),
                )
            return True

        return await self._call(work)

    async def purge(self, decided_before: datetime) -> list[str]:
        def work(db: Conn) -> list[str]:
            with db.transaction():
                rows = db.execute(
                    "SELECT id, item_json FROM redline.review_items WHERE decided_us IS NOT NULL"
                    " AND decided_us < %s AND (body IS NOT NULL OR answer IS NOT NULL)"
                    " FOR UPDATE",
                    (micros(decided_before),),
                ).fetchall()
                for review_id, raw in rows:
                    db.execute(
                        "UPDATE redline.review_items SET body = NULL, answer = NULL,"
                        " item_json = %s WHERE id = %s",
                        (patch_item(_blob(raw), purged=True), review_id),
                    )
            return [str(row[0]) for row in rows]

        return await self._call(work)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _blob(value: object) -> bytes:
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    raise StoreError("review store (postgres): a stored document is not bytes")
