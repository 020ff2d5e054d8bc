"""Leave-one-writer-out evaluation of the tier-1 head.

Every training batch (``data/screening/batch_*.jsonl``) is written by one writer from one
perspective. For each batch, tier 1 is fitted on all the *other* batches (same code and
settings as ``redline train``: :func:`redline.training.tier1.train_tier1` over the
served static embeddings and factor features; no distillation, no tier 2; when
``--artifacts`` names a directory with the multilingual table, also the head over the
language-gated multilingual block, combined as the stack combines them) and measured on
the held-out batch: recall per red line (a red-line item is caught when any red-line
probability reaches the review threshold, as in ``redline eval``) and the false-positive
rate on its lawful items (all of them, and the hard negatives alone). The worst writer is
named. Finally one head fitted on every training batch is measured on the independent
held-out test writers (``test_f.jsonl`` and ``test_w*.jsonl``), which are never trained on.

This measures generalisation to an unseen writer, which in-distribution figures overstate.
Tier 1 alone is measured (tier 2 would need a fine-tune per fold), so the figures are a
lower bound on the full stack's recall at the same threshold.

Run: .venv/bin/python benchmarks/writers.py [--quick] [--writers k,l] [--threshold 0.5]
     [--json OUT.json]
``--quick`` holds out only the newest writers (batches k-v) and skips hard-negative
splits per tag. Needs the ``train`` extra (scikit-learn, scipy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, write_section

sys.path.insert(0, str(ROOT / "src"))
from redline.screening.artifacts import ARTIFACTS_DIR
from redline.screening.dataset import Example, load_examples
from redline.screening.features import FeatureVector, Featurizer
from redline.screening.linear import GatedHead
from redline.training.augment import augment
from redline.training.pipeline import AUGMENT_SHARE, CLASSES, embedders, training_files
from redline.training.tier1 import WHOLE_BLOCK_SHRINK, featurize, train_tier1, train_whole_head

DATA = ROOT / "data" / "screening"
RED_LINES = CLASSES[1:]
QUICK_WRITERS = tuple("klmnopqrstuv")


def _caught(head: GatedHead, feature: FeatureVector, threshold: float) -> bool:
    probs = head.probabilities(feature)
    return max(probs[c] for c in RED_LINES) >= threshold


def measure(
    head: GatedHead,
    examples: list[Example],
    features: list[FeatureVector],
    threshold: float,
) -> dict[str, Any]:
    """Recall per red line, FP rate on lawful items and on hard negatives, per-language FP/recall."""
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    lang: dict[str, list[int]] = defaultdict(
        lambda: [0, 0, 0, 0]
    )  # pos caught, pos, neg flagged, neg
    for example, feature in zip(examples, features, strict=True):
        flagged = _caught(head, feature, threshold)
        key = example.label if example.label in RED_LINES else "allow"
        hits[key][0] += int(flagged)
        hits[key][1] += 1
        if key == "allow" and "hard_negative" in example.tags:
            hits["hard_negative"][0] += int(flagged)
            hits["hard_negative"][1] += 1
        row = lang[example.lang or "?"]
        if key == "allow":
            row[2] += int(flagged)
            row[3] += 1
        else:
            row[0] += int(flagged)
            row[1] += 1
    out: dict[str, Any] = {"items": len(examples)}
    out["recall"] = {c: _ratio(hits[c]) for c in RED_LINES}
    out["fp_rate"] = _ratio(hits["allow"])
    out["fp_rate_hard_negative"] = _ratio(hits["hard_negative"])
    out["counts"] = {k: v[1] for k, v in hits.items()}
    out["by_lang"] = {
        k: {"recall": _ratio(v[:2]), "fp_rate": _ratio(v[2:]), "pos": v[1], "neg": v[3]}
        for k, v in sorted(lang.items())
    }
    return out


def _ratio(pair: list[int]) -> float | None:
    return round(pair[0] / pair[1], 4) if pair[1] else None


def _fmt(value: object) -> str:
    return "—" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


Batches = dict[str, tuple[list[Example], list[FeatureVector]]]


def _load(featurizer: Featurizer, share: float, data: Path) -> tuple[Batches, Batches]:
    """Each batch's written conversations and, separately, their framed copies (as
    ``redline train`` adds them; only ever used on the training side of a fold)."""
    by_batch: Batches = {}
    framed: Batches = {}
    for path in training_files(data):
        examples = load_examples([path])
        by_batch[path.stem] = (examples, featurize(featurizer, examples))
        extra = augment(examples, share=share) if share > 0 else []
        framed[path.stem] = (extra, featurize(featurizer, extra))
    return by_batch, framed


def _fold(batches: list[Batches], name: str | None) -> tuple[list[FeatureVector], list[str]]:
    """Features and labels of every batch except ``name``, written and framed."""
    xs: list[FeatureVector] = []
    ys: list[str] = []
    for source in batches:
        for other, (examples, feats) in source.items():
            if other != name:
                xs += feats
                ys += [e.label for e in examples]
    return xs, ys


def _leave_one_out(
    featurizer: Featurizer,
    by_batch: Batches,
    framed: Batches,
    held: list[str],
    threshold: float,
    shrink: float,
) -> dict[str, dict[str, Any]]:
    lowo: dict[str, dict[str, Any]] = {}
    for name in held:
        t0 = time.perf_counter()
        train_x, train_y = _fold([by_batch, framed], name)
        head = fit_heads(featurizer, train_x, train_y, shrink)
        examples, feats = by_batch[name]
        lowo[name] = m = measure(head, examples, feats, threshold)
        r = m["recall"]
        print(
            f"{name}: recall surv {_fmt(r['mass_domestic_surveillance'])} weap "
            f"{_fmt(r['autonomous_weapons'])} dec {_fmt(r['high_stakes_automated_decisions'])} "
            f"| FP {_fmt(m['fp_rate'])} (hard {_fmt(m['fp_rate_hard_negative'])}) "
            f"[{time.perf_counter() - t0:.0f}s]",
            flush=True,
        )
    return lowo


def fit_heads(
    featurizer: Featurizer, xs: list[FeatureVector], ys: list[str], shrink: float
) -> GatedHead:
    """The English head over the English-only features and, when the featurizer has the
    multilingual table, the head over the features with its language-gated block, combined
    as the stack combines them (:class:`redline.screening.linear.GatedHead`)."""
    block = featurizer.block_size
    english = [
        FeatureVector(f.dense[:-block], f.sparse_index, f.sparse_value) if block else f for f in xs
    ]
    head = train_tier1(english, ys, CLASSES)
    if not block:
        return GatedHead(head)
    multilingual = train_whole_head(featurizer, xs, ys, CLASSES, block_shrink=shrink)
    return GatedHead(head, multilingual, block=block)


def _worst_recall(item: tuple[str, dict[str, Any]]) -> float:
    recalls = [v for v in item[1]["recall"].values() if v is not None]
    return min(recalls) if recalls else 1.0


def _test_writers(
    featurizer: Featurizer,
    by_batch: Batches,
    framed: Batches,
    threshold: float,
    data: Path,
    shrink: float,
) -> dict[str, Any]:
    all_x, all_y = _fold([by_batch, framed], None)
    head = fit_heads(featurizer, all_x, all_y, shrink)
    tests: dict[str, Any] = {}
    for path in sorted(data.glob("test_*.jsonl")):
        if path.name == "test_cbrn.jsonl":
            continue
        examples = load_examples([path])
        tests[path.stem] = measure(head, examples, featurize(featurizer, examples), threshold)
    return tests


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="hold out only batches k-v")
    parser.add_argument("--writers", default="", help="comma-separated batch letters to hold out")
    parser.add_argument("--threshold", type=float, default=0.5, help="review threshold")
    parser.add_argument("--no-test", action="store_true", help="skip the test-writer figures")
    parser.add_argument(
        "--augment",
        type=float,
        default=AUGMENT_SHARE,
        help="share of training items also framed, as redline train does (0: none)",
    )
    parser.add_argument(
        "--write", action="store_true", help="write the figures to docs/benchmarks.md"
    )
    parser.add_argument(
        "--artifacts", type=Path, default=ARTIFACTS_DIR, help="artifact directory (tables)"
    )
    parser.add_argument("--data", type=Path, default=DATA, help="data directory")
    parser.add_argument(
        "--block-shrink",
        type=float,
        default=WHOLE_BLOCK_SHRINK,
        help="shrink of the multilingual block (when the artifacts carry the table)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write figures here")
    args = parser.parse_args()

    started = time.perf_counter()
    featurizer = Featurizer(*embedders(args.artifacts))
    by_batch, framed = _load(featurizer, args.augment, args.data)
    print(
        f"featurised {sum(len(v[0]) for v in by_batch.values())} training items from "
        f"{len(by_batch)} batches in {time.perf_counter() - started:.0f}s",
        flush=True,
    )
    if args.writers:
        held = [f"batch_{w.strip()}" for w in args.writers.split(",") if w.strip()]
    elif args.quick:
        held = [f"batch_{w}" for w in QUICK_WRITERS]
    else:
        held = list(by_batch)
    held = [h for h in held if h in by_batch]

    results: dict[str, Any] = {"threshold": args.threshold, "augment": args.augment}
    lowo = _leave_one_out(featurizer, by_batch, framed, held, args.threshold, args.block_shrink)
    results["leave_one_writer_out"] = lowo
    if lowo:
        worst = min(lowo.items(), key=_worst_recall)
        worst_fp = max(lowo.items(), key=lambda kv: kv[1]["fp_rate"] or 0.0)
        results["worst_writer_recall"] = {"batch": worst[0], "min_recall": _worst_recall(worst)}
        results["worst_writer_fp"] = {"batch": worst_fp[0], "fp_rate": worst_fp[1]["fp_rate"]}
    if not args.no_test:
        t0 = time.perf_counter()
        results["held_out_test_writers"] = _test_writers(
            featurizer, by_batch, framed, args.threshold, args.data, args.block_shrink
        )
        print(f"fitted on all batches and measured test writers [{time.perf_counter() - t0:.0f}s]")

    print()
    report = report_markdown(results)
    print(report)
    if args.write:
        write_section(
            "writers",
            "## Leave-one-writer-out (`benchmarks/writers.py`)\n\n" + report,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\ntotal {time.perf_counter() - started:.0f}s")
    return 0


def report_markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Tier 1 only, review threshold {results['threshold']}, training folds with "
        f"{results.get('augment', 0):.0%} of items also framed.",
        "",
        "| held out | items | recall surveillance | recall weapons | recall decisions | FP lawful | FP hard negatives |",
        "|---|---|---|---|---|---|---|",
    ]
    sections = list(results.get("leave_one_writer_out", {}).items())
    sections += [
        (f"**{k}** (test)", v) for k, v in results.get("held_out_test_writers", {}).items()
    ]
    for name, m in sections:
        r = m["recall"]
        lines.append(
            f"| {name} | {m['items']} | {_fmt(r['mass_domestic_surveillance'])} | "
            f"{_fmt(r['autonomous_weapons'])} | {_fmt(r['high_stakes_automated_decisions'])} | "
            f"{_fmt(m['fp_rate'])} | {_fmt(m['fp_rate_hard_negative'])} |"
        )
    if "worst_writer_recall" in results:
        w = results["worst_writer_recall"]
        f = results["worst_writer_fp"]
        lines += [
            "",
            f"Worst writer by recall: {w['batch']} (lowest per-red-line recall {_fmt(w['min_recall'])}); "
            f"by false positives: {f['batch']} ({_fmt(f['fp_rate'])}).",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
