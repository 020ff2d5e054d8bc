"""``SqliteReviewQueue``: review items in ``DATA_DIR/reviews.db`` (stdlib sqlite3).

Durability comes from :func:`redline.store.sqlite.connect` (WAL, ``synchronous=FULL``).
Blocking calls run in :func:`asyncio.to_thread`; one lock serialises this process's use of
its connection, and the compare-and-swap in :meth:`SqliteReviewQueue.update`
(``UPDATE … WHERE id = ? AND version = ?``, one atomic statement) keeps several processes
(or several queue objects) on the same file correct: exactly one writer of a version wins.

The item itself is one JSON document (``item_json``) plus the columns queries need
(state, expiry, decision time, version). Bodies and answers are stored as the opaque
encrypted blobs :class:`redline.review.crypto.BodyCipher` makes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import orjson

from redline.domain import Action, Decision, Principal
from redline.errors import StoreError
from redline.policy.model import RuleKind
from redline.review.model import ReviewerDecision, ReviewItem, ReviewState
from redline.store.sqlite import connect

__all__ = ["SqliteReviewQueue", "item_from_json", "item_to_json", "micros", "patch_item"]

T = TypeVar("T")

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS review_items (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        state TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        expires_us INTEGER NOT NULL,
        decided_us INTEGER,
        version INTEGER NOT NULL,
        item_json BLOB NOT NULL,
        body BLOB,
        answer BLOB
    )
    """,
    "CREATE INDEX IF NOT EXISTS review_items_state ON review_items (state, created_us)",
    "CREATE INDEX IF NOT EXISTS review_items_decided ON review_items (decided_us)",
)


