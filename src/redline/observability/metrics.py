"""Prometheus metrics: the :class:`~redline.service.ports.Metrics` port over
``prometheus_client``, the audit sink's timing, and gauges read when ``/metrics`` is scraped.

Every metric is documented in docs/OBSERVABILITY.md. Label values are bounded names only
(actions, category ids, tiers, configured routes, fixed reasons and error classes), never
content, tenant names or markings. Counters and histograms on the request path cache their
labelled children, so that reporting costs a dictionary lookup and an increment.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from redline.domain import JSONValue
from redline.errors import AuditError, GatewayError
from redline.service.ports import AuditSink

__all__ = ["CONTENT_TYPE", "MeteredAuditSink", "PrometheusMetrics", "ScrapeSources"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Prometheus text exposition format (``text/plain; version=...``)."""

# Screening tiers run from tens of microseconds (tier 1) to seconds (the LLM judge).
_SCREEN_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0,
)  # fmt: skip
# Audit commits: a group commit is milliseconds on a local disk, more on a shared database.
_AUDIT_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
_UPSTREAM_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
)  # fmt: skip
_HALT_SCOPES = ("all", "tenant", "model")


class ScrapeSources:
    """What is read at scrape time, from the built services (set by the composition root)."""

    def __init__(
        self,
        *,
        review_pending: Callable[[], Awaitable[Sequence[datetime]]],
        halt_scopes: Callable[[], Sequence[str]],
        audit_size: Callable[[], int],
        audit_running: Callable[[], bool],
        audit_waiting_s: Callable[[], float],
        now: Callable[[], datetime],
    ) -> None:
        self.audit_waiting_s = audit_waiting_s
        self.review_pending = review_pending
        self.halt_scopes = halt_scopes
        self.audit_size = audit_size
        self.audit_running = audit_running
        self.now = now


