"""Nobody can stall the gateway, and what the stream hold-back costs.

1. **Stall**: ``redline serve`` (embedded defaults, built-in ``redline-echo`` model) while
   16 clients each send 7 MB chat requests (benign text, under the body limit) in a loop;
   another client sends small requests and we report their latency (p50/p99) against the
   same small requests on an idle gateway. Goal: p99 under 100 ms while loaded. The same
   while 8 clients send distinct 8,000-token prose prompts (every one screened cold).
   Goal: p99 of the small requests under 20 ms.
2. **Time to first token** of a streamed answer through the gateway with the hold-back
   (the first text is released once it has been screened) against the upstream's own
   first chunk, measured on the built-in model (which streams 16-character chunks).

Run: ``.venv/bin/python benchmarks/stall.py`` (about a minute); it prints the figures and
writes them to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import percentile, write_section

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"model": "redline-echo", "messages": [{"role": "user", "content": "status of convoy 7?"}]}
PARAGRAPH = (
    "The quarterly logistics review covers fuel, spare parts and transport schedules for the "
    "northern depots. Deliveries were on time in most weeks; two were late because of weather. "
)


def start_gateway(data_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/redline"), "serve", "--data-dir", str(data_dir), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "REDLINE_LOG_LEVEL": "warning"},
    )
    assert proc.stderr is not None
    key = url = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not url:
        line = proc.stderr.readline()
        if m := re.search(r"(rl_[A-Za-z0-9_\-]+)", line):
            key = key or m.group(1)
        if m := re.search(r"serving on (http://[\d.]+:\d+)", line):
            url = m.group(1)
    threading.Thread(target=lambda: proc.stderr and proc.stderr.read(), daemon=True).start()
    for _ in range(200):
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, url, key


def small_latencies(url: str, key: str, n: int) -> list[float]:
    out = []
    with httpx.Client(headers={"authorization": f"Bearer {key}"}, timeout=120) as client:
        for _ in range(n):
            started = time.perf_counter()
            response = client.post(url + "/v1/chat/completions", json=SMALL)
            out.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(response.text[:200])
            time.sleep(0.02)
    return out


def big_sender(
    url: str, key: str, body: Callable[[], bytes], stop: threading.Event, sent: list[int]
) -> None:
    with httpx.Client(headers={"authorization": f"Bearer {key}"}, timeout=300) as client:
        while not stop.is_set():
            client.post(
                url + "/v1/chat/completions",
                content=body(),
                headers={"content-type": "application/json"},
            )
            sent.append(1)


def long_prompt(tokens: int) -> bytes:
    """A distinct prose prompt of about ``tokens`` tokens (every sentence new, so that
    nothing is served from the screening caches)."""
    salt = random.randrange(1 << 30)
    parts, n, i = [], 0, 0
    while n < tokens:
        sentence = f"Item {salt}-{i}: " + PARAGRAPH
        parts.append(sentence)
        n += len(sentence) // 4
        i += 1
        if i % 6 == 0:
            parts.append("\n\n")
    text = "".join(parts)
    return json.dumps(
        {"model": "redline-echo", "messages": [{"role": "user", "content": text}]}
    ).encode()


def loaded_latencies(
    url: str, key: str, clients: int, body: Callable[[], bytes], n_small: int
) -> tuple[list[float], int]:
    """Small-request latencies while ``clients`` threads send ``body()`` in a loop."""
    stop, sent = threading.Event(), []
    senders = [
        threading.Thread(target=big_sender, args=(url, key, body, stop, sent), daemon=True)
        for _ in range(clients)
    ]
    for s in senders:
        s.start()
    time.sleep(3.0)
    loaded = small_latencies(url, key, n_small)
    stop.set()
    for s in senders:
        s.join(timeout=120)
    return loaded, len(sent)


async def ttft(url: str, key: str, n: int) -> tuple[list[float], list[float]]:
    """Time to the first content byte through the gateway vs the whole stream's first chunk."""
    body = {
        "model": "redline-echo",
        "stream": True,
        "messages": [{"role": "user", "content": "Summarise: " + PARAGRAPH * 2}],
    }
    first_text, first_event = [], []
    async with httpx.AsyncClient(headers={"authorization": f"Bearer {key}"}, timeout=60) as http:
        for _ in range(n):
            started = time.perf_counter()
            got_event = got_text = None
            async with http.stream("POST", url + "/v1/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    now = time.perf_counter() - started
                    got_event = got_event or now
                    data = json.loads(line[6:])
                    choices = data.get("choices") or [{}]
                    if (choices[0].get("delta") or {}).get("content"):
                        got_text = now
                        break
            first_event.append(got_event or 0.0)
            first_text.append(got_text or 0.0)
    return first_text, first_event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--mb", type=float, default=7.0)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--long-clients", type=int, default=8)
    parser.add_argument("--long-tokens", type=int, default=8000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, key = start_gateway(Path(tmp))
        try:
            idle = small_latencies(url, key, args.small)
            text = PARAGRAPH * int(args.mb * 1_000_000 / len(PARAGRAPH))
            big = json.dumps(
                {"model": "redline-echo", "messages": [{"role": "user", "content": text}]}
            ).encode()
            loaded, sent = (
                loaded_latencies(url, key, args.clients, lambda: big, args.small)
                if args.clients
                else ([0.0], 0)
            )
            long_loaded, long_sent = loaded_latencies(
                url, key, args.long_clients, lambda: long_prompt(args.long_tokens), args.small
            )
            text_ms, _ = asyncio.run(ttft(url, key, 50))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ms = [v * 1000 for v in idle]
    lm = [v * 1000 for v in loaded]
    tt = [v * 1000 for v in text_ms]
    ll = [v * 1000 for v in long_loaded]
    rows = [
        f"| small requests, idle gateway | {percentile(ms, 50):.1f} | {percentile(ms, 99):.1f} |",
        f"| small requests while {args.clients} clients send {args.mb:g} MB requests "
        f"({sent} big requests completed meanwhile) | {percentile(lm, 50):.1f} | "
        f"{percentile(lm, 99):.1f} |",
        f"| small requests while {args.long_clients} clients send distinct "
        f"{args.long_tokens:,}-token prompts ({long_sent} completed meanwhile) | "
        f"{percentile(ll, 50):.1f} | {percentile(ll, 99):.1f} |",
        f"| streamed answer: first text through the hold-back | {percentile(tt, 50):.1f} | "
        f"{percentile(tt, 99):.1f} |",
    ]
    table = "| what | p50 ms | p99 ms |\n|---|---|---|\n" + "\n".join(rows)
    print(table)
    write_section(
        "stall",
        "## Stalls and stream hold-back (`benchmarks/stall.py`)\n\n"
        "Embedded defaults, `redline serve` as a subprocess on this 2-core machine (one "
        "screening worker process: `screening_processes` defaults to the cores beyond the "
        "first); the load generator shares the machine. Screening over 16 KB, marking "
        "extraction over 64 KB, the monitors' scan over 2 KB and parsing over 1 MB run in "
        "the worker process; bodies over 256 KB are read one at a time. The 7 MB requests "
        "repeat one body (each is refused as over 1,000,000 characters of text once parsed), "
        "the 8,000-token prompts are all distinct (screened cold). The built-in model "
        "streams 16-character chunks; a stream's first text is released once 32 characters "
        "have been received and screened.\n\n" + table,
    )


if __name__ == "__main__":
    main()
