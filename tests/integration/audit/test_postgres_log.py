"""AuditLog over real PostgreSQL: replicas, one sequencer, CAS fencing, failover, fail-closed."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import psycopg
import pytest

from redline.audit import (
    AuditLog,
    Batch,
    LogConfig,
    NoteSigner,
    PostgresLogStore,
    export_tiles,
    open_checkpoint,
    verify_export,
    verify_receipt,
)
from redline.audit.merkle import leaf_hash
from redline.errors import AuditError, AuditStoreError

from .conftest import PG_URL

pytestmark = pytest.mark.anyio
FAST = LogConfig(
    batch_window=0.005, checkpoint_interval=3600, poll_interval=0.005, append_timeout=10
)


async def test_replicas_share_one_tree(pg_schema: str, signer: NoteSigner, tmp_path: Path) -> None:
    a = await AuditLog.open(PostgresLogStore(PG_URL, schema=pg_schema), signer, config=FAST)
    b = await AuditLog.open(PostgresLogStore(PG_URL, schema=pg_schema), signer, config=FAST)
    results = await asyncio.gather(
        *(
            log.append("access_decision", {"i": i}, request_id=f"q{i}")
            for i in range(300)
            for log in (a, b)
        )
    )
    assert sorted(r.index for r in results) == list(range(600))
    for log in (a, b):  # the elected sequencer signs; the other replica cannot
        with contextlib.suppress(AuditError):
            await log.checkpoint()
    notes = [await a.checkpoint(), await b.checkpoint()]
    heads = [open_checkpoint(n, [signer.verifier]) for n in notes]
    assert max(h.size for h in heads) == 600
    leader = a if heads[0].size == 600 else b
    receipt = await leader.receipt_for_request("q7")
    leaf = leaf_hash(await leader.entry(receipt.index))
    verify_receipt(receipt, leaf, [signer.verifier])
    await a.close()
    await b.close()
    store = PostgresLogStore(PG_URL, schema=pg_schema)
    store.open()
    export_tiles(store, tmp_path / "export")
    store.close()
    report = verify_export(tmp_path / "export", [signer.verifier], receipts=[receipt.encode()])
    assert report.valid, report.findings
    assert report.size == 600


async def test_failover_to_another_replica(pg_schema: str, signer: NoteSigner) -> None:
    a = await AuditLog.open(PostgresLogStore(PG_URL, schema=pg_schema), signer, config=FAST)
    first = await a.append("halt", {"x": 1})
    b = await AuditLog.open(PostgresLogStore(PG_URL, schema=pg_schema), signer, config=FAST)
    await a.close()  # the leader goes away; its advisory lock is released
    second = await b.append("resume", {"x": 2})
    assert (first.index, second.index) == (0, 1)
    head = open_checkpoint(await b.checkpoint(), [signer.verifier])
    assert head.size == 2
    await b.close()


async def test_stale_sequencer_cannot_fork(pg_schema: str) -> None:
    one = PostgresLogStore(PG_URL, schema=pg_schema)
    two = PostgresLogStore(PG_URL, schema=pg_schema)
    one.open()
    two.open()

    def batch(entry: bytes) -> Batch:
        return Batch(
            old_size=0, entries=[entry], leaf_hashes=[leaf_hash(entry)], nodes=[], request_ids=[]
        )

    one.integrate(batch(b"a"))
    with pytest.raises(AuditStoreError, match="stale sequencer"):
        two.integrate(batch(b"b"))
    assert two.size() == 1
    assert two.entries(0, 1) == [b"a"]
    with pytest.raises(AuditStoreError):
        two.save_checkpoint(1, b"note", previous_size=5)
    one.close()
    two.close()


async def test_pending_events_are_taken_once(pg_schema: str) -> None:
    store = PostgresLogStore(PG_URL, schema=pg_schema)
    store.open()
    ids = store.enqueue([(b"e1", "r1"), (b"e2", None)])
    events = store.pending(10)
    assert [e.pending_id for e in events] == ids
    entries = [e.entry for e in events]
    store.integrate(
        Batch(
            old_size=0,
            entries=entries,
            leaf_hashes=[leaf_hash(e) for e in entries],
            nodes=[],
            request_ids=[("r1", 0)],
            pending_ids=ids,
        )
    )
    assert store.pending(10) == []
    assert store.integrated(ids) == {ids[0]: (0, leaf_hash(b"e1")), ids[1]: (1, leaf_hash(b"e2"))}
    with pytest.raises(AuditStoreError, match="another sequencer"):
        store.integrate(
            Batch(
                old_size=2,
                entries=[b"e1"],
                leaf_hashes=[leaf_hash(b"e1")],
                nodes=[],
                request_ids=[],
                pending_ids=ids[:1],
            )
        )
    assert store.size() == 2
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        store._db().execute(f"UPDATE {pg_schema}.leaves SET entry = 'x'")  # noqa: S608
    store.close()


async def test_database_unreachable_fails_closed(signer: NoteSigner) -> None:
    with pytest.raises(AuditStoreError):
        await AuditLog.open(PostgresLogStore("postgresql://postgres@127.0.0.1:1/test"), signer)


async def test_connection_lost_fails_closed(pg_schema: str, signer: NoteSigner) -> None:
    store = PostgresLogStore(PG_URL, schema=pg_schema)
    log = await AuditLog.open(store, signer, config=FAST)
    await log.append("halt", {})
    # The database goes away: the session dies and reconnecting fails.
    store.url = "postgresql://postgres@127.0.0.1:1/test"
    pid = store._db().info.backend_pid
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(AuditStoreError):
        await log.append("halt", {"after": "outage"})
    store.url = PG_URL  # the database is back
    recovered = await log.append("halt", {"after": "reconnect"})
    assert recovered.index >= 1
    await log.close()
