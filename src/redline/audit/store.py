"""The storage seam of the audit log: :class:`LogStore` and :class:`SharedLogStore`.

Spec: AUDIT_LOG.md §4.2 (one transaction per batch, compare-and-swap on the tree size) and
§4.3 (replicas enqueue; one sequencer integrates).

Methods are **blocking**; :class:`~redline.audit.log.AuditLog` calls them from one dedicated
thread. Every I/O failure is raised as :class:`AuditStoreError`.

Invariants every implementation keeps:

* ``integrate`` is atomic and commits durably before returning; it succeeds only if the
  stored tree size equals ``batch.old_size`` (so a stale sequencer cannot fork the tree);
* ``hashes(0, a, b)`` are leaf hashes, ``hashes(l, a, b)`` for ``l >= 1`` are the complete
  tile-level nodes of height ``8*l`` (tlog-tiles level ``l``); rows are never updated;
* ``save_checkpoint`` is a compare-and-swap on the previously saved size, so two writers
  cannot both publish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, runtime_checkable

from .tiles import TILE_HEIGHT, TILE_WIDTH, TileFrontier

__all__ = [
    "Batch",
    "LogStore",
    "PendingEvent",
    "SharedLogStore",
    "Wake",
    "load_frontier",
]


class Wake(Enum):
    """What a shared store's notification says happened."""

    QUEUED = "queued"
    INTEGRATED = "integrated"


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """One group commit: new leaves ``old_size .. old_size+len(entries)-1``."""

    old_size: int
    entries: Sequence[bytes]
    leaf_hashes: Sequence[bytes]
    nodes: Sequence[tuple[int, int, bytes]]
    request_ids: Sequence[tuple[str, int]]
    pending_ids: Sequence[int] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingEvent:
    """An event a replica enqueued, waiting for the sequencer."""

    pending_id: int
    entry: bytes
    request_id: str | None


class LogStore(Protocol):
    """Durable storage of one log (blocking calls)."""

    def open(self) -> int:
        """Create the schema if needed and return the committed tree size."""
        ...

    def salt(self) -> bytes:
        """The per-log salt for body digests (created once, never changed)."""
        ...

    def integrate(self, batch: Batch) -> None:
        """Commit a batch atomically and durably, if the size is still ``batch.old_size``."""
        ...

    def size(self) -> int:
        """The committed tree size."""
        ...

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes of tile level ``level`` with indices in ``[start, end)``."""
        ...

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)``."""
        ...

    def find_request(self, request_id: str) -> list[int]:
        """Indices of the entries logged for ``request_id``, ascending."""
        ...

    def latest_checkpoint(self) -> bytes | None:
        """The last saved signed checkpoint, if any."""
        ...

    def save_checkpoint(self, size: int, note: bytes, *, previous_size: int | None) -> None:
        """Save a signed checkpoint if the last saved one is still at ``previous_size``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class SharedLogStore(LogStore, Protocol):
    """A store shared by several gateway replicas with one elected sequencer."""

    def enqueue(self, items: Sequence[tuple[bytes, str | None]]) -> list[int]:
        """Durably queue entries; return their pending ids."""
        ...

    def pending(self, limit: int) -> list[PendingEvent]:
        """The oldest queued events (integrate deletes them)."""
        ...

    def integrated(self, pending_ids: Sequence[int]) -> dict[int, tuple[int, bytes]]:
        """``pending_id -> (index, leaf hash)`` for the ids already in the tree."""
        ...

    def acquire_sequencer(self) -> bool:
        """Try to become (or stay) the sequencer; ``True`` while leadership is held."""
        ...

    def listen(self, on_wake: Callable[[Wake], None], stop: threading.Event) -> None:
        """Block until ``stop`` is set, calling ``on_wake`` when events were queued or
        integrated by any replica (a hint: callers still poll, slower, without it)."""
        ...


def load_frontier(store: LogStore, size: int) -> TileFrontier:
    """Read the partial tiles at the right edge of the tree of ``size`` from the store."""
    partial: list[list[bytes]] = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        count = size >> (TILE_HEIGHT * level)
        start = count - count % TILE_WIDTH
        partial.append(store.hashes(level, start, count))
        level += 1
    return TileFrontier(size, partial)
