"""Benchmark of the audit log (AUDIT_LOG.md §3 targets).

Measures, and writes to ``docs/benchmarks/audit_log.md``:

* appends/s through ``AuditLog.append`` with durable group commit (256 events / 50 ms),
  SQLite (WAL, synchronous=FULL) and PostgreSQL (replica queue + sequencer);
* inclusion-proof latency at N entries (p50/p99; target p50 <= 2 ms at 1M);
* export + full offline verification time of N entries (target <= 60 s at 1M).

Usage: ``python benchmarks/audit_log.py [--entries N] [--pg-entries M] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from redline.audit import (
    AuditLog,
    LogConfig,
    NoteSigner,
    PostgresLogStore,
    SqliteLogStore,
    export_tiles,
    generate_signer,
    verify_export,
)
from redline.audit.store import LogStore

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PAYLOAD = {
    "decision": "allow",
    "rule_ids": ["RL1.3@2", "RL2.1@1"],
    "model": "gpt-x",
    "prompt_sha256": "hmac-sha256:" + "ab" * 32,
    "output_sha256": "hmac-sha256:" + "cd" * 32,
}


async def _fill(
    store: LogStore, entries: int, signer: NoteSigner, workers: int = 2048
) -> tuple[float, AuditLog]:
    log = await AuditLog.open(store, signer, config=LogConfig(append_timeout=120))
    per, extra = divmod(entries, workers)

    async def worker(w: int) -> None:
        for n in range(per + (1 if w < extra else 0)):
            await log.append("request_decision", PAYLOAD, request_id=f"{w}-{n}")

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    elapsed = time.perf_counter() - start
    await log.checkpoint()
    return entries / elapsed, log


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def _proofs(log: AuditLog, size: int, count: int = 1000) -> tuple[float, float]:
    rng = random.Random(7)
    samples = []
    for _ in range(count):
        index = rng.randrange(size)
        start = time.perf_counter()
        await log.inclusion_proof(index, size)
        samples.append((time.perf_counter() - start) * 1000)
    return _percentiles(samples)


async def _sqlite(entries: int, work: Path) -> dict[str, float]:
    store = SqliteLogStore.in_data_dir(work / "data")
    signer = generate_signer("bench.example/audit")
    rate, log = await _fill(store, entries, signer)
    p50, p99 = await _proofs(log, entries)
    await log.close()
    reader = SqliteLogStore.in_data_dir(work / "data")
    reader.open()
    start = time.perf_counter()
    export_tiles(reader, work / "export")
    export_s = time.perf_counter() - start
    reader.close()
    start = time.perf_counter()
    report = verify_export(work / "export", [signer.verifier])
    verify_s = time.perf_counter() - start
    if not report.valid:
        raise SystemExit(f"export did not verify: {report.findings}")
    return {"rate": rate, "p50": p50, "p99": p99, "export": export_s, "verify": verify_s}


async def _postgres(entries: int) -> float:
    schema = f"redline_audit_bench_{uuid.uuid4().hex[:8]}"
    store = PostgresLogStore(PG_URL, schema=schema)
    try:
        rate, log = await _fill(store, entries, generate_signer("bench.example/pg"))
        await log.close()
    finally:
        cleanup = PostgresLogStore(PG_URL, schema=schema)
        cleanup.unsafe_drop_schema()
        cleanup.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--pg-entries", type=int, default=None, help="default: min(N, 200k)")
    parser.add_argument("--out", default="docs/benchmarks/audit_log.md")
    args = parser.parse_args()
    pg_entries = args.pg_entries or min(args.entries, 200_000)
    with tempfile.TemporaryDirectory() as tmp:
        lite = asyncio.run(_sqlite(args.entries, Path(tmp)))
    pg_rate = asyncio.run(_postgres(pg_entries))
    rows = [
        (
            "SQLite appends/s (WAL, synchronous=FULL, group commit 256/50 ms)",
            f"{lite['rate']:,.0f}",
            ">= 20,000",
        ),
        (
            f"PostgreSQL appends/s (queue + sequencer, {pg_entries:,} entries)",
            f"{pg_rate:,.0f}",
            "-",
        ),
        (
            f"inclusion proof at {args.entries:,} (p50 / p99, via AuditLog)",
            f"{lite['p50']:.2f} / {lite['p99']:.2f} ms",
            "p50 <= 2 ms",
        ),
        (f"export of {args.entries:,} entries to tlog-tiles", f"{lite['export']:.1f} s", "-"),
        (
            f"full offline verification of {args.entries:,} entries",
            f"{lite['verify']:.1f} s",
            "<= 60 s",
        ),
    ]
    lines = [
        "# Audit log benchmark",
        "",
        f"`python benchmarks/audit_log.py --entries {args.entries}` on this machine "
        "(records of ~330 bytes, 2,048 concurrent appenders).",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
