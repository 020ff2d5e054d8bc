"""Benchmark ``redline.monitors``: overhead per request and memory per 100,000 principals.

Run: ``.venv/bin/python benchmarks/monitors.py [--redis redis://127.0.0.1:6379/0]``. Prints a
table and writes ``docs/benchmarks/monitors.md``. Targets (monitors run on every request): <= 0.3 ms p50 in-process,
<= 1 ms p50 with Redis.

Request mix (each measured separately, then as a 90/8/2 blend): an ordinary request with no
person identifiers, a person-centric lookup (extraction + window update + count), and a turn of
a tool loop on an effector route (cadence record). Memory: tracemalloc of an
``InProcessMonitorState`` after 100,000 distinct principals each looked up 1 (and 5) persons.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import platform
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis

from redline.domain import ChatRequest, Endpoint, Message, ToolCall, ToolSpec
from redline.monitors import (
    InProcessMonitorState,
    MonitorConfig,
    Monitors,
    MonitorState,
    Nationality,
    PersonExtractor,
    PersonRef,
    RedisMonitorState,
)
from redline.monitors.persons import IdentifierKind
from redline.policy import load_builtin_floor

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "monitors.md"
TARGET_LOCAL_MS = 0.3
TARGET_REDIS_MS = 1.0
CONFIG = MonitorConfig.from_policy(load_builtin_floor().monitors)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


class _Clock:
    def now(self) -> datetime:
        return T0

    def monotonic(self) -> float:
        return 0.0


def _requests() -> dict[str, ChatRequest]:
    plain = ChatRequest(
        endpoint=Endpoint.CHAT,
        model="m",
        messages=(
            Message(role="system", text="You are a logistics planning assistant."),
            Message(
                role="user",
                text="Estimate the fuel needed to move a battalion's 40 vehicles 300 km by road "
                "at 3 km per litre with a 20 percent reserve, and lay it out as a short table.",
            ),
        ),
    )
    call = ToolCall(name="get_sensor_tracks", arguments='{"sector": 4}')
    loop = ChatRequest(
        endpoint=Endpoint.CHAT,
        model="m",
        messages=(
            Message(role="user", text="Assess the tracks and recommend."),
            Message(role="assistant", text="", tool_calls=(call,)),
            Message(role="tool", text='{"track": 17, "class": "unknown"}'),
        ),
        tools=(ToolSpec(name="get_sensor_tracks"), ToolSpec(name="fire_interceptor")),
    )
    return {"plain": plain, "loop": loop}


def _lookup(i: int) -> ChatRequest:
    text = (
        f"Pull the social media profile and movements of the owner of phone "
        f"({200 + i % 700}) 555-{i % 10000:04d} in Dayton, OH."
    )
    return ChatRequest(
        endpoint=Endpoint.CHAT, model="m", messages=(Message(role="user", text=text),)
    )


async def _measure(monitors: Monitors, kind: str, n: int) -> list[float]:
    base = _requests()
    samples = []
    for i in range(n):
        request = _lookup(i) if kind == "lookup" else base[kind]
        principal = f"p{i % 500}"
        now = T0 + timedelta(seconds=i * 0.37)
        started = time.perf_counter()
        await monitors.observe_request(principal, "tenant", "m", request, now)
        samples.append(time.perf_counter() - started)
    return samples


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


async def _overhead(state: MonitorState, n: int) -> dict[str, tuple[float, float]]:
    monitors = Monitors(
        CONFIG, state, PersonExtractor(b"b" * 32), confirmation_key=b"k" * 32, clock=_Clock()
    )
    result = {}
    blend: list[float] = []
    for kind, share in (("plain", 0.90), ("lookup", 0.08), ("loop", 0.02)):
        await _measure(monitors, kind, 200)  # warm up
        samples = await _measure(monitors, kind, n)
        result[kind] = (_pct(samples, 50), _pct(samples, 99))
        blend += samples[: int(n * share)]
    result["blend 90/8/2"] = (_pct(blend, 50), _pct(blend, 99))
    return result


async def _memory(persons_each: int, principals: int = 100_000) -> float:
    state = InProcessMonitorState(CONFIG)
    refs = [
        PersonRef(
            kind=IdentifierKind.PHONE,
            digest=hashlib.sha256(str(i).encode()).hexdigest(),
            nationality=Nationality.US,
        )
        for i in range(principals * persons_each // 10 + persons_each)
    ]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    now = T0.timestamp()
    for p in range(principals):
        start = (p * persons_each) % (len(refs) - persons_each)
        await state.add_persons(f"principal-{p:06d}", f"tenant-{p % 20}",
                                refs[start : start + persons_each], now)  # fmt: skip
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / principals


async def main_async(redis_url: str | None, n: int) -> int:
    rows: list[tuple[str, str, float, float]] = []
    local = await _overhead(InProcessMonitorState(CONFIG), n)
    rows += [("in-process", k, p50, p99) for k, (p50, p99) in local.items()]
    redis_result: dict[str, tuple[float, float]] = {}
    if redis_url:
        client = aioredis.Redis.from_url(redis_url)
        prefix = f"rl-bench:{uuid.uuid4().hex[:8]}"
        try:
            redis_result = await _overhead(RedisMonitorState(client, CONFIG, prefix=prefix), n)
        finally:
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
            for i in range(0, len(keys), 1000):
                await client.delete(*keys[i : i + 1000])
            await client.aclose()
        rows += [("redis", k, p50, p99) for k, (p50, p99) in redis_result.items()]
    memory = {k: await _memory(k) for k in (1, 5)}

    local_p50 = local["blend 90/8/2"][0]
    local_worst = max(p50 for p50, _ in local.values())
    ok = local_p50 <= TARGET_LOCAL_MS
    lines = [
        "# Monitors benchmark",
        "",
        f"Generated by `benchmarks/monitors.py` on Python {platform.python_version()} "
        f"({platform.machine()}, {platform.system()}), {n} requests per kind, 500 principals, "
        "floor policy thresholds.",
        "",
        f"* In-process: blend p50 {local_p50:.3f} ms, worst kind p50 {local_worst:.3f} ms "
        f"(target <= {TARGET_LOCAL_MS} ms p50: {'PASS' if ok else 'FAIL'}).",
    ]
    if redis_result:
        redis_p50 = redis_result["blend 90/8/2"][0]
        redis_worst = max(p50 for p50, _ in redis_result.values())
        redis_ok = redis_p50 <= TARGET_REDIS_MS
        ok = ok and redis_ok
        lines.append(
            f"* Redis ({redis_url}): blend p50 {redis_p50:.3f} ms, worst kind p50 "
            f"{redis_worst:.3f} ms (target <= {TARGET_REDIS_MS} ms p50: "
            f"{'PASS' if redis_ok else 'FAIL'})."
        )
    lines += [
        *(
            f"* Memory, in-process, 100,000 distinct principals with {k} person(s) each: "
            f"{v:,.0f} bytes per principal ({v * 100_000 / 2**20:,.0f} MiB in all)."
            for k, v in memory.items()
        ),
        "",
        "| state | request kind | p50 ms | p99 ms |",
        "|---|---|---:|---:|",
        *(f"| {s} | {k} | {p50:.3f} | {p99:.3f} |" for s, k, p50, p99 in rows),
        "",
        "Kinds: `plain` has no person identifiers (extraction only); `lookup` is a "
        "person-centric single-person lookup (extraction, intent, window add + count on the "
        "principal's and tenant's 1 h and 24 h windows); `loop` is a tool-result turn on an "
        "effector route (cadence record). Redis requests are one pipelined round trip to a "
        "local server.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="'' to skip")
    parser.add_argument("-n", type=int, default=3000, help="requests per kind")
    args = parser.parse_args()
    return asyncio.run(main_async(args.redis or None, args.n))


if __name__ == "__main__":
    raise SystemExit(main())
