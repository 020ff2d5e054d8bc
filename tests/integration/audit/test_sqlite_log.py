"""AuditLog over SQLite: group commit, checkpoints, proofs, receipts, fail-closed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from redline.audit import (
    AuditLog,
    Batch,
    LogConfig,
    NoteSigner,
    SqliteLogStore,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_receipt,
)
from redline.audit.merkle import consistency_proof, inclusion_proof, leaf_hash
from redline.errors import AuditError, AuditStoreError, InconsistencyError

pytestmark = pytest.mark.anyio
FAST = LogConfig(batch_window=0.005, checkpoint_interval=3600)


async def test_appends_group_commit_and_prove(
    sqlite_store: SqliteLogStore, signer: NoteSigner
) -> None:
    log = await AuditLog.open(sqlite_store, signer, config=FAST)
    results = await asyncio.gather(
        *(log.append("request_decision", {"n": i}, request_id=f"req-{i}") for i in range(700))
    )
    assert sorted(r.index for r in results) == list(range(700))
    entries = [await log.entry(i) for i in range(700)]
    leaves = [leaf_hash(e) for e in entries]
    assert all(leaves[r.index] == r.leaf_hash for r in results)
    note = await log.checkpoint()
    head = open_checkpoint(note, [signer.verifier])
    assert head.size == 700
    for index in (0, 255, 256, 699):
        proof = await log.inclusion_proof(index)
        assert proof == inclusion_proof(leaves, index)
        verify_inclusion(index, 700, leaves[index], proof, head.root)
    assert await log.consistency_proof(300, 700) == consistency_proof(leaves, 300)
    receipt = await log.receipt_for_request("req-517")
    assert receipt.index == results[517].index
    verify_receipt(receipt, results[517].leaf_hash, [signer.verifier])
    with pytest.raises(AuditError, match="no audit event"):
        await log.receipt_for_request("nope")
    await log.close()


async def test_checkpoints_grow_consistently_and_survive_restart(
    sqlite_store: SqliteLogStore, signer: NoteSigner
) -> None:
    config = LogConfig(batch_window=0.005, checkpoint_interval=0.05)
    log = await AuditLog.open(sqlite_store, signer, config=config)
    await asyncio.gather(*(log.append("halt", {"i": i}) for i in range(10)))
    first = open_checkpoint(await log.checkpoint(), [signer.verifier])
    await asyncio.gather(*(log.append("resume", {"i": i}) for i in range(300)))
    await asyncio.sleep(0.3)  # the background checkpointer signs the grown tree
    second = open_checkpoint(await log.checkpoint(), [signer.verifier])
    assert (first.size, second.size) == (10, 310)
    verify_consistency(10, 310, first.root, second.root, await log.consistency_proof(10, 310))
    await log.close()
    reopened = await AuditLog.open(SqliteLogStore(sqlite_store.path), signer, config=FAST)
    assert reopened.size == 310
    result = await reopened.append("key_change", {"k": 1})
    assert result.index == 310
    await reopened.close()


async def test_append_validates_events(sqlite_store: SqliteLogStore, signer: NoteSigner) -> None:
    log = await AuditLog.open(sqlite_store, signer, config=FAST)
    with pytest.raises(AuditError, match="unknown audit event type"):
        await log.append("coffee", {})
    with pytest.raises(AuditError, match="over"):
        await log.append("halt", {"x": "y" * 70_000})
    with pytest.raises(AuditError, match="request_id differs"):
        await log.append("halt", {"request_id": "a"}, request_id="b")
    assert log.body_digest(b"prompt").startswith("hmac-sha256:")
    await log.close()
    with pytest.raises(AuditStoreError, match="not running"):
        await log.append("halt", {})


class FlakyStore(SqliteLogStore):
    """The real SQLite store with an outage switch (a fake at the LogStore seam)."""

    available = True

    def integrate(self, batch: Batch) -> None:
        if not self.available:
            raise AuditStoreError("disk unavailable")
        super().integrate(batch)


async def test_store_unavailable_fails_closed(tmp_path: Path, signer: NoteSigner) -> None:
    store = FlakyStore(tmp_path / "audit.db")
    log = await AuditLog.open(store, signer, config=FAST)
    await log.append("halt", {"ok": 1})
    store.available = False
    outcomes = await asyncio.gather(
        *(log.append("halt", {"i": i}) for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, AuditStoreError) for o in outcomes)
    store.available = True
    again = await log.append("halt", {"ok": 2})
    assert again.index == 1
    await log.close()


async def test_unwritable_database_fails_closed(tmp_path: Path, signer: NoteSigner) -> None:
    store = SqliteLogStore(tmp_path / "audit.db")
    log = await AuditLog.open(store, signer, config=FAST)
    await log.append("halt", {})
    await asyncio.to_thread(store.db.execute, "PRAGMA query_only=ON")
    with pytest.raises(AuditStoreError):
        await log.append("halt", {})
    await log.close()


async def test_refuses_a_store_rolled_back_behind_its_checkpoint(
    tmp_path: Path, signer: NoteSigner
) -> None:
    path = tmp_path / "audit.db"
    log = await AuditLog.open(SqliteLogStore(path), signer, config=FAST)
    await asyncio.gather(*(log.append("halt", {"i": i}) for i in range(5)))
    await log.checkpoint()
    await log.close()
    other = tmp_path / "other.db"
    log2 = await AuditLog.open(SqliteLogStore(other), signer, config=FAST)
    await asyncio.gather(*(log2.append("halt", {"j": i}) for i in range(3)))
    await log2.close()
    # Graft the 5-leaf checkpoint onto the 3-leaf store: a restore behind a signed head.
    bad = SqliteLogStore(other)
    bad.open()
    note = SqliteLogStore(path)
    note.open()
    cp = note.latest_checkpoint()
    assert cp is not None
    bad.save_checkpoint(5, cp, previous_size=None)
    bad.close()
    note.close()
    with pytest.raises(InconsistencyError, match="rolled back"):
        await AuditLog.open(SqliteLogStore(other), signer, config=FAST)


async def test_two_writers_on_one_file_cannot_fork(tmp_path: Path, signer: NoteSigner) -> None:
    path = tmp_path / "audit.db"
    a = await AuditLog.open(SqliteLogStore(path), signer, config=FAST)
    b = await AuditLog.open(SqliteLogStore(path), signer, config=FAST)
    await a.append("halt", {"a": 1})
    with pytest.raises(AuditStoreError, match="another writer"):
        await b.append("halt", {"b": 1})
    ok = await b.append("halt", {"b": 2})  # b reloads the tree and carries on after a's leaf
    assert ok.index == 1
    await a.close()
    await b.close()


async def test_checkpoint_without_key_is_refused(sqlite_store: SqliteLogStore) -> None:
    log = await AuditLog.open(sqlite_store, None, config=FAST)
    await log.append("halt", {})
    with pytest.raises(AuditError, match="no checkpoint"):
        await log.checkpoint()
    with pytest.raises(AuditError, match="no signed checkpoint covers"):
        await log.receipt(0)
    await log.close()


async def test_events_queued_together_share_one_commit(
    sqlite_store: SqliteLogStore, signer: NoteSigner
) -> None:
    """A request's decision and its response decision, appended together by the
    orchestrator, are made durable by one commit, in the order they were appended."""
    log = await AuditLog.open(sqlite_store, signer, config=FAST)
    commits: list[int] = []
    integrate = sqlite_store.integrate

    def counting(batch: Batch) -> None:
        commits.append(len(batch.entries))
        integrate(batch)

    sqlite_store.integrate = counting  # type: ignore[method-assign]
    for n in range(3):
        first, second = await asyncio.gather(
            log.append("request_decision", {"n": n}, request_id=f"req-{n}"),
            log.append("response_decision", {"n": n}, request_id=f"req-{n}"),
        )
        assert second.index == first.index + 1
    assert commits == [2, 2, 2]
    await log.close()
