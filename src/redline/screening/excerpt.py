"""Pick the part of a long turn the tier-2 encoder reads.

The encoder reads at most ~160 tokens. For a long memo with the decisive instruction buried
in paragraph 7, the first 160 tokens are the wrong ones: sentences are ranked by how many
legal-test factors they match and the best ones (kept in their original order) fill the
budget after the opening sentence. Tier 1 still reads the whole text.
"""

from __future__ import annotations

import re

from redline.screening.factors import FACTORS

__all__ = ["salient_excerpt"]

_SENTENCE = re.compile("(?<=[.!?\u3002\uff01\uff1f\n])\\s+")
_CHARS_PER_TOKEN = 4


def salient_excerpt(text: str, *, max_tokens: int = 120) -> str:
    """The opening sentence plus the most factor-dense sentences, within ``max_tokens``."""
    budget = max_tokens * _CHARS_PER_TOKEN
    if len(text) <= budget:
        return text
    sentences = [s for s in _SENTENCE.split(text[:200_000]) if s.strip()]
    if not sentences:
        return text[:budget]
    scored = []
    for index, sentence in enumerate(sentences[1:], start=1):
        clipped = sentence[:600]
        hits = sum(len(f.pattern.findall(clipped)) for f in FACTORS if f.red_line != "allow")
        if hits:
            scored.append((hits, -index, index))
    chosen = {0}
    used = len(sentences[0][:budget])
    for _, _, index in sorted(scored, reverse=True):
        length = min(len(sentences[index]), 600)
        if used + length > budget:
            continue
        chosen.add(index)
        used += length
    return " ".join(sentences[i][:600] for i in sorted(chosen))[:budget]
