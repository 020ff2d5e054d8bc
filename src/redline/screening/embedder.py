"""Static sentence embeddings: a WordPiece tokenizer plus a distilled token table.

The table (``static_embeddings.npy``, vocab x dims, float16) is all-MiniLM-L6-v2 distilled
by :mod:`redline.training.distill`; a text's embedding is the mean of its tokens' rows,
L2-normalised. Cost is linear in the text and tiny: tokenising runs in Rust
(``tokenizers``) and pooling is one numpy gather. Token ids are returned too, because the
hashed n-gram features reuse them.

The same class serves the multilingual table (``static_ml.npy`` with its SentencePiece
tokenizer ``static_ml_tokenizer.json``, special ids 0-3) when the artifacts carry it (the
shipped ones do; ``redline train --english-only`` leaves it out); its mean embedding is
then an extra block of dense features for text the language gate calls foreign
(:mod:`redline.screening.features`, :mod:`redline.screening.language`), because the
English WordPiece vocabulary splits Cyrillic, Arabic or Devanagari words into single
letters and maps most Chinese characters to ``[UNK]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from redline.screening.lru import LRU

__all__ = ["StaticEmbedder"]

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]
_SPECIAL = 999  # ids below this are [PAD]/[UNK]/[CLS]/[SEP]/[MASK] and unused slots
_CACHE_CHARS = 8_192
_DIRECT_TEXTS = 4  # up to this many texts (or _DIRECT_CHARS in all) are encoded directly
_DIRECT_CHARS = 16_384


class StaticEmbedder:
    """Tokenise and embed texts with a distilled static table."""

    def __init__(self, tokenizer_path: Path, table_path: Path, *, special: int = _SPECIAL) -> None:
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        # Kept as stored (float16) and mapped read-only, not read: rows are widened to
        # float32 when they are pooled, which is exact, so results equal those of a float32
        # copy; only the rows traffic touches become resident, and the gateway and its
        # screening workers share those pages (the two tables are ~65 MB on disk).
        self._table: npt.NDArray[np.floating] = np.load(table_path, mmap_mode="r")
        self.dims = int(self._table.shape[1])
        self.special = special  # ids below this are special tokens, never embedded
        self._ids: LRU[str, IdArray] = LRU(4_096)

    def rows_sum(self, ids: IdArray) -> FloatArray:
        """Sum of the table rows of ``ids`` (content tokens, specials already removed), as
        float32; zeros for no ids."""
        if ids.size == 0:
            return np.zeros(self.dims, dtype=np.float32)
        total: FloatArray = self._table[ids].astype(np.float32).sum(axis=0)
        return total

    def token_ids(self, texts: Sequence[str]) -> list[IdArray]:
        """WordPiece ids of each text, special tokens removed (short texts are remembered:
        the whole-conversation judgement and the units often tokenise the same text)."""
        if not texts:
            return []
        out: list[IdArray | None] = [
            self._ids.get(t) if len(t) <= _CACHE_CHARS else None for t in texts
        ]
        missing = [i for i, ids in enumerate(out) if ids is None]
        if missing:
            todo = [texts[i] for i in missing]
            if len(todo) <= _DIRECT_TEXTS or sum(map(len, todo)) <= _DIRECT_CHARS:
                # Direct calls: handing a few short texts to the tokenizer's worker threads
                # costs more than encoding them here (the ids are the same).
                encodings = [self._tokenizer.encode(t, add_special_tokens=False) for t in todo]
            else:
                encodings = self._tokenizer.encode_batch(todo, add_special_tokens=False)
            for i, encoding in zip(missing, encodings, strict=True):
                ids = np.asarray(encoding.ids, dtype=np.int64)
                ids.flags.writeable = False
                out[i] = ids
                if len(texts[i]) <= _CACHE_CHARS:
                    self._ids.put(texts[i], ids)
        return [ids for ids in out if ids is not None]

    def embed_ids(self, ids: IdArray) -> FloatArray:
        """Mean of the table rows of ``ids`` (content tokens only), L2-normalised."""
        content = ids[ids >= self.special] if ids.size else ids
        if content.size == 0:
            return np.zeros(self.dims, dtype=np.float32)
        vector: FloatArray = self._table[content].astype(np.float32).mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return vector / np.float32(norm) if norm > 0 else vector

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """One row per text."""
        rows = [self.embed_ids(ids) for ids in self.token_ids(texts)]
        return np.vstack(rows) if rows else np.zeros((0, self.dims), dtype=np.float32)