class PrometheusMetrics:
    """The gateway's metrics, in their own registry (nothing global)."""

    def __init__(self) -> None:
        # No ``*_created`` series: they double the exposition and no rule here uses them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._decisions = Counter(
            "redline_decisions",
            "Policy decisions, by stage (request, response, moderation) and action.",
            ["stage", "action"],
            registry=r,
        )
        self._red_lines = Counter(
            "redline_decision_red_lines",
            "Categories that drove a non-allow decision, by stage, action and category "
            "(a decision naming two categories counts once under each).",
            ["stage", "action", "red_line"],
            registry=r,
        )
        self._screening = Histogram(
            "redline_screening_seconds",
            "Time spent in one tier of the safety stack for one conversation.",
            ["tier"],
            buckets=_SCREEN_BUCKETS,
            registry=r,
        )
        self._fail_closed = Counter(
            "redline_fail_closed",
            "Checks that could not be done, so the request was refused or held, by reason.",
            ["reason"],
            registry=r,
        )
        self._upstream = Histogram(
            "redline_upstream_seconds",
            "Upstream call latency by route (streams: until the first event), errors included.",
            ["route"],
            buckets=_UPSTREAM_BUCKETS,
            registry=r,
        )
        self._upstream_errors = Counter(
            "redline_upstream_errors",
            "Failed upstream calls by route and error class.",
            ["route", "error"],
            registry=r,
        )
        self._audit_commit = Histogram(
            "redline_audit_commit_seconds",
            "Time from an audit append to its durable commit (failed appends included).",
            buckets=_AUDIT_BUCKETS,
            registry=r,
        )
        self._audit_failures = Counter(
            "redline_audit_append_failures",
            "Audit appends that could not be made durable (the caller refused).",
            registry=r,
        )
        self.audit_queue = Gauge(
            "redline_audit_queue_depth",
            "Audit appends of this process waiting for their commit.",
            registry=r,
        )
        self.audit_oldest = Gauge(
            "redline_audit_queue_oldest_age_seconds",
            "Age of the oldest audit append of this process still waiting (0: none).",
            registry=r,
        )
        self._audit_size = Gauge(
            "redline_audit_tree_size",
            "Leaves in the audit log's Merkle tree as last integrated by this process.",
            registry=r,
        )
        self._audit_up = Gauge(
            "redline_audit_log_running",
            "1 while the audit log accepts appends, 0 once its writer has failed.",
            registry=r,
        )
        self._review_depth = Gauge(
            "redline_review_queue_depth",
            "Requests held for review and not yet decided or expired.",
            registry=r,
        )
        self._review_oldest = Gauge(
            "redline_review_queue_oldest_age_seconds",
            "Age of the oldest request awaiting review (0: none).",
            registry=r,
        )
        self._halts = Gauge(
            "redline_halts_in_force",
            "Halts in force by scope kind (all, tenant, model).",
            ["scope"],
            registry=r,
        )
        self._scrape_errors = Counter(
            "redline_metrics_scrape_errors",
            "Scrape-time readings that failed (their gauges keep the last value), by source.",
            ["source"],
            registry=r,
        )
        self._counters: dict[tuple[str, ...], Counter] = {}
        self._histograms: dict[tuple[str, ...], Histogram] = {}
        self._sources: ScrapeSources | None = None

    def _count(self, metric: Counter, *labels: str) -> Counter:
        key = (str(id(metric)), *labels)
        child = self._counters.get(key)
        if child is None:
            child = self._counters[key] = metric.labels(*labels)
        return child

    def _histogram(self, metric: Histogram, *labels: str) -> Histogram:
        key = (str(id(metric)), *labels)
        child = self._histograms.get(key)
        if child is None:
            child = self._histograms[key] = metric.labels(*labels)
        return child

    # -- the Metrics port (the request path) ------------------------------------------

    def decision(self, stage: str, action: str, red_lines: Sequence[str]) -> None:
        """Count one decision, and each category that drove it."""
        self._count(self._decisions, stage, action).inc()
        for red_line in red_lines:
            self._count(self._red_lines, stage, action, red_line).inc()

    def screening(self, tier: str, seconds: float) -> None:
        """Observe the time of one tier."""
        self._histogram(self._screening, tier).observe(seconds)

    def fail_closed(self, reason: str) -> None:
        """Count one fail-closed outcome."""
        self._count(self._fail_closed, reason).inc()

    def upstream(self, route: str, seconds: float, error: str | None) -> None:
        """Observe one upstream call; count it as an error when it failed."""
        self._histogram(self._upstream, route).observe(seconds)
        if error is not None:
            self._count(self._upstream_errors, route, error).inc()

    # -- the audit sink --------------------------------------------------------------

    def audit_committed(self, seconds: float, *, ok: bool) -> None:
        """Observe one audit append; a failed one is also a fail-closed outcome."""
        self._audit_commit.observe(seconds)
        if not ok:
            self._audit_failures.inc()
            self.fail_closed("audit_unavailable")

    # -- scrape time -----------------------------------------------------------------

    def read_at_scrape(self, sources: ScrapeSources) -> None:
        """Read review, halt and audit gauges from ``sources`` whenever scraped."""
        self._sources = sources

    async def exposition(self) -> tuple[bytes, str]:
        """The text exposition of every metric (gauges refreshed first), and its media type."""
        if self._sources is not None:
            await self._refresh(self._sources)
        return generate_latest(self.registry), CONTENT_TYPE

    async def _refresh(self, sources: ScrapeSources) -> None:
        try:
            created = await sources.review_pending()
        except GatewayError:  # the scrape still answers; the failure is itself counted
            self._scrape_errors.labels("review").inc()
        else:
            now = sources.now()
            self._review_depth.set(len(created))
            oldest = min(created, default=None)
            self._review_oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        counts = dict.fromkeys(_HALT_SCOPES, 0)
        for scope in sources.halt_scopes():
            kind = scope.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        for kind, count in counts.items():
            self._halts.labels(kind).set(count)
        self._audit_size.set(sources.audit_size())
        self._audit_up.set(1 if sources.audit_running() else 0)
        self.audit_oldest.set(sources.audit_waiting_s())


class MeteredAuditSink:
    """An :class:`AuditSink` that times each append and tracks those still waiting."""

    def __init__(self, inner: AuditSink, metrics: PrometheusMetrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self._waiting: dict[int, float] = {}
        self._ids = itertools.count()

    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        """Record through the inner sink, timing the commit."""
        token = next(self._ids)
        started = time.perf_counter()
        self._waiting[token] = started
        self._metrics.audit_queue.inc()
        outcome = "cancelled"  # the caller went away: neither a commit nor a failure
        try:
            await self._inner.record(event_type, payload, request_id=request_id)
            outcome = "ok"
        except AuditError:
            outcome = "failed"
            raise
        finally:
            del self._waiting[token]
            self._metrics.audit_queue.dec()
            if outcome != "cancelled":
                self._metrics.audit_committed(time.perf_counter() - started, ok=outcome == "ok")

    def oldest_waiting_s(self) -> float:
        """Seconds the oldest waiting append has waited (0.0: none)."""
        if not self._waiting:
            return 0.0
        return time.perf_counter() - next(iter(self._waiting.values()))
