"""Export a stored log as a static C2SP tlog-tiles directory.

Spec: AUDIT_LOG.md §1.4 (tlog-tiles) and §4.1.4 (publication and export). The directory holds
``checkpoint`` (the latest signed note), ``tile/<L>/<N>[.p/<W>]`` hash tiles and
``tile/entries/<N>[.p/<W>]`` entry bundles, all for the checkpoint's size, so that an auditor
can ``wget -r`` it and check it offline with ``redline audit verify`` (or Tessera's fsck).

Invariants: only data covered by the signed checkpoint is written; every tile is written
whole (temp file, then rename); the export reads stored hashes, and never signs anything.
"""

from __future__ import annotations

import os
from pathlib import Path

from redline.errors import AuditError, AuditStoreError

from .checkpoint import Checkpoint
from .store import LogStore
from .tiles import TILE_HEIGHT, TILE_WIDTH, encode_bundle, tile_path, tile_widths

__all__ = ["export_tiles"]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def export_tiles(store: LogStore, directory: str | Path) -> Checkpoint:
    """Write the tiles of the latest checkpoint of ``store`` into ``directory``.

    The store must be open. Returns the (unverified, self-stored) checkpoint exported.

    Raises:
        AuditError: the log has no checkpoint yet.
        AuditStoreError: reading the store or writing the directory failed.
    """
    note = store.latest_checkpoint()
    if note is None:
        raise AuditError("the log has no signed checkpoint to export")
    text = note.decode()
    head = Checkpoint.parse(text[: text.rfind("\n\n") + 1])
    root = Path(directory)
    try:
        level = 0
        while head.size >> (TILE_HEIGHT * level):
            for n, width in tile_widths(head.size, level):
                start = n * TILE_WIDTH
                hashes = store.hashes(level, start, start + width)
                if len(hashes) != width:
                    raise AuditError(f"store is missing hashes of tile {level}/{n}")
                _write(root / tile_path(level, n, width), b"".join(hashes))
            level += 1
        for n, width in tile_widths(head.size, 0):
            entries = store.entries(n * TILE_WIDTH, n * TILE_WIDTH + width)
            _write(root / tile_path("entries", n, width), encode_bundle(entries))
        _write(root / "checkpoint", note)
    except OSError as exc:
        raise AuditStoreError(f"export to {root}: {exc}") from exc
    return head
