"""Feature extraction: conversation texts -> one dense vector and one sparse hashed vector.

Dense part: static embeddings of the final instruction and of the context, factor counts
for both, structure (records, turns, tools, obfuscation), then (when the artifacts carry
the multilingual table) the multilingual embeddings of the final instruction and of the
context, filled only when the final instruction is detectably not English
(:func:`redline.screening.language.is_foreign`; the context's only when it is not English
either) and zeros otherwise, so an English instruction is read with exactly the
English-only features.
Sparse part: hashed WordPiece unigrams and bigrams of the final turn and the context in
separate namespaces, log-scaled term frequencies, L2-normalised. WordPiece pieces double
as character n-grams for languages the encoder knows poorly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from redline.screening.conversation import ConversationTexts
from redline.screening.embedder import StaticEmbedder
from redline.screening.factors import FACTORS, factor_counts
from redline.screening.language import is_foreign
from redline.screening.lru import LRU

__all__ = [
    "HASH_BUCKETS",
    "FeatureVector",
    "Featurizer",
    "counts_of",
    "dense_size",
    "hashed_features",
    "hashed_ids",
    "non_ascii_count",
    "unit_length",
    "without_block",
]

HASH_BUCKETS = 1 << 18
_STRUCTURE = (
    "log_records",
    "has_records",
    "log_turns",
    "log_tools",
    "log_final_chars",
    "non_ascii_ratio",
    "obfuscation_signals",
    "has_context",
)
_PRIME = 1_000_003
_COUNTS: LRU[str, tuple[int, ...]] = LRU(4_096)
_CACHE_CHARS = 8_192


def counts_of(text: str) -> tuple[int, ...]:
    """:func:`redline.screening.factors.factor_counts`, remembered for short texts: the
    whole-conversation judgement and the units often read the same text in one request."""
    if len(text) > _CACHE_CHARS:
        return tuple(factor_counts(text))
    found = _COUNTS.get(text)
    if found is None:
        found = tuple(factor_counts(text))
        _COUNTS.put(text, found)
    return found


def non_ascii_count(text: str) -> int:
    """How many characters of ``text`` are outside ASCII (without a Python-level loop)."""
    return 0 if text.isascii() else len(text) - len(text.encode("ascii", "ignore"))


@dataclass(frozen=True, slots=True)
class FeatureVector:
    """Dense values plus sparse (index, value) pairs."""

    dense: npt.NDArray[np.float32]
    sparse_index: npt.NDArray[np.int64]
    sparse_value: npt.NDArray[np.float32]


def without_block(features: FeatureVector, width: int) -> FeatureVector | None:
    """``features`` with the last ``width`` dense columns (the multilingual block) zeroed,
    or None when there is no block or it is already zeros: the English-only features of a
    text the language gate let through."""
    if width <= 0 or not features.dense[-width:].any():
        return None
    dense = features.dense.copy()
    dense[-width:] = 0.0
    return FeatureVector(
        dense=dense, sparse_index=features.sparse_index, sparse_value=features.sparse_value
    )


def dense_size(dims: int, multilingual_dims: int = 0) -> int:
    """Length of the dense vector for an embedder of ``dims`` dimensions (and a multilingual
    table of ``multilingual_dims``, whose two blocks come last)."""
    return 2 * dims + 2 * len(FACTORS) + len(_STRUCTURE) + 2 * multilingual_dims


def hashed_ids(
    ids: npt.NDArray[np.int64], namespace: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Hashed unigram and bigram buckets of WordPiece ids, with log1p term frequencies."""
    if ids.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    grams = ids * 2 + namespace
    if ids.size > 1:
        bigrams = (ids[:-1] * _PRIME + ids[1:]) * 2 + namespace + 7919
        grams = np.concatenate([grams, bigrams])
    buckets = (grams * 2654435761) % HASH_BUCKETS
    index, counts = np.unique(buckets, return_counts=True)
    values = np.log1p(counts).astype(np.float32)
    return index, values


