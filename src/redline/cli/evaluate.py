"""``redline eval FILE.jsonl``: measure the safety stack on labelled conversations.

Each line needs a ``label``: a category id or ``allow``. Prints recall per category (a
red-line item counts as caught when the decision is block or review), the false-positive
rate on ``allow`` items (any non-allow decision), the same on hard negatives and on
tagged subsets (obfuscated, multi-turn, non-English, ...), a confusion matrix of labels
against the driving category, and per-conversation latency p50/p99. ``--json`` prints the
same figures as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from redline.cli.common import UsageError
from redline.cli.screen import load_cli_policy

__all__ = ["EvalReport", "evaluate", "register"]

SUBSETS = (
    "hard_negative",
    "obfuscated",
    "multi_turn",
    "non_english",
    "tool_schema",
    "pasted_records",
    "escalation",
    "recovery",
    "long",
)


def register(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("files", type=Path, nargs="+", help="labelled JSON Lines file(s)")
    parser.add_argument("--overlay", type=Path, default=None, help="operator policy overlay")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(handler=run)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalReport:
    """The figures ``redline eval`` prints."""

    examples: int
    recall: dict[str, float]
    false_positive_rate: float | None
    subsets_false_positive_rate: dict[str, float]
    subsets_recall: dict[str, float]
    confusion: dict[str, dict[str, int]]
    latency_ms: dict[str, float]
    counts: dict[str, int]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def evaluate(files: list[Path], overlay: Path | None = None) -> EvalReport:
    """Screen every example and compute the report."""
    from redline.errors import RequestError
    from redline.screening import Screen
    from redline.screening.dataset import load_examples

    try:
        examples = load_examples(files)
    except (OSError, RequestError) as exc:
        raise UsageError(str(exc)) from exc
    screen = Screen(load_cli_policy(overlay))
    known = {c.id for c in screen.policy.categories}
    caught: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    subset_fp: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    subset_recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    latencies: list[float] = []
    for example in examples:
        if example.label != "allow" and example.label not in known:
            raise UsageError(
                f"{example.id}: label {example.label!r} is not a category of the policy"
            )
        started = time.perf_counter()
        decision = screen.decide(example.messages, example.tools)
        latencies.append((time.perf_counter() - started) * 1000)
        flagged = decision.action.value != "allow"
        if not flagged:
            predicted = "allow"
        else:
            predicted = decision.categories[0] if decision.categories else "error"
        confusion[example.label][predicted] += 1
        totals[example.label] += 1
        caught[example.label] += flagged
        for tag in SUBSETS:
            if tag in example.tags or (tag == "non_english" and example.lang not in ("", "en")):
                bucket = subset_fp if example.label == "allow" else subset_recall
                bucket[tag][0] += flagged
                bucket[tag][1] += 1
    categories = sorted(c for c in totals if c != "allow")
    return EvalReport(
        examples=len(examples),
        recall={c: caught[c] / totals[c] for c in categories},
        false_positive_rate=caught["allow"] / totals["allow"] if totals["allow"] else None,
        subsets_false_positive_rate={k: v[0] / v[1] for k, v in sorted(subset_fp.items())},
        subsets_recall={k: v[0] / v[1] for k, v in sorted(subset_recall.items())},
        confusion={k: dict(v) for k, v in sorted(confusion.items())},
        latency_ms={"p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99)},
        counts=dict(totals),
    )


def run(args: argparse.Namespace) -> int:
    report = evaluate(args.files, args.overlay)
    if args.json:
        print(report.to_json())
        return 0
    print(f"examples: {report.examples}")
    for category, value in report.recall.items():
        print(f"recall {category}: {value:.3f}")
    fpr = report.false_positive_rate
    print(f"false positives on allow: {fpr:.3f}" if fpr is not None else "no allow items")
    for name, value in report.subsets_false_positive_rate.items():
        print(f"  false positives, {name}: {value:.3f}")
    for name, value in report.subsets_recall.items():
        print(f"  recall, {name}: {value:.3f}")
    print("confusion (label -> driving category):")
    for label, row in report.confusion.items():
        print(f"  {label}: {json.dumps(row, sort_keys=True)}")
    latency = report.latency_ms
    print(f"latency ms: p50 {latency['p50']:.2f} p99 {latency['p99']:.2f}")
    return 0
