"""``redline train``: reproduce every safety-stack artifact from the data in the repo.

Steps: distil the static table from all-MiniLM-L6-v2 (and, with ``multilingual``, build
the multilingual table, :mod:`redline.training.multilingual`), fit tier 1 (the
whole-conversation head and the unit head, :mod:`redline.screening.units`, over the
English-only features; with ``multilingual``, also the same two heads over the features with
the language-gated multilingual block, :mod:`redline.screening.language`) on the training
batches, embed background negatives for operator categories, fine-tune and export tier 2,
then write ``manifest.json`` with checksums, the training-data digests and the metrics
measured on the held-out test batch and the validation batch. :func:`train_units_only`
refits only the unit heads. Requires the ``train`` extra; serving needs none of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from redline.screening.artifacts import (
    MULTILINGUAL_HEAD,
    MULTILINGUAL_SPECIAL,
    MULTILINGUAL_TABLE,
    MULTILINGUAL_TOKENIZER,
    MULTILINGUAL_UNIT_HEAD,
    sha256_file,
)
from redline.screening.dataset import Example, load_examples
from redline.screening.embedder import StaticEmbedder
from redline.screening.features import Featurizer
from redline.screening.units import UnitFeaturizer
from redline.training.augment import augment
from redline.training.distill import distill_static_embeddings
from redline.training.multilingual import NOTICE, build_multilingual_table
from redline.training.tier1 import (
    UNIT_ROUNDS,
    WHOLE_BLOCK_SHRINK,
    featurize,
    train_unit_head,
    train_whole_head,
)

__all__ = [
    "AUGMENT_SHARE",
    "CLASSES",
    "embedders",
    "record_metrics",
    "train_all",
    "train_units_only",
    "training_examples",
    "training_files",
]

logger = logging.getLogger(__name__)

CLASSES = (
    "allow",
    "mass_domestic_surveillance",
    "autonomous_weapons",
    "high_stakes_automated_decisions",
)
VERSION = "redline-screening-1"
#: Share of the training conversations also seen inside a frame (:mod:`.augment`).
AUGMENT_SHARE = 0.35


def training_files(data_dir: Path) -> list[Path]:
    """The training batches (``batch_*.jsonl``); ``test_*.jsonl`` files are never trained on."""
    return sorted(data_dir.glob("batch_*.jsonl"))


def training_examples(files: list[Path]) -> list[Example]:
    """The written conversations of ``files`` plus their framed copies (:func:`augment`)."""
    written = load_examples(files)
    return written + augment(written, share=AUGMENT_SHARE)


def _digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def embedders(
    directory: Path, *, multilingual: bool | None = None
) -> tuple[StaticEmbedder, StaticEmbedder | None]:
    """The English static embedder of an artifact directory and the multilingual table's
    (built by :mod:`redline.training.multilingual`): when ``multilingual`` is None, if the
    directory holds one."""
    english = StaticEmbedder(directory / "tokenizer.json", directory / "static_embeddings.npy")
    if multilingual is None:
        multilingual = (directory / MULTILINGUAL_TABLE).exists()
    if not multilingual:
        return english, None
    table = StaticEmbedder(
        directory / MULTILINGUAL_TOKENIZER,
        directory / MULTILINGUAL_TABLE,
        special=MULTILINGUAL_SPECIAL,
    )
    return english, table


def _fit_units(
    embedder: StaticEmbedder,
    multilingual: StaticEmbedder | None,
    examples: list[Example],
    out_dir: Path,
) -> None:
    """The English unit head (``units.npz``) and, with the multilingual table, the unit
    head that reads its block too (``units_ml.npz``)."""
    logger.info("fitting the unit head on %d examples (%d rounds)", len(examples), len(UNIT_ROUNDS))
    head = train_unit_head(UnitFeaturizer(embedder), examples, CLASSES)
    head.save(out_dir / "units.npz")
    if multilingual is not None:
        logger.info("fitting the multilingual unit head")
        head = train_unit_head(UnitFeaturizer(embedder, multilingual), examples, CLASSES)
        head.save(out_dir / MULTILINGUAL_UNIT_HEAD)


def _data_record(files: list[Path], examples: list[Example]) -> dict[str, object]:
    """What a model was fitted on: the batch files, their digest, the conversation count."""
    return {
        "files": [f.name for f in files],
        "sha256": _digest(files),
        "examples": len(examples),
        "augmented": sum("augmented" in e.tags for e in examples),
    }


def _unit_record(files: list[Path], examples: list[Example]) -> dict[str, object]:
    return {**_data_record(files, examples), "rounds": [list(r) for r in UNIT_ROUNDS]}


def train_all(
    data_dir: Path,
    out_dir: Path,
    *,
    tier2: bool = True,
    distill: bool = True,
    multilingual: bool = False,
) -> Path:
    """Rebuild the artifacts in ``out_dir``; returns the manifest path.

    Without ``tier2``, an existing ``tier2.onnx`` in ``out_dir`` is kept (and listed).
    ``multilingual`` also builds the multilingual table and fits the two heads that read
    its language-gated block (``tier1_ml.npz``, ``units_ml.npz``) next to the English heads
    (measured and not shipped: docs/ARCHITECTURE.md); without it the table is neither built
    nor listed.
    """
    files = training_files(data_dir)
    examples = training_examples(files)
    out_dir.mkdir(parents=True, exist_ok=True)
    if distill or not (out_dir / "static_embeddings.npy").exists():
        logger.info("distilling static embeddings")
        distill_static_embeddings(out_dir)
    if multilingual and (distill or not (out_dir / MULTILINGUAL_TABLE).exists()):
        logger.info("building the multilingual table")
        build_multilingual_table(files, out_dir)
    embedder, table = embedders(out_dir, multilingual=multilingual)
    labels = [e.label for e in examples]
    english = Featurizer(embedder)
    logger.info("fitting tier 1 on %d examples", len(examples))
    head = train_whole_head(english, featurize(english, examples), labels, CLASSES)
    head.save(out_dir / "tier1.npz")
    if table is not None:
        logger.info("fitting the multilingual tier-1 head")
        gated = Featurizer(embedder, table)
        head = train_whole_head(gated, featurize(gated, examples), labels, CLASSES)
        head.save(out_dir / MULTILINGUAL_HEAD)
    _fit_units(embedder, table, examples, out_dir)
    # Background negatives for operator categories: every training conversation's final
    # turn (lawful traffic and the three red lines alike), so a new category is learned
    # against both ordinary requests and other harmful-looking ones.
    texts = [
        e.messages[-1].text[:2000] for e in examples if e.messages and "augmented" not in e.tags
    ]
    np.save(out_dir / "background.npy", embedder.embed(texts).astype(np.float16))
    names = ["tokenizer.json", "static_embeddings.npy", "tier1.npz", "units.npz", "background.npy"]
    if table is not None:
        names += [
            MULTILINGUAL_TOKENIZER,
            MULTILINGUAL_TABLE,
            NOTICE,
            MULTILINGUAL_HEAD,
            MULTILINGUAL_UNIT_HEAD,
        ]
    path = out_dir / "manifest.json"
    # What tier 2 was fine-tuned on: this run's data, or (kept model) the earlier record.
    tier2_record = json.loads(path.read_text()).get("tier2") if path.exists() else None
    if tier2:
        from redline.training.tier2 import train_tier2

        logger.info("fine-tuning tier 2")
        train_tier2(examples, CLASSES, out_dir / "tier2.onnx")
        tier2_record = _data_record(files, examples)
    if (out_dir / "tier2.onnx").exists():
        names.append("tier2.onnx")
    manifest = {
        "version": VERSION,
        "classes": list(CLASSES),
        "files": {name: sha256_file(out_dir / name) for name in names},
        "training_data": _data_record(files, examples),
        "unit_head": _unit_record(files, examples),
        "tier2": tier2_record,
        "metrics": {},
    }
    if table is not None:
        # The multilingual block is filled only for text the language gate calls foreign
        # (the same code at serving time); the whole-conversation head's block shrink.
        manifest["multilingual"] = {
            "gate": "redline.screening.language.is_foreign",
            "whole_block_shrink": WHOLE_BLOCK_SHRINK,
        }
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return record_metrics(data_dir, out_dir)


def train_units_only(data_dir: Path, out_dir: Path) -> Path:
    """Refit only the unit heads (``units.npz`` and, when the artifacts carry the
    multilingual table, ``units_ml.npz``) on the current training batches, keep every other
    artifact as recorded, and re-measure the metrics; returns the manifest path."""
    path = out_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    files = training_files(data_dir)
    examples = training_examples(files)
    embedder, multilingual = embedders(
        out_dir, multilingual=MULTILINGUAL_TABLE in manifest["files"]
    )
    _fit_units(embedder, multilingual, examples, out_dir)
    manifest["files"]["units.npz"] = sha256_file(out_dir / "units.npz")
    if multilingual is not None:
        manifest["files"][MULTILINGUAL_UNIT_HEAD] = sha256_file(out_dir / MULTILINGUAL_UNIT_HEAD)
    manifest["unit_head"] = _unit_record(files, examples)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return record_metrics(data_dir, out_dir)


def record_metrics(data_dir: Path, out_dir: Path) -> Path:
    """Measure the artifacts in ``out_dir`` on the held-out test batch F and the validation
    batch V (recall per red line, false-positive rate; a conversation counts as flagged when
    the floor policy's decision is not *allow*, as in ``redline eval``) and record them in
    the manifest, which ``tests/integration/test_artifacts.py`` re-checks."""
    from redline.policy import load_builtin_floor
    from redline.screening.batch import Screen
    from redline.screening.stack import SafetyStack

    path = out_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    policy = load_builtin_floor()
    screen = Screen(policy, SafetyStack.load(policy, out_dir))
    metrics: dict[str, object] = {}
    for name in ("test_f.jsonl", "valid_v.jsonl"):
        if not (data_dir / name).exists():
            continue
        caught: dict[str, list[int]] = {}
        for example in load_examples([data_dir / name]):
            flagged = screen.decide(example.messages, example.tools).action.value != "allow"
            pair = caught.setdefault(example.label, [0, 0])
            pair[0] += int(flagged)
            pair[1] += 1
        allow = caught.pop("allow", [0, 0])
        metrics[name] = {
            "recall": {c: round(v[0] / v[1], 4) for c, v in sorted(caught.items())},
            "false_positive_rate": round(allow[0] / allow[1], 4) if allow[1] else None,
        }
    manifest["metrics"] = metrics
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