def hashed_features(
    *ids_by_namespace: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The sparse part: :func:`hashed_ids` of each id array in its own namespace (0, 1, ...),
    L2-normalised together."""
    parts = [hashed_ids(ids, namespace) for namespace, ids in enumerate(ids_by_namespace)]
    index = np.concatenate([i for i, _ in parts])
    values = np.concatenate([v for _, v in parts])
    norm = float(np.linalg.norm(values))
    if norm > 0:
        values = values / norm
    return index, values


def unit_length(vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``vector`` scaled to length 1, as float32 (all zeros stay zeros): a sum of table rows
    made into the mean embedding's direction."""
    norm = float(np.linalg.norm(vector))
    if norm > 0:
        scaled: npt.NDArray[np.float32] = (vector / np.float32(norm)).astype(np.float32)
        return scaled
    return vector.astype(np.float32)


class Featurizer:
    """Builds feature vectors; owns the embedders (the English table and, when the
    artifacts have one, the multilingual table)."""

    def __init__(
        self,
        embedder: StaticEmbedder,
        multilingual: StaticEmbedder | None = None,
        *,
        compose_context: bool = True,
    ) -> None:
        self.embedder = embedder
        self.multilingual = multilingual
        self.dense_size = dense_size(embedder.dims, multilingual.dims if multilingual else 0)
        self.compose_context = compose_context

    def _ids(self, texts: ConversationTexts) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Token ids of the final turn and of the context. The context's ids are its pieces'
        ids one after the other (WordPiece splits at whitespace, and the pieces are joined
        by whitespace), so a message already tokenised as a final turn, or in an earlier
        request of the same chat, is not tokenised again."""
        if not (self.compose_context and texts.context_pieces):
            final_ids, context_ids = self.embedder.token_ids([texts.final, texts.context])
            return final_ids, context_ids
        final_ids, *pieces = self.embedder.token_ids([texts.final, *texts.context_pieces])
        return final_ids, np.concatenate(pieces)

    def features(self, texts: ConversationTexts) -> FeatureVector:
        final_ids, context_ids = self._ids(texts)
        dense = np.concatenate(
            [
                self.embedder.embed_ids(final_ids),
                self.embedder.embed_ids(context_ids),
                np.log1p(np.asarray(counts_of(texts.final), dtype=np.float32)),
                np.log1p(np.asarray(counts_of(texts.context), dtype=np.float32)),
                self._structure(texts),
                *self._multilingual(texts),
            ]
        ).astype(np.float32)
        index, values = hashed_features(final_ids, context_ids)
        return FeatureVector(dense=dense, sparse_index=index, sparse_value=values)

    def single_turn(
        self,
        *,
        ids: npt.NDArray[np.int64],
        emb_sum: npt.NDArray[np.float32],
        counts: npt.NDArray[np.int64],
        n_records: int,
        chars: int,
        non_ascii: float,
        n_signals: int,
        ml_sum: npt.NDArray[np.float32] | None,
    ) -> FeatureVector:
        """:meth:`features` of a conversation of one turn with no tools, composed from
        what the units already computed of that turn's text (its instruction's token ids
        and the sum of their table rows, factor counts, record count, the normalised
        text's length and non-ASCII share over its first 4,096 characters, obfuscation
        signals, and the multilingual row sum when the language gate calls it foreign):
        the same vector, without tokenising or matching the text again."""
        structure = _structure_row(
            n_records=n_records,
            n_turns=1,
            n_tools=0,
            final_chars=chars,
            non_ascii=non_ascii,
            n_signals=n_signals,
            has_context=False,
        )
        blocks = [
            unit_length(emb_sum),
            np.zeros(self.embedder.dims, dtype=np.float32),
            np.log1p(counts.astype(np.float32)),
            np.zeros(len(FACTORS), dtype=np.float32),
            structure,
        ]
        ml = self.multilingual
        if ml is not None:
            ml_zeros = np.zeros(ml.dims, dtype=np.float32)
            blocks += [unit_length(ml_sum) if ml_sum is not None else ml_zeros, ml_zeros]
        dense = np.concatenate(blocks).astype(np.float32)
        index, values = hashed_features(ids, np.zeros(0, dtype=np.int64))
        return FeatureVector(dense=dense, sparse_index=index, sparse_value=values)

    def _multilingual(self, texts: ConversationTexts) -> list[npt.NDArray[np.float32]]:
        """The multilingual block: the final instruction's and the context's embeddings
        over the multilingual table, each only when that text is not English, and the
        context's only when the final instruction is not English either (else zeros;
        English text is not even tokenised for it). An English instruction is read by the
        English head alone, whatever language its tool definitions or earlier turns are
        in: measured, gating the context on its own refused lawful English requests whose
        tool descriptions were in Russian, Arabic or Korean (their units still read the
        foreign text with the multilingual unit head)."""
        ml = self.multilingual
        if ml is None:
            return []
        zeros = np.zeros(ml.dims, dtype=np.float32)
        if not (texts.final and is_foreign(texts.final)):
            return [zeros, zeros]
        out = [ml.embed_ids(ml.token_ids([texts.final])[0])]
        if texts.context and is_foreign(texts.context):
            out.append(ml.embed_ids(ml.token_ids([texts.context])[0]))
        else:
            out.append(zeros)
        return out

    @property
    def block_size(self) -> int:
        """Width of the multilingual block (the last columns of the dense part)."""
        return 2 * self.multilingual.dims if self.multilingual is not None else 0

    @staticmethod
    def _structure(texts: ConversationTexts) -> npt.NDArray[np.float32]:
        final = texts.final_full
        return _structure_row(
            n_records=texts.n_records,
            n_turns=texts.n_turns,
            n_tools=texts.n_tools,
            final_chars=len(final),
            non_ascii=non_ascii_count(final[:4096]) / max(1, min(len(final), 4096)),
            n_signals=len(texts.signals),
            has_context=bool(texts.context),
        )


def _structure_row(
    *,
    n_records: int,
    n_turns: int,
    n_tools: int,
    final_chars: int,
    non_ascii: float,
    n_signals: int,
    has_context: bool,
) -> npt.NDArray[np.float32]:
    """The structure columns (:data:`_STRUCTURE`, in that order)."""
    return np.asarray(
        [
            np.log1p(n_records),
            float(n_records > 0),
            np.log1p(n_turns),
            np.log1p(n_tools),
            np.log1p(final_chars) / 10.0,
            non_ascii,
            float(n_signals),
            float(has_context),
        ],
        dtype=np.float32,
    )
