"""Observability cost per request, in process: the metric calls and no-op spans one allowed
chat request makes (metrics on, traces off, the defaults), timed without the network.

An end-to-end before/after with `gateway_overhead.py` cannot resolve a difference this
small on a shared 2-core machine (its CPU-per-request figure moves by milliseconds from
run to run under load); this times exactly what the request path added, best of several
repeats. What one allowed, non-streamed chat request does (counted from the code):

* spans: the root and ``auth`` (gateway/frame.py), ``killswitch``, ``route``, ``access``,
  ``screening``, ``policy``, ``audit``, ``upstream``, ``output_screening``
  (service/orchestrator.py): 10, with 12 attribute writes;
* metrics: 2 decisions, 4 screening timings (tier 1 and units, input and output), 1
  upstream call, 2 audit appends through the metered sink (service/screening.py,
  orchestrator.py, observability/metrics.py); the tier timings' 8 ``perf_counter`` reads;
* the request's log line as JSON (observability/logs.py), against the text line it
  replaced (the baseline formats that one).

Run: .venv/bin/python benchmarks/observability_overhead.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, write_section

sys.path.insert(0, str(ROOT / "src"))

from redline.domain import JSONValue
from redline.observability.logs import JsonFormatter
from redline.observability.metrics import MeteredAuditSink, PrometheusMetrics
from redline.service.tracing import NO_TRACING

_STEPS = (
    "auth", "killswitch", "route", "access", "screening", "policy", "audit", "upstream",
    "output_screening",
)  # fmt: skip


class _Committed:
    async def record(
        self, event_type: str, payload: Mapping[str, JSONValue], *, request_id: str | None = None
    ) -> None:
        return None


async def _requests(n: int, *, observed: bool) -> float:
    """Seconds of CPU for ``n`` requests' worth of instrumentation (or of the bare loop)."""
    metrics = PrometheusMetrics()
    inner = _Committed()
    sink = MeteredAuditSink(inner, metrics) if observed else inner
    tracing = NO_TRACING
    clock = time.perf_counter
    fields = {"request_id": "req_0", "op": "chat.completions", "principal": "key_0"}
    fields |= {"tenant": "acme", "status": 200, "ms": 3.14}
    if observed:
        formatter: logging.Formatter = JsonFormatter()
        record = logging.LogRecord("redline.requests", logging.INFO, "", 0, "request", (), None)
        record.__dict__.update(fields)
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        message = (
            '{"request_id":"%s","op":"%s","principal":"%s","tenant":"%s","status":%d,"ms":%.2f}'
        )
        record = logging.LogRecord(
            "redline.requests", logging.INFO, "", 0, message, tuple(fields.values()), None
        )
    started = time.process_time()
    for _ in range(n):
        await sink.record("request_decision", {}, request_id="r")
        await sink.record("response_decision", {}, request_id="r")
        formatter.format(record)
        if not observed:
            continue
        with tracing.server_span("POST chat.completions", {}) as root:
            root.set_attribute("redline.request_id", "r")
            root.set_attribute("redline.op", "chat.completions")
            for step in _STEPS:
                with tracing.span(step) as span:
                    span.set_attribute("redline.x", "y")
            root.set_attribute("http.response.status_code", 200)
        for _ in range(8):
            clock()
        metrics.screening("tier1", 0.0002)
        metrics.screening("units", 0.0003)
        metrics.screening("tier1", 0.0002)
        metrics.screening("units", 0.0003)
        metrics.decision("request", "allow", ())
        metrics.decision("response", "allow", ())
        metrics.upstream("mock-ok", 0.002, None)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    n = args.requests
    bare, observed = [], []
    for _ in range(args.repeats):  # interleaved, so load on the machine hits both alike
        bare.append(asyncio.run(_requests(n, observed=False)))
        observed.append(asyncio.run(_requests(n, observed=True)))
    added_us = (min(observed) - min(bare)) / n * 1e6
    median_us = (sorted(observed)[len(observed) // 2] - sorted(bare)[len(bare) // 2]) / n * 1e6
    text = (
        f"Metrics on, traces off, JSON logs (the defaults), one allowed chat request's "
        f"instrumentation, "
        f"{n:,} requests x {args.repeats} repeats, CPU time: **{added_us:.1f} µs** added per "
        f"request (best of repeats; median {median_us:.1f} µs). Target: under 100 µs."
    )
    print(text)
    write_section(
        "observability_overhead",
        "## Observability cost (`benchmarks/observability_overhead.py`)\n\n" + text,
    )


if __name__ == "__main__":
    main()
