"""The single-threaded core of :class:`~redline.audit.log.AuditLog`: integrate, sign, prove.

Spec: AUDIT_LOG.md §4.2 and §4.3. Every method here is blocking and runs on the log's one
worker thread, which owns the :class:`TileFrontier`; so no locks are needed.

Invariants:

* the frontier changes only after ``store.integrate`` returned (a failed batch leaves it
  untouched and marks it stale, so the next batch reloads it from the store);
* :meth:`Sequencer.checkpoint` signs ``(size, root)`` only if (1) the root recomputed from
  the stored partial tiles equals the frontier's, (2) the last tile's leaf hashes recomputed
  from the stored entries match, and (3) the head is consistent with the last saved one;
* :meth:`Sequencer.start` refuses a store whose tree no longer contains its last checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redline.errors import AuditError, InconsistencyError, ProofError

from .checkpoint import Checkpoint, Receipt, open_checkpoint, sign_checkpoint
from .merkle import leaf_hash, verify_consistency
from .note import NoteSigner
from .proofs import consistency_from, inclusion_from, root_from
from .store import Batch, LogStore, SharedLogStore, load_frontier
from .tiles import TILE_WIDTH, TileFrontier

__all__ = ["Sequencer"]

logger = logging.getLogger(__name__)
_DRAIN_LIMIT = 4096


def _unverified(note: bytes) -> Checkpoint:
    """Parse a note we stored ourselves when we hold no key to verify it."""
    text = note.decode()
    return Checkpoint.parse(text[: text.rfind("\n\n") + 1])


class Sequencer:
    """Integrates batches into a store and signs checkpoints (one thread only)."""

    def __init__(self, store: LogStore, signer: NoteSigner | None, *, origin: str | None) -> None:
        self.store = store
        self.signer = signer
        self.origin = origin or (signer.name if signer is not None else None)
        self.shared = isinstance(store, SharedLogStore)
        self.frontier = TileFrontier()
        self._stale = True
        self._leader = False

    def start(self) -> None:
        """Open the store, load the frontier and check it against the last checkpoint."""
        size = self.store.open()
        self.frontier = load_frontier(self.store, size)
        self._stale = False
        note = self.store.latest_checkpoint()
        if note is None:
            return
        head = self._open(note)
        if head.size > size:
            raise InconsistencyError(
                f"stored tree has {size} leaves but checkpoint {head.size} was signed: "
                "the store was rolled back; freeze this log"
            )
        if root_from(self.store, head.size) != head.root:
            raise InconsistencyError("stored tree does not match its last signed checkpoint")

    def _open(self, note: bytes) -> Checkpoint:
        if self.signer is None:
            return _unverified(note)
        return open_checkpoint(note, [self.signer.verifier], origin=self.origin)

    def _current(self) -> TileFrontier:
        if self._stale:
            self.frontier = load_frontier(self.store, self.store.size())
            self._stale = False
        return self.frontier

    def integrate(
        self, items: Sequence[tuple[bytes, str | None]], pending_ids: Sequence[int] = ()
    ) -> list[tuple[int, bytes]]:
        """Commit ``(entry, request_id)`` items as one batch; return ``(index, leaf hash)``."""
        frontier = self._current().copy()
        old = frontier.size
        leaves: list[bytes] = []
        nodes: list[tuple[int, int, bytes]] = []
        requests: list[tuple[str, int]] = []
        for offset, (entry, request_id) in enumerate(items):
            leaf = leaf_hash(entry)
            leaves.append(leaf)
            nodes.extend(frontier.append(leaf))
            if request_id is not None:
                requests.append((request_id, old + offset))
        batch = Batch(
            old_size=old,
            entries=[e for e, _ in items],
            leaf_hashes=leaves,
            nodes=nodes,
            request_ids=requests,
            pending_ids=pending_ids,
        )
        try:
            self.store.integrate(batch)
        except AuditError:
            self._stale = True  # the commit may or may not have happened: re-read the store
            raise
        self.frontier = frontier
        return list(zip(range(old, old + len(leaves)), leaves, strict=True))

    @property
    def leader(self) -> bool:
        """Shared stores: whether this instance held the sequencer lock when it last tried."""
        return self._leader

    def _shared(self) -> SharedLogStore:
        if not isinstance(self.store, SharedLogStore):
            raise AuditError("this store has no queue")
        return self.store

    def enqueue(self, items: Sequence[tuple[bytes, str | None]]) -> list[int]:
        """Shared stores: durably queue items for the sequencer."""
        return self._shared().enqueue(items)

    def store_integrated(self, ids: Sequence[int]) -> dict[int, tuple[int, bytes]]:
        """Shared stores: which queued items are in the tree now."""
        return self._shared().integrated(ids)

    def sequence_pending(self) -> int:
        """Shared stores: if elected, integrate queued events; return how many."""
        store = self._shared()
        if not store.acquire_sequencer():
            if self._leader:
                logger.warning("lost the audit sequencer lock")
            self._leader = False
            return 0
        if not self._leader:
            logger.info("became the audit sequencer")
            self._leader = True
            self._stale = True
        events = store.pending(_DRAIN_LIMIT)
        if events:
            self.integrate(
                [(e.entry, e.request_id) for e in events], [e.pending_id for e in events]
            )
        return len(events)

    def _may_sign(self) -> bool:
        return self.signer is not None and (self._leader or not self.shared)

    def checkpoint(self) -> bytes:
        """Sign the committed tree if it grew; return the latest note."""
        latest = self.store.latest_checkpoint()
        if self.signer is None or not self._may_sign():
            if latest is None:
                raise AuditError("no checkpoint has been signed yet")
            return latest
        frontier = self._current()
        size, root = frontier.size, frontier.root()
        prev = self._open(latest) if latest is not None else None
        if latest is not None and prev is not None and prev.size == size:
            if prev.root != root:
                raise InconsistencyError("same tree size as the last checkpoint, other root")
            return latest
        self._recheck(size, root)
        if prev is not None:
            verify_consistency(
                prev.size, size, prev.root, root, consistency_from(self.store, prev.size, size)
            )
        if self.origin is None:
            raise AuditError("no checkpoint origin")
        note = sign_checkpoint(Checkpoint(origin=self.origin, size=size, root=root), self.signer)
        self.store.save_checkpoint(size, note, previous_size=None if prev is None else prev.size)
        return note

    def _recheck(self, size: int, root: bytes) -> None:
        """Recompute the root from stored data before signing (the Yeti lesson)."""
        stored = load_frontier(self.store, size)
        if stored.root() != root:
            raise AuditError("stored tree hashes do not match the frontier: refusing to sign")
        start = size - size % TILE_WIDTH
        recomputed = [leaf_hash(e) for e in self.store.entries(start, size)]
        if recomputed != (stored.partial[0] if stored.partial else []):
            raise AuditError("stored entries do not match their leaf hashes: refusing to sign")

    def _committed(self) -> int:
        return self.store.size() if self.shared else self._current().size

    def inclusion_proof(self, index: int, size: int | None) -> list[bytes]:
        """Inclusion proof against a committed size."""
        committed = self._committed()
        size = committed if size is None else size
        if size > committed:
            raise ProofError(f"tree size {size} is not committed yet")
        return inclusion_from(self.store, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """Consistency proof between committed sizes."""
        if new > self._committed():
            raise ProofError(f"tree size {new} is not committed yet")
        return consistency_from(self.store, old, new)

    def entry(self, index: int) -> bytes:
        """The entry at ``index``."""
        found = self.store.entries(index, index + 1)
        if not found:
            raise ProofError(f"no entry at index {index}")
        return found[0]

    def receipt(self, index: int) -> Receipt:
        """A tlog-proof receipt for ``index``, signing a new checkpoint if needed."""
        note = self.store.latest_checkpoint()
        head = None if note is None else self._open(note)
        if note is None or head is None or head.size <= index:
            if not self._may_sign():
                raise AuditError(f"no signed checkpoint covers index {index} yet")
            note = self.checkpoint()
            head = self._open(note)
        proof = inclusion_from(self.store, index, head.size)
        return Receipt(index=index, proof=tuple(proof), checkpoint=note)

    def receipt_for_request(self, request_id: str) -> Receipt:
        """The receipt of the last event logged for ``request_id``."""
        found = self.store.find_request(request_id)
        if not found:
            raise AuditError(f"no audit event for request {request_id!r}")
        return self.receipt(found[-1])
