"""Benchmark: label extraction + access check on chat requests of 4 KB, 64 KB and 1 MB.

Run: ``.venv/bin/python benchmarks/markings.py`` (prints a table and writes
``docs/benchmarks/markings.md``). Each request is a list of message texts of ordinary
prose with a banner line and portion marks every few paragraphs (plus false-positive bait:
enumerations, "(CUI)" in a sentence), as a classified chat user would paste them. Target
(issue): extraction ≤ 0.2 ms p50 for 4 KB, linear in size.
"""

from __future__ import annotations

import itertools
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from redline.access import check_access, route_ceiling
from redline.domain import Principal
from redline.markings import default_register, extract_label

OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "markings.md"
SIZES = {"4 KB": 4 * 1024, "64 KB": 64 * 1024, "1 MB": 1024 * 1024}
ROUNDS = {"4 KB": 3000, "64 KB": 300, "1 MB": 30}
PRINCIPAL = Principal(
    id="bench", tenant="t", clearance="TS", read_ins=frozenset({"SI", "TK"}), nationality="USA"
)
ROUTE = route_ceiling("TS/SCI", sci_systems=["SI", "TK"])

_PROSE = (
    "the convoy report analysis of logistics summary assessment regional forces movement "
    "(see above) pipeline Which option (A) first (B) second and Controlled Unclassified "
    "Information (CUI) is handled per policy; section (S)ection 2 refers to it."
)
_WORDS = _PROSE.split(" ")
_PORTIONS = ["(S//REL TO USA, GBR)", "(U)", "(TS//SI//REL TO USA, FVEY)", "(C//REL TO USA, GBR)"]


def make_request(size: int, seed: int = 7) -> list[str]:
    """Messages totalling about ``size`` characters."""
    rng = random.Random(seed)
    messages = []
    total = 0
    while total < size:
        lines = ["SECRET//REL TO USA, GBR"]
        for _ in range(8):
            words = " ".join(rng.choice(_WORDS) for _ in range(40))
            lines.append(f"{rng.choice(_PORTIONS)} {words}")
        message = "\n".join(lines)[: max(1, min(4096, size - total))]
        messages.append(message)
        total += len(message)
    return messages


def measure(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    for _ in range(min(rounds, 20)):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> int:
    rows = []
    for name, size in SIZES.items():
        messages = make_request(size)
        chars = sum(len(m) for m in messages)

        def extract(messages: list[str] = messages) -> object:
            return extract_label(messages)

        def extract_and_check(messages: list[str] = messages) -> object:
            return check_access(PRINCIPAL, extract_label(messages), ROUTE)

        banner = extract_label(messages).banner()
        e50, e99 = measure(extract, ROUNDS[name])
        c50, c99 = measure(extract_and_check, ROUNDS[name])
        rows.append((name, chars, e50, e99, c50, c99, chars / 1e6 / (e50 / 1e3), banner))

    many = "\n".join(f"(S//REL TO USA, GBR) paragraph {i}." for i in range(10_000))
    m50, m99 = measure(lambda: extract_label([many]), 20)
    # Worst case: every mark distinct (each parsed once, then joined): ~1 MB of them.
    others = sorted(set(default_register().trigraphs) - {"USA"})
    distinct = " ".join(f"(S//REL TO USA, {a}, {b})" for a, b in itertools.combinations(others, 2))[
        : 1024 * 1024
    ]
    distinct = distinct[: distinct.rfind(")") + 1]
    d50, _ = measure(lambda: extract_label([distinct]), 3)
    verdict = "PASS" if rows[0][2] <= 0.2 else "FAIL"

    header = (
        "| request | chars | extract p50 ms | extract p99 ms | extract+check p50 ms "
        "| extract+check p99 ms | MB/s (p50) | banner |\n|---|---|---|---|---|---|---|---|"
    )
    table = "\n".join(
        f"| {n} | {c:,} | {a:.3f} | {b:.3f} | {d:.3f} | {e:.3f} | {r:.0f} | `{ban}` |"
        for n, c, a, b, d, e, r, ban in rows
    )
    doc = f"""# Benchmark: classification-marking extraction and access check

`benchmarks/markings.py` on Python {platform.python_version()} ({platform.machine()},
{platform.system()}); p50/p99 over repeated runs of `extract_label(messages)` and of
`check_access(principal, extract_label(messages), route_ceiling("TS/SCI", ...))`. Each
request is prose with a banner line and a portion mark per paragraph, plus false-positive
bait ("(A)", "(B)", "(CUI)" mid-sentence, "(S)ection", "(see above)").

{header}
{table}

10,000 portion marks in one message (one distinct mark): p50 {m50:.2f} ms, p99 {m99:.2f} ms.
Worst case, 1 MB of all-distinct portion marks ({distinct.count("(")} marks, each parsed
once): {d50:.0f} ms p50, i.e. bounded by the gateway's request-size limit.

Target from the issue: extraction ≤ 0.2 ms p50 for a 4 KB request, linear in size:
**{verdict}** ({rows[0][2]:.3f} ms). p99 figures include scheduler noise on a shared 2-core
machine.
"""
    print(doc)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
