"""Fit the tier-1 heads (train time; requires the ``train`` extra for scikit-learn).

The whole-conversation head reads the final turn and its context; the unit head reads one
unit and only the legal-test factor presence of the rest (:mod:`redline.screening.units`).
Both are multinomial logistic regressions over dense + hashed sparse features."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from redline.domain import Message
from redline.screening.conversation import conversation_texts
from redline.screening.dataset import Example
from redline.screening.features import HASH_BUCKETS, FeatureVector, Featurizer
from redline.screening.linear import LinearHead
from redline.screening.units import ATOM_MAX_CHARS, Segmented, Unit, UnitFeaturizer, segment

__all__ = [
    "UNIT_ROUNDS",
    "WHOLE_BLOCK_SHRINK",
    "benign_paragraphs",
    "featurize",
    "train_tier1",
    "train_unit_head",
    "train_whole_head",
    "unit_training_set",
]


def featurize(featurizer: Featurizer, examples: Sequence[Example]) -> list[FeatureVector]:
    """Feature vectors of examples, in order."""
    return [featurizer.features(conversation_texts(e.messages, e.tools)) for e in examples]


#: Shrink of the whole-conversation head's multilingual block (a stronger L2 penalty on
#: those columns, as :data:`UNIT_ROUNDS` does for the unit head's embedding columns; the
#: multilingual unit head shrinks its block like its embedding columns). Chosen by
#: leave-one-writer-out on training writers I, N, O and U only: at 1 the held-out writers'
#: false positives rose by 5-20 points; at 3 they stayed near the English head's (U
#: excepted) with most of the recall gain; at 10 the gain shrank (N weapons 0.59 -> 0.35).
WHOLE_BLOCK_SHRINK = 3.0


def train_whole_head(
    featurizer: Featurizer,
    features: Sequence[FeatureVector],
    labels: Sequence[str],
    classes: Sequence[str],
    *,
    block_shrink: float = WHOLE_BLOCK_SHRINK,
) -> LinearHead:
    """Fit the whole-conversation head (:func:`train_tier1`, with the multilingual block,
    when there is one, shrunk by ``block_shrink``)."""
    shrink = None
    if featurizer.block_size:
        shrink = np.ones(featurizer.dense_size, dtype=np.float32)
        shrink[-featurizer.block_size :] = block_shrink
    return train_tier1(features, labels, classes, dense_shrink=shrink)


def train_tier1(
    features: Sequence[FeatureVector],
    labels: Sequence[str],
    classes: Sequence[str],
    *,
    c: float = 0.05,
    weights: Sequence[float] | None = None,
    dense_shrink: npt.NDArray[np.float32] | None = None,
) -> LinearHead:
    """Multinomial logistic regression over standardised dense + hashed sparse features."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    dense = np.vstack([f.dense for f in features])
    mean = dense.mean(axis=0)
    scale = dense.std(axis=0) + 1e-6
    if dense_shrink is not None:
        # Standardised features divided by ``dense_shrink`` (folded into the stored scale):
        # a stronger L2 penalty on those columns.
        scale = scale * dense_shrink
    rows = np.concatenate([np.full(len(f.sparse_index), i) for i, f in enumerate(features)])
    cols = np.concatenate([f.sparse_index for f in features])
    vals = np.concatenate([f.sparse_value for f in features])
    sparse_part = sparse.csr_matrix((vals, (rows, cols)), shape=(len(features), HASH_BUCKETS))
    x = sparse.hstack([sparse.csr_matrix((dense - mean) / scale), sparse_part]).tocsr()
    y = np.asarray([list(classes).index(label) for label in labels])
    model = LogisticRegression(C=c, max_iter=5000, random_state=0)
    model.fit(x, y, sample_weight=None if weights is None else np.asarray(weights))
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


def _positive_part(example: Example) -> int:
    """The part a red-line label is about: the last user turn (agent loops end in tool
    results, which are data), else the final message."""
    for i in range(len(example.messages) - 1, -1, -1):
        if example.messages[i].role == "user":
            return i
    return len(example.messages) - 1


def benign_paragraphs(examples: Sequence[Example], *, count: int, seed: int = 0) -> list[str]:
    """Long lines of everyday prose made from the training data's own benign requests
    (tag ``benign``): 3-12 of them joined into one line. A unit can be any paragraph of a
    long document, and the labelled data has few long everyday paragraphs, so without
    these the unit head scored unfamiliar prose by its length and topic drift."""
    pool = [
        e.messages[-1].text.replace("\n", " ")
        for e in examples
        if e.label == "allow" and "benign" in e.tags and e.messages
    ]
    if not pool or count <= 0:
        return []
    rng = random.Random(seed)  # noqa: S311 - data augmentation, not security
    out: list[str] = []
    for _ in range(count):
        parts = [rng.choice(pool) for _ in range(rng.randint(3, 12))]
        out.append(" ".join(parts)[:ATOM_MAX_CHARS])
    return out


