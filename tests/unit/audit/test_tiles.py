"""tlog-tiles geometry, bundles and the tile frontier."""

from __future__ import annotations

import pytest

from redline.audit import merkle
from redline.audit.tiles import TileFrontier, decode_bundle, encode_bundle, tile_path, tile_widths
from redline.errors import AuditError, ProofError


def test_tile_paths() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 5, 17) == "tile/0/005.p/17"
    assert tile_path("entries", 1000) == "tile/entries/x001/000"
    assert tile_path(3, 0) == "tile/3/000"


def test_tile_widths_of_the_spec_example() -> None:
    level0 = tile_widths(70_000, 0)
    assert len(level0) == 274
    assert level0[-1] == (273, 112)
    assert all(w == 256 for _, w in level0[:-1])
    assert tile_widths(70_000, 1) == [(0, 256), (1, 17)]
    assert tile_widths(70_000, 2) == [(0, 1)]
    assert tile_widths(70_000, 3) == []
    assert tile_widths(512, 0) == [(0, 256), (1, 256)]


def test_bundles_round_trip_and_reject_damage() -> None:
    entries = [b"", b"a", b"x" * 300]
    data = encode_bundle(entries)
    assert decode_bundle(data, 3) == entries
    with pytest.raises(ProofError, match="truncated"):
        decode_bundle(data[:-1], 3)
    with pytest.raises(ProofError, match="expected 4"):
        decode_bundle(data, 4)
    with pytest.raises(ProofError, match="truncated"):
        decode_bundle(data + b"\x00", 3)
    with pytest.raises(AuditError):
        encode_bundle([b"x" * 65536])


def test_frontier_emits_each_tile_node_once_and_tracks_the_root() -> None:
    frontier = TileFrontier()
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(600)]
    emitted = []
    for i, leaf in enumerate(leaves):
        emitted += frontier.append(leaf)
        if i in (0, 254, 255, 256, 511, 599):
            assert frontier.root() == merkle.root_from_leaf_hashes(leaves[: i + 1])
    assert [(lvl, idx) for lvl, idx, _ in emitted] == [(1, 0), (1, 1)]
    assert emitted[1][2] == merkle.root_from_leaf_hashes(leaves[256:512])
    clone = frontier.copy()
    clone.append(leaves[0])
    assert frontier.size == 600
    assert clone.size == 601


def test_frontier_rejects_inconsistent_stored_tiles() -> None:
    with pytest.raises(AuditError, match="wrong width"):
        TileFrontier(3, [[b"x" * 32] * 2])
    with pytest.raises(AuditError, match="do not cover"):
        TileFrontier(256, [[]])