class SqliteReviewQueue:
    """The :class:`redline.review.service.ReviewQueue` on SQLite."""

    def __init__(self, path: Path) -> None:
        """Open (creating) the database.

        Raises:
            StoreError: the database cannot be opened or initialised.
        """
        self._lock = threading.Lock()
        try:
            self._conn = connect(path)
            for statement in _SCHEMA:
                self._conn.execute(statement)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open review store {path}: {exc}") from exc

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work(self._conn)

        try:
            return await asyncio.to_thread(locked)
        except sqlite3.Error as exc:
            raise StoreError(f"review store failed: {exc}") from exc

    async def insert(self, item: ReviewItem, body: bytes) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO review_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
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
        def work(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT item_json FROM review_items WHERE id = ?", (review_id,)
            ).fetchone()
            return row[0] if row else None

        raw = await self._call(work)
        return item_from_json(raw) if raw is not None else None

    async def update(self, item: ReviewItem, *, expected_version: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE review_items SET state = ?, decided_us = ?, version = ?, item_json = ?"
                " WHERE id = ? AND version = ?",
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
        def work(conn: sqlite3.Connection) -> list[bytes]:
            rows = conn.execute(
                "SELECT item_json FROM review_items WHERE state = ? ORDER BY created_us, id",
                (ReviewState.PENDING.value,),
            ).fetchall()
            return [row[0] for row in rows]

        return [item_from_json(raw) for raw in await self._call(work)]

    async def body(self, review_id: str) -> bytes | None:
        return await self._blob("body", review_id)

    async def answer(self, review_id: str) -> bytes | None:
        return await self._blob("answer", review_id)

    async def _blob(self, column: str, review_id: str) -> bytes | None:
        query = {
            "body": "SELECT body FROM review_items WHERE id = ?",
            "answer": "SELECT answer FROM review_items WHERE id = ?",
        }[column]

        def work(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(query, (review_id,)).fetchone()
            return row[0] if row else None

        return await self._call(work)

    async def store_answer(self, review_id: str, answer: bytes) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT item_json FROM review_items WHERE id = ? AND state = ?",
                    (review_id, ReviewState.APPROVED.value),
                ).fetchone()
                item = item_from_json(row[0]) if row else None
                if item is None or item.purged or item.answer_ready:
                    conn.execute("ROLLBACK")
                    return False
                conn.execute(
                    "UPDATE review_items SET answer = ?, item_json = ? WHERE id = ?",
                    (answer, patch_item(row[0], answer_ready=True), review_id),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return True

        return await self._call(work)

    async def purge(self, decided_before: datetime) -> list[str]:
        def work(conn: sqlite3.Connection) -> list[str]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute(
                    "SELECT id, item_json FROM review_items WHERE decided_us IS NOT NULL"
                    " AND decided_us < ? AND (body IS NOT NULL OR answer IS NOT NULL)",
                    (micros(decided_before),),
                ).fetchall()
                for review_id, raw in rows:
                    conn.execute(
                        "UPDATE review_items SET body = NULL, answer = NULL, item_json = ?"
                        " WHERE id = ?",
                        (patch_item(raw, purged=True), review_id),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return [row[0] for row in rows]

        return await self._call(work)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def micros(moment: datetime) -> int:
    """Microseconds since the epoch (exact, sortable)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dt(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def patch_item(raw: bytes, **flags: bool) -> bytes:
    data = orjson.loads(raw)
    data.update(flags)
    return orjson.dumps(data)


def item_to_json(item: ReviewItem) -> bytes:
    """The item as a JSON document (the ``item_json`` column)."""
    p, d = item.requester, item.decision
    return orjson.dumps(
        {
            "id": item.id,
            "request_id": item.request_id,
            "requester": {
                "id": p.id,
                "tenant": p.tenant,
                "roles": sorted(p.roles),
                "clearance": p.clearance,
                "nationality": p.nationality,
                "read_ins": sorted(p.read_ins),
                "need_to_know": sorted(p.need_to_know),
            },
            "label_banner": item.label_banner,
            "kind": item.kind.value,
            "approvals_required": item.approvals_required,
            "decision": {
                "action": d.action.value,
                "categories": list(d.categories),
                "clauses": list(d.clauses),
                "scores": dict(d.scores),
                "evidence": list(d.evidence),
                "policy_sha256": d.policy_sha256,
                "reason": d.reason,
            },
            "state": item.state.value,
            "created_us": micros(item.created_at),
            "expires_us": micros(item.expires_at),
            "decided_us": micros(item.decided_at) if item.decided_at else None,
            "decisions": [
                {
                    "reviewer_id": r.reviewer_id,
                    "approve": r.approve,
                    "rationale": r.rationale,
                    "at_us": micros(r.at),
                }
                for r in item.decisions
            ],
            "version": item.version,
            "answer_ready": item.answer_ready,
            "purged": item.purged,
        }
    )


def item_from_json(raw: bytes) -> ReviewItem:
    """Inverse of :func:`item_to_json`."""
    data = orjson.loads(raw)
    p, d = data["requester"], data["decision"]
    return ReviewItem(
        id=data["id"],
        request_id=data["request_id"],
        requester=Principal(
            id=p["id"],
            tenant=p["tenant"],
            roles=frozenset(p["roles"]),
            clearance=p["clearance"],
            nationality=p["nationality"],
            read_ins=frozenset(p["read_ins"]),
            need_to_know=frozenset(p["need_to_know"]),
        ),
        label_banner=data["label_banner"],
        kind=RuleKind(data["kind"]),
        approvals_required=data["approvals_required"],
        decision=Decision(
            action=Action(d["action"]),
            categories=tuple(d["categories"]),
            clauses=tuple(d["clauses"]),
            scores={k: float(v) for k, v in d["scores"].items()},
            evidence=tuple(d["evidence"]),
            policy_sha256=d["policy_sha256"],
            reason=d["reason"],
        ),
        state=ReviewState(data["state"]),
        created_at=_dt(data["created_us"]),
        expires_at=_dt(data["expires_us"]),
        decided_at=_dt(data["decided_us"]) if data["decided_us"] is not None else None,
        decisions=tuple(
            ReviewerDecision(
                reviewer_id=r["reviewer_id"],
                approve=r["approve"],
                rationale=r["rationale"],
                at=_dt(r["at_us"]),
            )
            for r in data["decisions"]
        ),
        version=data["version"],
        answer_ready=data["answer_ready"],
        purged=data["purged"],
    )
