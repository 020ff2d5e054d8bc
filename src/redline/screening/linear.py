"""The tier-1 head: a multinomial logistic regression over dense + hashed sparse features.

Weights live in ``tier1.npz``: ``classes`` (class names, ``allow`` first), ``mean`` and
``scale`` (dense standardisation), ``w_dense`` (classes x dense), ``w_sparse``
(classes x HASH_BUCKETS, float16), ``bias``. Scoring is a handful of numpy operations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from redline.errors import ClassifierError
from redline.screening.features import FeatureVector

__all__ = ["LinearHead"]


class LinearHead:
    """Softmax scores per class from a feature vector."""

    def __init__(
        self,
        *,
        classes: tuple[str, ...],
        mean: npt.NDArray[np.float32],
        scale: npt.NDArray[np.float32],
        w_dense: npt.NDArray[np.float32],
        w_sparse: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
    ) -> None:
        if classes[0] != "allow":
            raise ClassifierError("tier-1 head: first class must be 'allow'")
        self.classes = classes
        self._mean = mean.astype(np.float32)
        self._inv_scale = (1.0 / np.where(scale == 0, 1.0, scale)).astype(np.float32)
        self._w_dense = w_dense.astype(np.float32)
        self._w_sparse_t = np.ascontiguousarray(w_sparse.T.astype(np.float32))
        self._bias = bias.astype(np.float32)

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        """Load from ``tier1.npz``."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    classes=tuple(str(c) for c in data["classes"]),
                    mean=data["mean"],
                    scale=data["scale"],
                    w_dense=data["w_dense"],
                    w_sparse=data["w_sparse"],
                    bias=data["bias"],
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ClassifierError(f"cannot load tier-1 head {path}: {exc}") from exc

    def save(self, path: Path) -> None:
        """Write ``tier1.npz`` (used by training)."""
        np.savez_compressed(
            path,
            classes=np.asarray(self.classes),
            mean=self._mean,
            scale=(1.0 / self._inv_scale).astype(np.float32),
            w_dense=self._w_dense,
            w_sparse=self._w_sparse_t.T.astype(np.float16),
            bias=self._bias,
        )

    def logits(self, features: FeatureVector) -> npt.NDArray[np.float32]:
        """Raw class logits."""
        dense = (features.dense - self._mean) * self._inv_scale
        out = self._w_dense @ dense + self._bias
        if features.sparse_index.size:
            out = out + features.sparse_value @ self._w_sparse_t[features.sparse_index]
        return out.astype(np.float32)

    def probabilities(self, features: FeatureVector) -> dict[str, float]:
        """Softmax probability per class."""
        logits = self.logits(features)
        logits = logits - logits.max()
        exp = np.exp(logits)
        probs = exp / exp.sum()
        return {name: float(p) for name, p in zip(self.classes, probs, strict=True)}
