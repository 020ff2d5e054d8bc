"""Gateway overhead: the same mock upstream called directly and through ``redline serve``
in the same run. Reports p50/p99 latency, requests/s at concurrency 1 and 32, plain and
streaming (time to first token), and the gateway's CPU time per request.

Run: .venv/bin/python benchmarks/gateway_overhead.py [--requests N]
Targets (issue 2): added p50 <= 1 ms and p99 <= 3 ms at concurrency 1; >= 1,000 req/s
through one gateway process at concurrency 32.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, RawClient, percentile, write_section

BODY_PLAIN = (
    b'{"model":"bench","messages":[{"role":"system","content":"You are a logistics assistant."},'
    b'{"role":"user","content":"How many pallets of MREs fit in a C-130 for the exercise next week?"}]}'
)
BODY_STREAM = BODY_PLAIN[:-1] + b',"stream":true}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_load(
    port: int, body: bytes, headers: dict[str, str], concurrency: int, total: int
) -> tuple[list[float], float]:
    """Return (per-request latency or TTFT seconds, wall seconds)."""
    stream = b'"stream":true' in body
    latencies: list[float] = []
    per_worker = total // concurrency

    async def worker() -> None:
        client = RawClient("127.0.0.1", port)
        await client.connect()
        loop = asyncio.get_running_loop()
        for _ in range(per_worker):
            started = loop.time()
            status, data, first = await client.post("/v1/chat/completions", body, headers)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {data[:200]!r}")
            latencies.append(first if stream else loop.time() - started)
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per scenario")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="redline-bench-"))
    up_port, gw_port = free_port(), free_port()
    config = workdir / "redline.toml"
    config.write_text(
        f'[upstreams.mock]\nbase_url = "http://127.0.0.1:{up_port}/v1"\n\n'
        '[[routes]]\nmodel = "bench"\nupstream = "mock"\nupstream_model = "bench"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINE_")}
    env["REDLINE_DATA_DIR"] = str(workdir / "data")
    sys.path.insert(0, str(ROOT / "src"))
    from redline.store.keys import SqliteKeyStore

    key = SqliteKeyStore(workdir / "data" / "keys.db").create(tenant="bench").plaintext
    upstream = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "mock_upstream_fast.py"), str(up_port)]
    )
    log = open(workdir / "gateway.log", "w")  # noqa: SIM115 - closed at the end
    gateway = subprocess.Popen(
        [sys.executable, "-m", "redline", "serve", "--port", str(gw_port), "--config", str(config)],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_port(up_port)
        wait_port(gw_port)
        auth = {"authorization": f"Bearer {key}"}
        rows = []
        results: dict[tuple[str, int, str], tuple[list[float], float]] = {}
        gw_cpu: dict[tuple[str, int], float] = {}
        for mode, body in (("plain", BODY_PLAIN), ("stream", BODY_STREAM)):
            for concurrency in (1, 32):
                total = args.requests - args.requests % concurrency
                for target, port, headers in (("direct", up_port, {}), ("gateway", gw_port, auth)):
                    asyncio.run(
                        run_load(port, body, headers, concurrency, min(300, total))
                    )  # warm-up
                    before = cpu_seconds(gateway.pid)
                    results[(mode, concurrency, target)] = asyncio.run(
                        run_load(port, body, headers, concurrency, total)
                    )
                    if target == "gateway":
                        gw_cpu[(mode, concurrency)] = (
                            (cpu_seconds(gateway.pid) - before) / total * 1000
                        )
        for (mode, concurrency, target), (lat, wall) in results.items():
            ms = [x * 1000 for x in lat]
            rows.append(
                (mode, concurrency, target, percentile(ms, 50), percentile(ms, 99), len(lat) / wall)
            )
        lines = [
            f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{args.requests} requests per scenario; load from a raw asyncio HTTP/1.1 client; "
            "upstream is `benchmarks/mock_upstream_fast.py` in its own process. "
            "Stream latency is time to first body byte (TTFT).",
            "",
            "| mode | concurrency | path | p50 ms | p99 ms | req/s |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {m} | {c} | {t} | {p50:.3f} | {p99:.3f} | {rps:,.0f} |"
            for m, c, t, p50, p99, rps in rows
        ]
        lines += [
            "",
            "| mode | concurrency | added p50 ms | added p99 ms | gateway CPU ms/request |",
            "|---|---|---|---|---|",
        ]
        for mode in ("plain", "stream"):
            for concurrency in (1, 32):
                d = [x * 1000 for x in results[(mode, concurrency, "direct")][0]]
                g = [x * 1000 for x in results[(mode, concurrency, "gateway")][0]]
                lines.append(
                    f"| {mode} | {concurrency} | {percentile(g, 50) - percentile(d, 50):.3f} | "
                    f"{percentile(g, 99) - percentile(d, 99):.3f} | {gw_cpu[(mode, concurrency)]:.3f} |"
                )
        text = "\n".join(lines)
        print(text)
        write_section(
            "gateway_overhead", "## Gateway overhead (`benchmarks/gateway_overhead.py`)\n\n" + text
        )
    finally:
        for proc in (gateway, upstream):
            proc.terminate()
            proc.wait(timeout=10)
        log.close()


if __name__ == "__main__":
    main()
