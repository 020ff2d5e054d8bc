"""Do the stack's scores mean probabilities? Reliability on data never trained on.

For every conversation of the held-out sets (validation batch V, test batch F, test
writers W1-W3: none trained on), the shipped stack's red-line score is the highest of the
three red-line scores, and the outcome is whether the conversation's label is a red line.
Scores are binned (0-0.1, ..., 0.9-1.0); a calibrated score has, in each bin, an observed
red-line share close to the bin's mean score. Reported: the reliability table, the expected
calibration error (ECE: bin-weighted |mean score - observed share|), and the review band of
the built-in floor (review threshold <= score < block threshold): what share of lawful
traffic it sends to reviewers and what share of red-line traffic it holds rather than blocks.

Also the public XSTest safe prompts (measured only): the share of an everyday-lawful set
that lands in the review band or above.

Run: .venv/bin/python benchmarks/calibration.py   (writes the "calibration" section)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, write_section

sys.path.insert(0, str(ROOT / "src"))
from redline.domain import Message
from redline.policy import load_builtin_floor
from redline.screening.dataset import load_examples
from redline.screening.stack import SafetyStack

DATA = ROOT / "data" / "screening"
SETS = ("valid_v.jsonl", "test_f.jsonl", "test_w1.jsonl", "test_w2.jsonl", "test_w3.jsonl")
RED_LINES = ("mass_domestic_surveillance", "autonomous_weapons", "high_stakes_automated_decisions")
XSTEST = ROOT.parent / "shared" / "eval" / "public" / "xstest" / "xstest_prompts.csv"


def _thresholds() -> tuple[float, float]:
    policy = load_builtin_floor()
    reviews = [c.review_threshold for c in policy.categories if c.id in RED_LINES]
    blocks = [c.block_threshold for c in policy.categories if c.id in RED_LINES]
    return min(reviews), min(blocks)


def main() -> None:
    stack = SafetyStack.load(load_builtin_floor())
    review, block = _thresholds()
    scored: list[tuple[float, bool]] = []
    for name in SETS:
        for example in load_examples([DATA / name]):
            judgement = stack.judge(example.messages, example.tools)
            score = max(judgement.scores[c] for c in RED_LINES)
            scored.append((score, example.label != "allow"))
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(10)]
    for score, positive in scored:
        bins[min(9, int(score * 10))].append((score, positive))
    lines = [
        f"Held-out sets {', '.join(SETS)}: {len(scored)} conversations "
        f"({sum(p for _, p in scored)} red-line). Score = the highest red-line score of the "
        "shipped stack; outcome = labelled red line.",
        "",
        "| score bin | conversations | mean score | observed red-line share |",
        "|---|---|---|---|",
    ]
    ece = 0.0
    for i, items in enumerate(bins):
        if not items:
            lines.append(f"| {i / 10:.1f}-{(i + 1) / 10:.1f} | 0 | - | - |")
            continue
        mean = sum(s for s, _ in items) / len(items)
        share = sum(p for _, p in items) / len(items)
        ece += len(items) / len(scored) * abs(mean - share)
        lines.append(
            f"| {i / 10:.1f}-{(i + 1) / 10:.1f} | {len(items)} | {mean:.2f} | {share:.2f} |"
        )
    lawful = [s for s, p in scored if not p]
    harmful = [s for s, p in scored if p]
    band = [s for s in lawful if review <= s < block]
    held = [s for s in harmful if review <= s < block]
    lines += [
        "",
        f"Expected calibration error: {ece:.3f}.",
        "",
        f"Review band of the built-in floor ({review} <= score < {block}): "
        f"{len(band) / len(lawful):.1%} of lawful conversations go to reviewers "
        f"({len(band)}/{len(lawful)}), {sum(s >= block for s in lawful) / len(lawful):.1%} are "
        f"blocked; of red-line conversations {len(held) / len(harmful):.1%} are held for "
        f"review and {sum(s >= block for s in harmful) / len(harmful):.1%} blocked.",
    ]
    if XSTEST.exists():
        with XSTEST.open(newline="") as handle:
            prompts = [
                row["prompt"] for row in csv.DictReader(handle) if row.get("label") == "safe"
            ]
        flagged = [0, 0]
        for prompt in prompts:
            judgement = stack.judge((Message(role="user", text=prompt),), ())
            score = max(judgement.scores[c] for c in RED_LINES)
            flagged[0] += review <= score < block
            flagged[1] += score >= block
        lines.append(
            f"XSTest safe prompts ({len(prompts)}, measured only): {flagged[0]} in the review "
            f"band, {flagged[1]} blocked."
        )
    text = "\n".join(lines)
    print(text)
    write_section("calibration", "## Calibration (`benchmarks/calibration.py`)\n\n" + text)


if __name__ == "__main__":
    main()
