"""A fleet on this machine: throughput of 1, 2 and 3 replicas behind HAProxy, and how long
the audit sequencer takes to fail over when the replica holding it is killed (SIGKILL).

Everything is real: a fresh PostgreSQL database, Redis, ``redline serve`` replicas and the
distribution's HAProxy, started by this script (tests/support/fleet.py). The load is allowed
chat requests to the built-in echo model, closed loop, through the load balancer; every
answer is acknowledged only once its audit entry is integrated in the one log.

Run: .venv/bin/python benchmarks/fleet.py [--seconds 10] [--concurrency 32] [--failovers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _util import RawClient, percentile, write_section
from tests.support.fleet import Fleet, haproxy, running_fleet
from tests.support.servers import redline_serve_process, subprocess_env

BODY = (
    b'{"model":"redline-echo","messages":[{"role":"user","content":'
    b'"How many pallets of MREs fit in a C-130 for the exercise next week?"}]}'
)


async def run_load(
    url: str, key: str, seconds: float, concurrency: int
) -> tuple[int, int, list[float]]:
    """Closed loop for ``seconds``: (acknowledged, failed, latencies in seconds)."""
    host, port = url.removeprefix("http://").split(":")
    headers = {"authorization": f"Bearer {key}"}
    latencies: list[float] = []
    failed = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def worker() -> None:
        nonlocal failed
        client = RawClient(host, int(port))
        while loop.time() < deadline:
            started = loop.time()
            try:
                status, _, _ = await client.post("/v1/chat/completions", BODY, headers)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                failed += 1
                await client.close()
                client = RawClient(host, int(port))
                continue
            if status == 200:
                latencies.append(loop.time() - started)
            else:
                failed += 1
        await client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), failed, latencies


def audit_size(url: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute("SELECT size FROM redline_audit.state").fetchone()
    return int(row[0]) if row else 0


def throughput(
    fleet: Fleet, key: str, n: int, seconds: float, concurrency: int, root: Path
) -> dict[str, float]:
    backends = {r.name: r.url for r in list(fleet.replicas.values())[:n]}
    with haproxy(backends, root / f"lb{n}") as lb:
        asyncio.run(run_load(lb, key, 2.0, concurrency))  # warm-up
        before = audit_size(fleet.database_url)
        ok, failed, lat = asyncio.run(run_load(lb, key, seconds, concurrency))
        grown = audit_size(fleet.database_url) - before
    return {
        "replicas": n,
        "rps": ok / seconds,
        "failed": failed,
        "p50": percentile(lat, 50) * 1000,
        "p99": percentile(lat, 99) * 1000,
        "entries_per_s": grown / seconds,
    }


def embedded(key_dir: Path, seconds: float, concurrency: int, root: Path) -> dict[str, float]:
    """The same load on one embedded process (SQLite, no fleet) behind the same HAProxy."""
    env = subprocess_env(REDLINE_DATA_DIR=str(key_dir), REDLINE_LOG_LEVEL="warning")
    with redline_serve_process(env) as served:
        found = [line for line in served.startup_output.splitlines() if "rl_" in line]
        key = found[0].strip()
        with haproxy({"embedded": served.url}, root / "lb-embedded") as lb:
            asyncio.run(run_load(lb, key, 2.0, concurrency))
            ok, failed, lat = asyncio.run(run_load(lb, key, seconds, concurrency))
    return {
        "replicas": 0,
        "rps": ok / seconds,
        "failed": failed,
        "p50": percentile(lat, 50) * 1000,
        "p99": percentile(lat, 99) * 1000,
        "entries_per_s": 2 * ok / seconds,
    }


def failover(fleet: Fleet, key: str, root: Path, round_no: int) -> dict[str, float]:
    """Kill the sequencer under light load; time until another replica holds the lock and
    until the log grows again."""
    backends = {r.name: r.url for r in fleet.replicas.values()}
    with haproxy(backends, root / f"failover{round_no}") as lb:
        result: dict[str, float] = {}
        load = threading.Thread(
            target=lambda: result.update(
                zip(("ok", "failed"), asyncio.run(run_load(lb, key, 8.0, 4))[:2], strict=True)
            ),
            daemon=True,
        )
        load.start()
        time.sleep(2.0)
        leader = fleet.sequencer_pid()
        victim = next(r for r in fleet.replicas.values() if r.pid == leader)
        size = audit_size(fleet.database_url)
        killed = time.monotonic()
        fleet.kill9(victim)
        lock_at = grow_at = None
        while lock_at is None or grow_at is None:
            now = time.monotonic()
            if now - killed > 60:
                raise RuntimeError("no failover within 60 s")
            if lock_at is None:
                holder = fleet.sequencer_pid()
                if holder is not None and holder != leader:
                    lock_at = now
            if grow_at is None and lock_at is not None and audit_size(fleet.database_url) > size:
                grow_at = now
            time.sleep(0.005)
        load.join()
    fleet.start(f"{victim.name}-{round_no}")  # back to three replicas
    return {
        "lock_s": lock_at - killed,
        "integrated_s": grow_at - killed,
        "failed": result.get("failed", 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--failovers", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_fleet(Path(tmp), log_level="warning") as fleet,
    ):
        root = Path(tmp)
        key = fleet.key("bench")
        for i in range(3):
            fleet.start(f"r{i}")
        load_before = os.getloadavg()[0]
        rows = [embedded(root / "embedded", args.seconds, args.concurrency, root)]
        rows += [throughput(fleet, key, n, args.seconds, args.concurrency, root) for n in (1, 2, 3)]
        single = [embedded(root / "embedded-1", args.seconds / 2, 1, root)]
        single += [throughput(fleet, key, n, args.seconds / 2, 1, root) for n in (1, 3)]
        for row in rows + single:
            print(row, flush=True)
        rounds = [failover(fleet, key, root, i) for i in range(args.failovers)]
        for one in rounds:
            print(one, flush=True)
        load_after = os.getloadavg()[0]
    cores = os.cpu_count()
    table = "\n".join(
        f"| {int(r['replicas']) or 'embedded (SQLite, no fleet)'} | {r['rps']:,.0f} | {r['p50']:.1f} / {r['p99']:.1f} | "
        f"{r['entries_per_s']:,.0f} | {int(r['failed'])} |"
        for r in rows
    )
    single_table = "\n".join(
        f"| {int(r['replicas']) or 'embedded (SQLite, no fleet)'} | {r['p50']:.1f} / "
        f"{r['p99']:.1f} | {r['rps']:,.0f} |"
        for r in single
    )
    lock = sorted(r["lock_s"] * 1000 for r in rounds)
    grown = sorted(r["integrated_s"] * 1000 for r in rounds)
    markdown = f"""## Fleet (`benchmarks/fleet.py`)

