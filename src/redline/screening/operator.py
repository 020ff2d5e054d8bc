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
        l2: float = 0.01,
        steps: int = 1500,
    ) -> OperatorCategoryModel:
        """Fit on the category's examples plus ``background`` negative embeddings."""
        pos = (
            embedder.embed(list(positives))
            if positives
            else np.zeros((0, embedder.dims), np.float32)
        )
        neg = (
            embedder.embed(list(negatives))
            if negatives
            else np.zeros((0, embedder.dims), np.float32)
        )
        x = np.vstack([pos, neg, background.astype(np.float32)])
        y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg) + len(background))]).astype(
            np.float32
        )
        # Balance the classes so a few positives are not drowned by the background.
        weight = np.where(y == 1, 0.5 / max(1, len(pos)), 0.5 / max(1, len(y) - len(pos)))
        w = np.zeros(x.shape[1], dtype=np.float32)
        b = 0.0
        rate = 8.0
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
            error = (p - y) * weight
            w -= rate * (x.T @ error + l2 * w)
            b -= rate * float(error.sum())
        return cls(category, w.astype(np.float32), b)

    def score(self, embedding: FloatArray) -> float:
        """Probability-like score in [0, 1]."""
        return float(1.0 / (1.0 + np.exp(-(float(embedding @ self._weights) + self._bias))))
