"""Fit the tier-1 head (train time; requires the ``train`` extra for scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from redline.screening.conversation import conversation_texts
from redline.screening.dataset import Example
from redline.screening.features import HASH_BUCKETS, FeatureVector, Featurizer
from redline.screening.linear import LinearHead

__all__ = ["featurize", "train_tier1"]


def featurize(featurizer: Featurizer, examples: Sequence[Example]) -> list[FeatureVector]:
    """Feature vectors of examples, in order."""
    return [featurizer.features(conversation_texts(e.messages, e.tools)) for e in examples]


def train_tier1(
    features: Sequence[FeatureVector],
    labels: Sequence[str],
    classes: Sequence[str],
    *,
    c: float = 0.05,
) -> LinearHead:
    """Multinomial logistic regression over standardised dense + hashed sparse features."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    dense = np.vstack([f.dense for f in features])
    mean = dense.mean(axis=0)
    scale = dense.std(axis=0) + 1e-6
    rows = np.concatenate([np.full(len(f.sparse_index), i) for i, f in enumerate(features)])
    cols = np.concatenate([f.sparse_index for f in features])
    vals = np.concatenate([f.sparse_value for f in features])
    sparse_part = sparse.csr_matrix((vals, (rows, cols)), shape=(len(features), HASH_BUCKETS))
    x = sparse.hstack([sparse.csr_matrix((dense - mean) / scale), sparse_part]).tocsr()
    y = np.asarray([list(classes).index(label) for label in labels])
    model = LogisticRegression(C=c, max_iter=5000, random_state=0)
    model.fit(x, y)
    coef = model.coef_.astype(np.float32)
    width = dense.shape[1]
    return LinearHead(
        classes=tuple(classes),
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        w_dense=coef[:, :width],
        w_sparse=coef[:, width:],
        bias=model.intercept_.astype(np.float32),
    )
