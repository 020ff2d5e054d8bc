"""HyperLogLog: exact while sparse, within a few percent when dense, unions."""

from __future__ import annotations

import random

import numpy as np
import pytest

from redline.monitors.hll import SPARSE_LIMIT, M, Sketch, estimate_registers, union_count


def hashes(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.getrandbits(64) for _ in range(n)]


def test_sparse_sketch_is_exact_and_deduplicates() -> None:
    sketch = Sketch()
    values = hashes(SPARSE_LIMIT, 1)
    for h in values + values:
        sketch.add(h)
    assert sketch.count() == SPARSE_LIMIT
    assert sketch.dense is None
    assert Sketch().count() == 0


@pytest.mark.parametrize("n", [1_000, 20_000, 200_000])
def test_dense_estimate_is_within_five_percent(n: int) -> None:
    sketch = Sketch()
    for h in hashes(n, n):
        sketch.add(h)
    assert sketch.dense is not None
    assert sketch.count() == pytest.approx(n, rel=0.05)
    assert sketch.nbytes() == M


def test_union_of_mixed_sketches() -> None:
    a, b, c = Sketch(), Sketch(), Sketch()
    shared = hashes(3_000, 7)
    for h in shared:
        a.add(h)
        b.add(h)
    for h in hashes(10, 8):
        c.add(h)
    assert union_count([a, b]) == pytest.approx(3_000, rel=0.05)
    assert union_count([a, b, c]) == pytest.approx(3_010, rel=0.05)
    small = [Sketch(), Sketch()]
    small[0].add(1)
    small[1].add(1)
    small[1].add(2)
    assert union_count(small) == 2


def test_empty_registers_estimate_zero() -> None:
    assert estimate_registers(np.zeros(M, dtype=np.uint8)) == 0.0
