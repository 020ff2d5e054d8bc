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
from redline.screening.features import FeatureVector, without_block

__all__ = ["GatedHead", "LinearHead"]


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

    def gated_probabilities(self, features: FeatureVector, block: int) -> dict[str, float]:
        """:meth:`probabilities`, except that when the last ``block`` dense columns (the
        multilingual block) are not zeros, each red line gets the higher of its probability
        with the block and without it (and ``allow`` the lower). Training locates the
        positive unit of a red-line conversation with this reading of the multilingual
        unit head (:func:`redline.training.tier1.train_unit_head`)."""
        probs = self.probabilities(features)
        english = without_block(features, block)
        if english is None:
            return probs
        return _at_least(probs, self.probabilities(english))


def _at_least(first: dict[str, float], second: dict[str, float]) -> dict[str, float]:
    """Per red line the higher probability of two readings (``allow``: the lower)."""
    return {c: (min if c == "allow" else max)(p, second[c]) for c, p in first.items()}


class GatedHead:
    """The English head, and for text the language gate lets through, the multilingual one.

    ``english`` reads the English-only features (the dense vector without the multilingual
    block); ``multilingual`` (None without the table) reads the whole vector. When the
    block is zeros (English text, :func:`redline.screening.language.is_foreign`) only the
    English head scores, exactly as in a stack without the table. Otherwise each red line
    gets the higher of the two heads' probabilities: the multilingual route can only add
    to what the English head finds in the same text, so passing the gate never lowers a
    red-line score."""

    def __init__(
        self, english: LinearHead, multilingual: LinearHead | None = None, *, block: int = 0
    ) -> None:
        if multilingual is not None and multilingual.classes != english.classes:
            raise ClassifierError("the English and multilingual heads name different classes")
        if multilingual is not None and block <= 0:
            raise ClassifierError("a multilingual head needs the multilingual block")
        self.english = english
        self.multilingual = multilingual
        self.block = block if multilingual is not None else 0
        self.classes = english.classes

    def probabilities(self, features: FeatureVector) -> dict[str, float]:
        """Softmax probability per class (the higher of the two heads per red line when
        the block is filled)."""
        if self.multilingual is None:
            return self.english.probabilities(features)
        block = features.dense[-self.block :]
        english = self.english.probabilities(
            FeatureVector(
                dense=features.dense[: -self.block],
                sparse_index=features.sparse_index,
                sparse_value=features.sparse_value,
            )
        )
        if not block.any():
            return english
        return _at_least(self.multilingual.probabilities(features), english)
