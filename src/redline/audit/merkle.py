"""RFC 6962 / RFC 9162 Merkle tree hashing, proof plans and proof verification.

Spec: RFC 9162 §2.1 (the tree is the one of RFC 6962 §2.1): SHA-256, leaf hash
``H(0x00 || d)``, interior node ``H(0x01 || left || right)``, empty tree ``H()``.

Proof *generation* is split in two so that it can run against any storage:

* :func:`inclusion_plan` / :func:`consistency_plan` list the ``[start, end)`` leaf
  ranges whose Merkle tree hashes (MTH) form the proof, in RFC 9162 order;
* :func:`range_subtrees` splits such a range into aligned complete subtrees
  ``(height, index)``, and :func:`fold_subtrees` folds their hashes back into the MTH.

A store that can return the hash of any complete aligned subtree (see ``proofs.py``)
therefore answers any proof with O(log n) reads.

Invariants of the verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2, sigstore's exact-length rule):
a proof is consumed exactly, trailing or missing hashes fail, every hash is 32 bytes, and
an index or size out of range fails; failures raise :class:`ProofError` (inclusion) or
:class:`InconsistencyError` (consistency), never return ``False``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from redline.errors import InconsistencyError, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "consistency_plan",
    "consistency_proof",
    "fold_subtrees",
    "inclusion_plan",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_subtrees",
    "root_from_leaf_hashes",
    "root_from_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """Return ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the MTH of a list of leaf hashes (iterative; the empty tree is ``H()``)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            # An odd node is promoted unchanged: this is exactly RFC 6962's MTH split.
            nxt.append(level[-1])
        level = nxt
    return level[0]


def range_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into complete subtrees ``(height, index)``, left to right.

    ``start`` must be aligned as every range of an RFC 6962 tree is: a multiple of the
    largest power of two not exceeding ``end - start``.
    """
    out: list[tuple[int, int]] = []
    pos, remaining = start, end - start
    while remaining:
        height = remaining.bit_length() - 1
        out.append((height, pos >> height))
        pos += 1 << height
        remaining -= 1 << height
    return out


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """Fold the hashes of :func:`range_subtrees` (right to left) into the range's MTH."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_plan(index: int, size: int) -> list[tuple[int, int]]:
    """Ranges whose MTHs form the inclusion proof of leaf ``index`` in a tree of ``size``.

    RFC 9162 §2.1.3.1 ``PATH(m, D[n])``, deepest sibling first.
    """
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m - lo < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_plan(old: int, new: int) -> list[tuple[int, int]]:
    """Ranges whose MTHs form the consistency proof from ``old`` to ``new``.

    RFC 9162 §2.1.4.1 ``PROOF(m, D[n])``; empty when ``old`` is 0 or equals ``new``.
    """
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to {new}")
    if old in (0, new):
        return []
    out: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, new, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            m -= k
            lo += k
            complete = False
    if not complete:
        out.append((lo, hi))
    out.reverse()
    return out


def _mth(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    return root_from_leaf_hashes(leaves[start:end])


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Inclusion proof from an in-memory list of leaf hashes (reference implementation)."""
    return [_mth(leaves, a, b) for a, b in inclusion_plan(index, len(leaves))]


def consistency_proof(leaves: Sequence[bytes], old: int) -> list[bytes]:
    """Consistency proof from ``old`` to ``len(leaves)`` (reference implementation)."""
    return [_mth(leaves, a, b) for a, b in consistency_plan(old, len(leaves))]


def _check_hashes(proof: Sequence[bytes], error: type[ProofError | InconsistencyError]) -> None:
    for h in proof:
        if len(h) != HASH_SIZE:
            raise error("proof hash is not 32 bytes")


def root_from_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Run RFC 9162 §2.1.3.2 and return the root the inclusion proof leads to.

    Raises:
        ProofError: index out of range, or the proof is not exactly the right length.
    """
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    _check_hashes([leaf, *proof], ProofError)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify that ``leaf`` is at ``index`` in the tree of ``size`` with ``root``.

    Raises:
        ProofError: the proof is malformed or does not reach ``root``.
    """
    if root_from_proof(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not reach the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Verify an RFC 9162 §2.1.4.2 consistency proof between two tree heads.

    Raises:
        InconsistencyError: the proof is malformed, the sizes are out of order, or the
            two heads cannot both be honest.
    """
    _check_hashes([old_root, new_root, *proof], InconsistencyError)
    if not 0 <= old_size <= new_size:
        raise InconsistencyError(f"size {old_size} is larger than {new_size}")
    if old_size in (new_size, 0):
        if proof:
            raise InconsistencyError("consistency proof must be empty")
        if old_size == new_size and old_root != new_root:
            raise InconsistencyError("same tree size, different roots")
        return
    if not proof:
        raise InconsistencyError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)  # old tree is a complete subtree: its root is the seed
    fr, sr = _consistency_roots(old_size, new_size, path)
    if fr != old_root or sr != new_root:
        raise InconsistencyError("consistency proof does not match the roots")


def _consistency_roots(old_size: int, new_size: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """The (old, new) roots an RFC 9162 §2.1.4.2 path leads to (exact length enforced)."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InconsistencyError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InconsistencyError("consistency proof is too short")
    return fr, sr