def _unit_feature(featurizer: UnitFeaturizer, segmented: Segmented, unit: Unit) -> FeatureVector:
    return featurizer.features(segmented.unit_atoms(unit), segmented.rest_presence(unit))


def _positive(
    featurizer: UnitFeaturizer,
    segmented: Segmented,
    example: Example,
    locate: LinearHead | None,
) -> FeatureVector | None:
    part = _positive_part(example)
    n = len(segmented.part_atoms[part])
    if n == 0:
        return None
    feature = _unit_feature(featurizer, segmented, Unit(part, 0, n, "positive"))
    if locate is None:
        return feature
    block = featurizer.block_size
    best = locate.gated_probabilities(feature, block)[example.label]
    for candidate in segmented.units:
        other = _unit_feature(featurizer, segmented, candidate)
        score = locate.gated_probabilities(other, block)[example.label]
        if score > best:
            best, feature = score, other
    return feature


def unit_training_set(
    featurizer: UnitFeaturizer,
    examples: Sequence[Example],
    *,
    per_conversation: float = 8.0,
    augment: int = 2_000,
    locate: LinearHead | None = None,
) -> tuple[list[FeatureVector], list[str], list[float]]:
    """Unit features, labels and sample weights for the unit head.

    Labels are per conversation, so units are labelled only where the label is known:
    a red-line conversation gives one positive, its last user turn as a whole (with the
    factor presence of everything else) or, given a first-round head ``locate``, whichever
    of its units that head scores highest for the label (multiple-instance learning: the
    harm may sit in a tool definition, a system prompt, one paragraph or a decoded
    payload); a lawful conversation gives every unit as a negative (each conversation's
    units share ``per_conversation`` weight at most), except that in a *recovery*
    conversation (a refused request, then a lawful one) only the final turn's units are
    negatives. ``augment`` everyday paragraphs made from the training data's benign
    requests (:func:`benign_paragraphs`) are negatives too.
    """
    features: list[FeatureVector] = []
    labels: list[str] = []
    weights: list[float] = []
    for text in benign_paragraphs(examples, count=augment):
        segmented = segment(featurizer, (Message(role="user", text=text),), ())
        for unit in segmented.units:
            features.append(_unit_feature(featurizer, segmented, unit))
            labels.append("allow")
            weights.append(1.0)
    for example in examples:
        if not example.messages and not example.tools:
            continue
        segmented = segment(featurizer, example.messages, example.tools)
        if example.label != "allow":
            feature = (
                _positive(featurizer, segmented, example, locate) if example.messages else None
            )
            if feature is not None:
                features.append(feature)
                labels.append(example.label)
                weights.append(1.0)
            continue
        units = segmented.units
        if "recovery" in example.tags:
            final = len(example.messages) - 1
            units = [u for u in units if u.part == final]
        weight = min(1.0, per_conversation / max(1, len(units)))
        for unit in units:
            features.append(_unit_feature(featurizer, segmented, unit))
            labels.append("allow")
            weights.append(weight)
    return features, labels, weights


#: The unit head's fitting schedule: (embedding shrink, C) per round; each round after the
#: first locates the positive unit of every red-line conversation with the previous head.
#: Chosen on validation batch V and on everyday paragraphs (docs/benchmarks.md,
#: "Placement attacks"): shrinking the embedding columns (a stronger penalty on them) kept
#: the head from scoring unfamiliar prose by its topic drift (up to 0.87 on a paragraph about
#: bakeries before, below 0.4 after) at the same recall.
UNIT_ROUNDS: tuple[tuple[float, float], ...] = ((3.0, 0.05), (12.0, 0.5), (20.0, 1.0))


def train_unit_head(
    featurizer: UnitFeaturizer,
    examples: Sequence[Example],
    classes: Sequence[str],
    *,
    rounds: Sequence[tuple[float, float]] = UNIT_ROUNDS,
) -> LinearHead:
    """Fit the unit head (:data:`UNIT_ROUNDS`, multiple-instance rounds)."""
    head: LinearHead | None = None
    dims = featurizer.embedder.dims
    ml_dims = featurizer.multilingual.dims if featurizer.multilingual else 0
    for shrink_embedding, c in rounds:
        x, y, w = unit_training_set(featurizer, examples, locate=head)
        shrink = np.ones(featurizer.dense_size, dtype=np.float32)
        shrink[:dims] = shrink_embedding
        if ml_dims:
            shrink[-ml_dims:] = shrink_embedding  # the multilingual block, last
        head = train_tier1(x, y, classes, c=c, weights=w, dense_shrink=shrink)
    if head is None:
        raise ValueError("no rounds to fit")
    return head
