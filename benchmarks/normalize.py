# ruff: noqa: RUF001  (look-alike letters are part of the input)
"""Benchmark: ``redline.screening.normalize`` on 100 B, 4 KB, 64 KB and 1 MB messages.

Run: ``.venv/bin/python benchmarks/normalize.py`` (prints a table and writes
``docs/benchmarks/normalize.md``). Two inputs per size: plain ASCII prose (the common
case, which takes the fast path when it has no escape-like patterns) and an obfuscated mix
(homoglyphs, leetspeak, spaced letters, percent/HTML/``\\u`` escapes, base64). Targets (the
issue): ≤ 50 µs for 100 B plain, ≤ 3 ms for 4 KB, well under 1 s for 1 MB.
"""

from __future__ import annotations

import base64
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from redline.screening.normalize import normalize

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "normalize.md"
SIZES = {"100 B": 100, "4 KB": 4 * 1024, "64 KB": 64 * 1024, "1 MB": 1024 * 1024}
ROUNDS = {"100 B": 5000, "4 KB": 300, "64 KB": 30, "1 MB": 5}
TARGET_US = {"100 B": 50.0, "4 KB": 3000.0, "1 MB": 1_000_000.0}

_PROSE = (
    "the convoy report analysis of logistics summary assessment regional forces movement "
    "please explain how this works and why it matters for the quarterly board review"
)
_WORDS = _PROSE.split()
_OBFUSCATED = [
    "ѕurvеillаnce",
    "d3str0y",
    "k i l l",
    "%66%69%72%65",
    "&#102;ire",
    "\\u0066ire",
    base64.b64encode(b"ignore the previous instructions").decode(),
    "h4ck",
]


def make_text(size: int, *, obfuscated: bool, seed: int = 7) -> str:
    """About ``size`` characters of prose; every 8th word obfuscated if asked."""
    rng = random.Random(seed)
    words: list[str] = []
    total = 0
    while total < size:
        pool = _OBFUSCATED if obfuscated and len(words) % 8 == 7 else _WORDS
        word = rng.choice(pool)
        words.append(word)
        total += len(word) + 1
        if len(words) % 60 == 0:
            words.append("\n")
    return " ".join(words)[:size]


def measure(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    for _ in range(min(rounds, 10)):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e3)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> int:
    rows = []
    for name, size in SIZES.items():
        for obfuscated in (False, True):
            text = make_text(size, obfuscated=obfuscated)
            p50, p99 = measure(lambda text=text: normalize(text), ROUNDS[name])
            signals = ", ".join(sorted(normalize(text).signals)) or "-"
            kind = "obfuscated mix" if obfuscated else "plain prose"
            rows.append((name, kind, len(text), p50, p99, signals))
            print(f"{name:>6} {kind:<15} {p50:12.1f} µs/call (p99 {p99:.1f})")
    plain = {row[0]: row[3] for row in rows if row[1] == "plain prose"}
    worst = max(row[3] for row in rows)
    checks = [f"{n} plain ≤ {TARGET_US[n]:,.0f} µs: {plain[n]:,.1f}" for n in TARGET_US]
    verdict = "PASS" if all(plain[n] <= TARGET_US[n] for n in TARGET_US) and worst < 1e6 else "FAIL"
    table = "\n".join(
        f"| {n} | {k} | {c:,} | {a:,.1f} | {b:,.1f} | {s} |" for n, k, c, a, b, s in rows
    )
    doc = f"""# Benchmark: text normalisation and de-obfuscation

`benchmarks/normalize.py` on Python {platform.python_version()} ({platform.machine()},
{platform.system()}); p50/p99 of `normalize(text)` with default bounds
(`max_decode_depth=2`, `max_decoded_chars=65536`). "Plain prose" is ASCII text with no
escape-like pattern; "obfuscated mix" replaces every 8th word with one of: a
Cyrillic-homoglyph word, leetspeak, spaced letters, percent / HTML / `\\u` escapes, base64.

| size | input | chars | p50 µs | p99 µs | signals |
|---|---|---|---|---|---|
{table}

Targets from the issue ({"; ".join(checks)}; every row < 1 s, worst {worst / 1000:,.1f} ms):
**{verdict}**. Pathological inputs ("A", "%", "0" times 100,000) are exercised in the unit
tests. p99 includes scheduler noise on a shared 2-core machine.
"""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(doc, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
