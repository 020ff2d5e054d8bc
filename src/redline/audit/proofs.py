"""Proofs and roots from stored tile hashes, with O(log n) reads.

Spec: RFC 9162 §2.1 proofs (plans from :mod:`merkle`) over tlog-tiles levels (:mod:`tiles`).
A complete subtree of height ``h`` is the MTH of ``2**(h - 8*l)`` consecutive hashes of tile
level ``l = h // 8``, so each subtree needs one range read of at most 128 hashes.

Invariant: the results equal :func:`merkle.inclusion_proof` / :func:`merkle.consistency_proof`
over the full list of leaf hashes (checked by the property tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from redline.errors import AuditError

from .merkle import (
    EMPTY_ROOT,
    consistency_plan,
    fold_subtrees,
    inclusion_plan,
    range_subtrees,
    root_from_leaf_hashes,
)
from .tiles import TILE_HEIGHT

__all__ = ["HashSource", "MemoryHashes", "consistency_from", "inclusion_from", "root_from"]


class HashSource(Protocol):
    """Anything that returns stored hashes of one tile level (a store, or memory)."""

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Hashes ``[start, end)`` of tile level ``level``."""
        ...


class MemoryHashes:
    """Tile levels held in lists (the verifier's rebuilt tiles)."""

    def __init__(self, levels: Sequence[Sequence[bytes]]) -> None:
        self.levels = levels

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Hashes ``[start, end)`` of tile level ``level``."""
        return list(self.levels[level][start:end]) if level < len(self.levels) else []


def _subtree(source: HashSource, height: int, index: int) -> bytes:
    level = height // TILE_HEIGHT
    span = 1 << (height - level * TILE_HEIGHT)
    found = source.hashes(level, index * span, (index + 1) * span)
    if len(found) != span:
        raise AuditError(f"stored hashes are missing at level {level}")
    return root_from_leaf_hashes(found)


def _range(source: HashSource, start: int, end: int) -> bytes:
    return fold_subtrees([_subtree(source, h, i) for h, i in range_subtrees(start, end)])


def root_from(source: HashSource, size: int) -> bytes:
    """The root of the tree of ``size`` from stored hashes."""
    return _range(source, 0, size) if size else EMPTY_ROOT


def inclusion_from(source: HashSource, index: int, size: int) -> list[bytes]:
    """Inclusion proof of leaf ``index`` in the tree of ``size``."""
    return [_range(source, a, b) for a, b in inclusion_plan(index, size)]


def consistency_from(source: HashSource, old: int, new: int) -> list[bytes]:
    """Consistency proof from ``old`` to ``new``."""
    return [_range(source, a, b) for a, b in consistency_plan(old, new)]
