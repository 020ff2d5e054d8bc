"""Ports the services depend on, so that each collaborator is replaceable by a fake in tests
and by another implementation in production. ``AuditSink`` is declared once, in
:mod:`redline.domain`, because components below ``service`` record too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from redline.domain import AuditSink
from redline.store.keys import ApiKey

__all__ = ["NO_METRICS", "AuditSink", "KeyStore", "Metrics", "NoMetrics"]


class KeyStore(Protocol):
    """Looks up API keys by id (the SQLite key store in the embedded default)."""

    async def lookup(self, key_id: str) -> ApiKey | None:
        """The key with this id, revoked or not, or None."""
        ...


class Metrics(Protocol):
    """Where the request path reports what it did, for operators (``/metrics``).

    Implemented by :mod:`redline.observability.metrics` over ``prometheus_client``; the core
    depends only on this port. Every label value is a bounded name (an action, a category
    id, a tier, a route the operator configured, a fixed reason): never content, a tenant
    name or a marking. Calls are cheap and never raise.
    """

    def decision(self, stage: str, action: str, red_lines: Sequence[str]) -> None:
        """One policy decision: ``stage`` is ``request``, ``response`` or ``moderation``;
        ``red_lines`` the categories that drove a non-allow action (empty for allow)."""
        ...

    def screening(self, tier: str, seconds: float) -> None:
        """Time spent in one tier of the safety stack for one conversation."""
        ...

    def fail_closed(self, reason: str) -> None:
        """A check could not be done and the request was refused or held instead."""
        ...

    def upstream(self, route: str, seconds: float, error: str | None) -> None:
        """One upstream call for ``route`` (public model name) and its error class, if any."""
        ...


class NoMetrics:
    """The :class:`Metrics` that records nothing (tests, tools)."""

    def decision(self, stage: str, action: str, red_lines: Sequence[str]) -> None:
        """Nothing."""

    def screening(self, tier: str, seconds: float) -> None:
        """Nothing."""

    def fail_closed(self, reason: str) -> None:
        """Nothing."""

    def upstream(self, route: str, seconds: float, error: str | None) -> None:
        """Nothing."""


NO_METRICS: Metrics = NoMetrics()
