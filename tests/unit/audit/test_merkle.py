"""RFC 6962 vectors and hypothesis properties of redline.audit.merkle and proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.audit import merkle
from redline.audit.proofs import MemoryHashes, consistency_from, inclusion_from, root_from
from redline.audit.tiles import TileFrontier
from redline.errors import InconsistencyError, ProofError

# The standard RFC 6962 test leaves (certificate-transparency merkle tests) and roots.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHES = [merkle.leaf_hash(x) for x in LEAVES]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_roots(size: int) -> None:
    assert merkle.root_from_leaf_hashes(HASHES[:size]).hex() == ROOTS[size]
    frontier = TileFrontier()
    for leaf in HASHES[:size]:
        frontier.append(leaf)
    assert frontier.root().hex() == ROOTS[size]


def test_rfc6962_inclusion_vector() -> None:
    proof = [
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ]
    assert merkle.inclusion_proof(HASHES, 0) == proof
    merkle.verify_inclusion(0, 8, HASHES[0], proof, h(ROOTS[8]))


def test_rfc6962_consistency_vectors() -> None:
    p68 = [
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    ]
    assert merkle.consistency_proof(HASHES, 6) == p68
    merkle.verify_consistency(6, 8, h(ROOTS[6]), h(ROOTS[8]), p68)
    p25 = [
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    ]
    assert merkle.consistency_proof(HASHES[:5], 2) == p25
    merkle.verify_consistency(2, 5, h(ROOTS[2]), h(ROOTS[5]), p25)
    with pytest.raises(InconsistencyError):
        merkle.verify_consistency(6, 8, h(ROOTS[5]), h(ROOTS[8]), p68)


def test_empty_and_equal_sizes() -> None:
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    merkle.verify_consistency(0, 8, h(ROOTS[0]), h(ROOTS[8]), [])
    merkle.verify_consistency(8, 8, h(ROOTS[8]), h(ROOTS[8]), [])
    with pytest.raises(InconsistencyError, match="different roots"):
        merkle.verify_consistency(8, 8, h(ROOTS[7]), h(ROOTS[8]), [])
    with pytest.raises(InconsistencyError, match="must be empty"):
        merkle.verify_consistency(8, 8, h(ROOTS[8]), h(ROOTS[8]), [h(ROOTS[1])])
    with pytest.raises(InconsistencyError, match="larger"):
        merkle.verify_consistency(9, 8, h(ROOTS[8]), h(ROOTS[8]), [])
    with pytest.raises(InconsistencyError, match="empty"):
        merkle.verify_consistency(3, 8, h(ROOTS[3]), h(ROOTS[8]), [])


def test_inclusion_rejects_bad_shapes() -> None:
    proof = merkle.inclusion_proof(HASHES, 5)
    root = h(ROOTS[8])
    with pytest.raises(ProofError, match="too long"):
        merkle.verify_inclusion(5, 8, HASHES[5], [*proof, proof[0]], root)
    with pytest.raises(ProofError, match="too short"):
        merkle.verify_inclusion(5, 8, HASHES[5], proof[:-1], root)
    with pytest.raises(ProofError, match="not in a tree"):
        merkle.verify_inclusion(8, 8, HASHES[5], proof, root)
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(5, 8, HASHES[5], [proof[0][:31], *proof[1:]], root)
    with pytest.raises(ProofError, match="does not reach"):
        merkle.verify_inclusion(4, 8, HASHES[5], proof, root)


N = 40
BIG = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(N)]


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    out = list(proof)
    i = which % len(out)
    b = bytearray(out[i])
    b[(bit // 8) % 32] ^= 1 << (bit % 8)
    out[i] = bytes(b)
    return out


@settings(max_examples=200, deadline=None)
@given(st.integers(1, N), st.data())
def test_inclusion_property(n: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, n - 1))
    root = merkle.root_from_leaf_hashes(BIG[:n])
    proof = merkle.inclusion_proof(BIG[:n], index)
    merkle.verify_inclusion(index, n, BIG[index], proof, root)
    if proof:
        bad = _flip(proof, data.draw(st.integers(0, 63)), data.draw(st.integers(0, 255)))
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, n, BIG[index], bad, root)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(
            index, n, _flip([BIG[index]], 0, data.draw(st.integers(0, 255)))[0], proof, root
        )


@settings(max_examples=200, deadline=None)
@given(st.integers(1, N), st.data())
def test_consistency_property(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, n))
    old, new = merkle.root_from_leaf_hashes(BIG[:m]), merkle.root_from_leaf_hashes(BIG[:n])
    proof = merkle.consistency_proof(BIG[:n], m)
    merkle.verify_consistency(m, n, old, new, proof)
    if proof:
        bad = _flip(proof, data.draw(st.integers(0, 63)), data.draw(st.integers(0, 255)))
        with pytest.raises(InconsistencyError):
            merkle.verify_consistency(m, n, old, new, bad)
        with pytest.raises(InconsistencyError):
            merkle.verify_consistency(m, n, old, new, proof[:-1])
        with pytest.raises(InconsistencyError):
            merkle.verify_consistency(m, n, old, new, [*proof, proof[0]])
    if 0 < m < n:
        with pytest.raises(InconsistencyError):
            merkle.verify_consistency(m, n, _flip([old], 0, 7)[0], new, proof)


# Tile-backed proofs across tile boundaries (levels 0, 1 and 2) equal the reference.
TILED = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(66_000)]


def _levels(size: int) -> MemoryHashes:
    frontier = TileFrontier()
    levels: list[list[bytes]] = [[]]
    for leaf in TILED[:size]:
        levels[0].append(leaf)
        for level, index, node in frontier.append(leaf):
            while len(levels) <= level:
                levels.append([])
            assert len(levels[level]) == index
            levels[level].append(node)
    return MemoryHashes(levels)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.data())
def test_tiled_proofs_match_reference(n: int, data: st.DataObject) -> None:
    source = _levels(n)
    index = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(0, n))
    assert root_from(source, n) == merkle.root_from_leaf_hashes(TILED[:n])
    assert inclusion_from(source, index, n) == merkle.inclusion_proof(TILED[:n], index)
    assert consistency_from(source, m, n) == merkle.consistency_proof(TILED[:n], m)


def test_tiled_level_two() -> None:
    n = 65_537
    source = _levels(n)
    root = merkle.root_from_leaf_hashes(TILED[:n])
    assert root_from(source, n) == root
    for index in (0, 255, 256, 65_535, 65_536):
        merkle.verify_inclusion(index, n, TILED[index], inclusion_from(source, index, n), root)
    old = merkle.root_from_leaf_hashes(TILED[:65_536])
    merkle.verify_consistency(65_536, n, old, root, consistency_from(source, 65_536, n))
