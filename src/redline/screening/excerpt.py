"""Pick the part of a long turn the tier-2 encoder reads.

The encoder reads at most ~160 tokens. For a long memo with the decisive instruction buried
in paragraph 7, the first 160 tokens are the wrong ones: sentences are ranked by how many
legal-test factors they match and the best ones (kept in their original order) fill the
budget after the opening sentence. Tier 1 still reads the whole text.

Cost is linear: one combined pass finds the factors that match at all, each of those scans
the text once to find which sentences can match, and only those sentences are counted one
by one (a benign text of up to 16 KB costs one combined scan, a longer one a scan per
factor; never one per sentence and factor).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from redline.screening.factors import FACTORS, Factor, factor_hits, matching_factors

__all__ = ["salient_excerpt"]

_SENTENCE = re.compile("(?<=[.!?\u3002\uff01\uff1f\n])\\s+")
_CHARS_PER_TOKEN = 4
_MAX_CHARS = 200_000
_RED_FACTORS = tuple(f for f in FACTORS if f.red_line != "allow")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if not text[a:b].isspace() and b > a]


def salient_excerpt(
    text: str,
    *,
    max_tokens: int = 120,
    factors: Sequence[Factor] = _RED_FACTORS,
    opening: bool = True,
) -> str:
    """The opening sentence plus the most factor-dense sentences, within ``max_tokens``
    (``factors``: red-line factors by default; the whole-conversation judgement's bounded
    view also counts the exculpatory ones, and leaves out the opening sentence when
    ``opening`` is false: then a long text without any factor match reads as empty)."""
    budget = max_tokens * _CHARS_PER_TOKEN
    if len(text) <= budget:
        return text
    body = text[:_MAX_CHARS]
    spans = _sentence_spans(body)
    if not spans:
        return text[:budget] if opening else ""
    starts = [a for a, _ in spans]
    candidates: set[int] = set()
    present = {FACTORS[i].name for i in matching_factors(body)}
    for factor in factors:
        if factor.name not in present:
            continue
        for match in factor.pattern.finditer(body):
            candidates.add(bisect_right(starts, match.start()) - 1)  # type: ignore[attr-defined]
    sentences = [body[a:b] for a, b in spans]
    scored = []
    for index in sorted(candidates):
        if index < 1 and opening:
            continue
        clipped = sentences[index][:600]
        hits = factor_hits(clipped, factors)
        if hits:
            scored.append((hits, -index, index))
    chosen = {0} if opening else set()
    used = len(sentences[0][:budget]) if opening else 0
    for _, _, index in sorted(scored, reverse=True):
        length = min(len(sentences[index]), 600)
        if used + length > budget:
            continue
        chosen.add(index)
        used += length
    return " ".join(sentences[i][:600] for i in sorted(chosen))[:budget]
