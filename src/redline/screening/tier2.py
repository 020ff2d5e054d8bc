"""Tier 2: a fine-tuned MiniLM cross-encoder, int8-quantised, served with onnxruntime.

It reads the salient excerpt of the final turn paired with the context (at most
:data:`MAX_TOKENS` tokens) and returns class probabilities; for a unit
(:mod:`redline.screening.units`) it reads the unit's excerpt paired with the
factor-matching sentences outside it. It costs milliseconds (see
docs/benchmarks.md), so the stack calls it only when tier 1 is not confident the request
is harmless. Trained by :mod:`redline.training.tier2`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from redline.errors import ClassifierError
from redline.screening.conversation import ConversationTexts
from redline.screening.excerpt import salient_excerpt
from redline.screening.lru import LRU

__all__ = ["MAX_TOKENS", "Tier2Model", "pair_for"]

MAX_TOKENS = 160


def pair_for(texts: ConversationTexts) -> tuple[str, str]:
    """The (final, context) text pair the encoder reads."""
    return salient_excerpt(texts.final, max_tokens=110), salient_excerpt(
        texts.context, max_tokens=60
    )


class Tier2Model:
    """ONNX session plus tokenizer."""

    def __init__(self, model_path: Path, tokenizer_path: Path, classes: tuple[str, ...]) -> None:
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:
            raise ClassifierError(f"cannot load tier-2 model {model_path}: {exc}") from exc
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
        self._tokenizer.no_padding()
        self.classes = classes
        self._cache: LRU[tuple[str, str], dict[str, float]] = LRU(1_024)

    def probabilities(self, texts: ConversationTexts) -> dict[str, float]:
        """Softmax probability per class for the whole-conversation pair."""
        return self.pair_probabilities(*pair_for(texts))

    def pair_probabilities(self, first: str, second: str) -> dict[str, float]:
        """Softmax probability per class for one (text, context) pair (cached by the pair:
        a conversation re-screened while a reply streams does not pay twice)."""
        key = (first, second)
        found = self._cache.get(key)
        if found is not None:
            return found
        encoding = self._tokenizer.encode(first or " ", second or " ")
        ids = np.asarray([encoding.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
        (logits,) = self._session.run(["logits"], feeds)
        row = logits[0] - logits[0].max()
        probs = np.exp(row) / np.exp(row).sum()
        out = {name: float(p) for name, p in zip(self.classes, probs, strict=True)}
        self._cache.put(key, out)
        return out