`python benchmarks/fleet.py --seconds {args.seconds:g} --concurrency {args.concurrency}` on this
machine ({cores} cores, {platform.python_implementation()} {platform.python_version()}):
replicas of `redline serve` on one PostgreSQL database and one Redis, behind HAProxy,
closed-loop allowed chat requests to `redline-echo`; an answer is sent only after its audit
entry is integrated in the one log (queue + one sequencer).

| replicas | requests/s | latency p50 / p99 (ms) | audit entries/s | failed |
| --- | --- | --- | --- | --- |
{table}

Sequencer failover, {len(rounds)} rounds (the replica holding the advisory lock killed with
SIGKILL under load): another replica held the lock after {", ".join(f"{v:.0f}" for v in lock)} ms
and the log grew again after {", ".join(f"{v:.0f}" for v in grown)} ms. Requests in flight on
the killed replica fail at the client (HAProxy answers 502 or the connection drops); none
of them was acknowledged, and queued entries of surviving replicas are integrated by the
new sequencer.

At concurrency 1 (one request at a time: what coordination costs a single request):

| replicas | latency p50 / p99 (ms) | requests/s |
| --- | --- | --- |
{single_table}

A fleet request waits for two audit entries (request and response decisions), each
queued in one transaction, integrated by the sequencer in another and seen by its replica
(woken by `NOTIFY`), where the embedded log commits once to a local file.

What {cores} cores allow: at most {cores} processes run at once, and the replicas,
PostgreSQL, Redis, HAProxy and the load generator all share them (one-minute load average
{load_before:.1f} before and {load_after:.1f} after the run: other work was running on the
same cores, so figures move between runs). A second replica can use the second core; a
third only competes for the same two. These figures show what coordination costs (one
queue, one sequencer, shared keys, reviews and halts), not how a fleet scales when each
replica has cores of its own.
"""
    if args.no_write:
        print(markdown)
    else:
        write_section("fleet", markdown)
        print(markdown)


if __name__ == "__main__":
    main()
