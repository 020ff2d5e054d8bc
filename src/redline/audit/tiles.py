"""C2SP tlog-tiles geometry, entry bundles, and the in-memory right edge of the tree.

Spec: c2sp.org/tlog-tiles (AUDIT_LOG.md §1.4). A tile holds 256 hashes; the hash at
position ``i`` of tile ``n`` at level ``l`` is ``MTH(D[(n*256+i)*256**l : (n*256+i+1)*256**l])``,
i.e. the complete subtree of height ``8*l`` and index ``n*256+i``. Level 0 holds leaf hashes.

:class:`TileFrontier` keeps only the right edge of the tree: for each level the hashes of the
last, incomplete tile (at most 255 per level). It is enough to compute the root, and it emits
every complete tile-level node (height 8, 16, ...) exactly once, which the stores persist so
that any subtree hash, and so any proof, needs O(log n) reads.

Invariants: ``TileFrontier.size`` equals the number of leaves appended; each level's partial
tile has ``(size >> 8*l) % 256`` hashes; appending never mutates hashes already emitted.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from redline.errors import AuditError, ProofError

from .merkle import EMPTY_ROOT, fold_subtrees, range_subtrees, root_from_leaf_hashes

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileFrontier",
    "decode_bundle",
    "encode_bundle",
    "tile_path",
    "tile_widths",
]

TILE_HEIGHT = 8
TILE_WIDTH = 256
_MAX_ENTRY = 0xFFFF


def _index_path(n: int) -> str:
    """Tile index as 3-digit groups, ``x`` on all but the last: 1234067 -> x001/x234/067."""
    digits = f"{n:d}"
    digits = digits.zfill((len(digits) + 2) // 3 * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """Relative path of a tile (``level`` is an int, or ``"entries"`` for entry bundles)."""
    base = f"tile/{level}/{_index_path(index)}"
    return base if width == TILE_WIDTH else f"{base}.p/{width}"


def tile_widths(size: int, level: int) -> list[tuple[int, int]]:
    """``(index, width)`` of every tile at ``level`` for a tree of ``size``."""
    count = size >> (TILE_HEIGHT * level)
    full, partial = divmod(count, TILE_WIDTH)
    out = [(i, TILE_WIDTH) for i in range(full)]
    if partial:
        out.append((full, partial))
    return out


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Concatenate entries with big-endian uint16 length prefixes."""
    parts: list[bytes] = []
    for e in entries:
        if len(e) > _MAX_ENTRY:
            raise AuditError("entry is too large for an entry bundle")
        parts.append(struct.pack(">H", len(e)) + e)
    return b"".join(parts)


def decode_bundle(data: bytes, count: int) -> list[bytes]:
    """Parse an entry bundle that must hold exactly ``count`` entries.

    Raises:
        ProofError: truncated data, trailing bytes, or the wrong number of entries.
    """
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ProofError("truncated entry bundle")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + n > len(data):
            raise ProofError("truncated entry bundle")
        out.append(data[pos : pos + n])
        pos += n
    if len(out) != count:
        raise ProofError(f"entry bundle holds {len(out)} entries, expected {count}")
    return out


class TileFrontier:
    """The partial tiles at the right edge of the tree (see the module docstring)."""

    __slots__ = ("partial", "size")

    def __init__(self, size: int = 0, partial: Sequence[Sequence[bytes]] = ()) -> None:
        self.size = size
        self.partial: list[list[bytes]] = [list(p) for p in partial]
        for level, hashes in enumerate(self.partial):
            if len(hashes) != (size >> (TILE_HEIGHT * level)) % TILE_WIDTH:
                raise AuditError(f"stored partial tile at level {level} has the wrong width")
        if size and len(self.partial) <= self._top_level(size):
            raise AuditError("stored partial tiles do not cover the tree")

    @staticmethod
    def _top_level(size: int) -> int:
        return max(0, (size.bit_length() - 1) // TILE_HEIGHT)

    def copy(self) -> TileFrontier:
        """An independent copy (the sequencer advances a copy, then swaps it in on commit)."""
        clone = TileFrontier.__new__(TileFrontier)
        clone.size = self.size
        clone.partial = [list(p) for p in self.partial]
        return clone

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the tile-level nodes ``(level, index, hash)`` completed."""
        emitted: list[tuple[int, int, bytes]] = []
        level, h, index = 0, leaf, self.size
        while True:
            if len(self.partial) <= level:
                self.partial.append([])
            row = self.partial[level]
            row.append(h)
            if len(row) < TILE_WIDTH:
                break
            h = root_from_leaf_hashes(row)
            row.clear()
            level += 1
            index >>= TILE_HEIGHT
            emitted.append((level, index, h))
        self.size += 1
        return emitted

    def root(self) -> bytes:
        """The MTH of the whole tree, from the partial tiles only."""
        if self.size == 0:
            return EMPTY_ROOT
        hashes: list[bytes] = []
        for level in range(len(self.partial) - 1, -1, -1):
            row = self.partial[level]
            for height, idx in range_subtrees(0, len(row)):
                hashes.append(root_from_leaf_hashes(row[idx << height : (idx + 1) << height]))
        return fold_subtrees(hashes)
