"""Erasable storage of prompt and output bodies, apart from the Merkle tree.

Spec: DOMAIN.md §4.2 (``prompt_sha256``/``output_sha256`` in the record, content stored
separately at its own classification) and AU-3(3) (limit content in records). The log holds
only :func:`~redline.audit.record.body_digest` values; the bodies live here, one file each,
named by that digest, and :meth:`BodyStore.erase` deletes one without touching the tree
(retention, or a spill that must be purged).

Invariants: a body is stored under the digest of exactly its bytes (checked on read, so a
swapped file is detected); writes are atomic (temp file + fsync + rename); names are only
``hmac-sha256:<64 hex>`` so no caller can escape the directory.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
from pathlib import Path

from redline.errors import AuditError, AuditStoreError

from .record import body_digest

__all__ = ["BodyStore"]

_NAME = re.compile(r"hmac-sha256:([0-9a-f]{64})")


class BodyStore:
    """Bodies by salted digest in a directory (async API, blocking work in a thread)."""

    def __init__(self, directory: str | Path, salt: bytes) -> None:
        self.directory = Path(directory)
        self._salt = salt

    def _path(self, digest: str) -> Path:
        match = _NAME.fullmatch(digest)
        if match is None:
            raise AuditError("not a body digest")
        hexed = match.group(1)
        return self.directory / hexed[:2] / hexed

    def _put(self, body: bytes) -> str:
        digest = body_digest(self._salt, body)
        path = self._path(digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(path)
        except OSError as exc:
            raise AuditStoreError(f"body store: {exc}") from exc
        return digest

    def _get(self, digest: str) -> bytes | None:
        path = self._path(digest)
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuditStoreError(f"body store: {exc}") from exc
        if not hmac.compare_digest(body_digest(self._salt, body), digest):
            raise AuditError(f"stored body does not match {digest}")
        return body

    def _erase(self, digest: str) -> bool:
        try:
            self._path(digest).unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise AuditStoreError(f"body store: {exc}") from exc
        return True

    async def put(self, body: bytes) -> str:
        """Store ``body``; return its salted digest (the value to put in the payload)."""
        return await asyncio.to_thread(self._put, body)

    async def get(self, digest: str) -> bytes | None:
        """The body stored under ``digest``, or ``None`` once erased."""
        return await asyncio.to_thread(self._get, digest)

    async def erase(self, digest: str) -> bool:
        """Delete a body; return whether it existed. The audit tree is unaffected."""
        return await asyncio.to_thread(self._erase, digest)
