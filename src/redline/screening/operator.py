"""Bring-your-own-policy categories: enforce an operator category from its examples alone.

An overlay category carries a definition and positive / negative example prompts. At
policy load they are embedded with the static encoder and a small L2-regularised logistic
regression is fitted (numpy, milliseconds), with the stack's built-in lawful examples as
extra negatives so that ordinary traffic stays below threshold. No code change and no
retraining of the shipped models is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from redline.screening.embedder import StaticEmbedder

__all__ = ["OperatorCategoryModel"]

FloatArray = npt.NDArray[np.float32]


class OperatorCategoryModel:
    """A per-category logistic scorer over static embeddings."""

    def __init__(self, category: str, weights: FloatArray, bias: float) -> None:
        self.category = category
        self._weights = weights
        self._bias = bias

    @classmethod
    def fit(
        cls,
        category: str,
        embedder: StaticEmbedder,
        *,
        positives: Sequence[str],
        negatives: Sequence[str],
        background: FloatArray,
        l2: float = 1e-3,
        steps: int = 600,
    ) -> OperatorCategoryModel:
        """Fit on the category's examples plus ``background`` negative embeddings.

        Features are standardised with the background's statistics, so a few hundred
        full-batch gradient steps converge; classes are weighted equally so that a few
        positives are not drowned by the background.
        """
        empty = np.zeros((0, embedder.dims), np.float32)
        pos = embedder.embed(list(positives)) if positives else empty
        neg = embedder.embed(list(negatives)) if negatives else empty
        background = background.astype(np.float32)
        mean = background.mean(axis=0)
        scale = background.std(axis=0) + 1e-3
        x = (np.vstack([pos, neg, background]) - mean) / scale
        y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg) + len(background))])
        weight = np.where(y == 1, 0.5 / max(1, len(pos)), 0.5 / max(1, len(y) - len(pos)))
        w = np.zeros(x.shape[1])
        b = 0.0
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-np.clip(x @ w + b, -30, 30)))
            error = (p - y) * weight
            w -= 0.5 * (x.T @ error + l2 * w)
            b -= 0.5 * float(error.sum())
        # Fold the standardisation into the weights: score(e) = sigmoid(e @ w' + b').
        folded = (w / scale).astype(np.float32)
        return cls(category, folded, b - float(mean @ folded))

    def score(self, embedding: FloatArray) -> float:
        """Probability-like score in [0, 1]."""
        logit = float(np.clip(float(embedding @ self._weights) + self._bias, -30, 30))
        return float(1.0 / (1.0 + np.exp(-logit)))
