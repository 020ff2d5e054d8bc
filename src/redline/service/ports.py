"""Ports the services depend on, so that each collaborator is replaceable by a fake in tests
and by another implementation in production. ``AuditSink`` is declared once, in
:mod:`redline.domain`, because components below ``service`` record too."""

from __future__ import annotations

from typing import Protocol

from redline.domain import AuditSink
from redline.store.keys import ApiKey

__all__ = ["AuditSink", "KeyStore"]


class KeyStore(Protocol):
    """Looks up API keys by id (the SQLite key store in the embedded default)."""

    async def lookup(self, key_id: str) -> ApiKey | None:
        """The key with this id, revoked or not, or None."""
        ...
