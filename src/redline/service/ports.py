"""Ports the orchestrator depends on, so that each collaborator is replaceable by a fake in
tests and by another implementation in production."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from redline.domain import JSONValue
from redline.store.keys import ApiKey

__all__ = ["AuditSink", "KeyStore"]


class KeyStore(Protocol):
    """Looks up API keys by id (the SQLite key store in the embedded default)."""

    async def lookup(self, key_id: str) -> ApiKey | None:
        """The key with this id, revoked or not, or None."""
        ...


class AuditSink(Protocol):
    """Where decisions and administrative actions are recorded (the audit log).

    ``record`` returns only once the event is durable; it raises
    :class:`redline.errors.AuditStoreError` when it cannot be, and callers then refuse
    (fail closed) instead of acting unrecorded.
    """

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        """Durably append one event."""
        ...
