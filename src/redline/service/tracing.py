"""Spans of the request path, through the OpenTelemetry API, or nothing at all.

:class:`Tracing` is built once by the composition root: over a tracer when traces are
exported (``OTEL_TRACES_EXPORTER`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``, read by
:mod:`redline.settings`; the SDK and its exporter live in :mod:`redline.observability`), or
:data:`NO_TRACING`, whose spans are one shared no-op context (a fraction of a microsecond;
the API's own no-op tracer costs several microseconds a span, which adds up on every
request).

What a span may carry: step names, the request id, the public model name, the decision's
action and categories, which tiers ran, error classes and HTTP status. Never prompt or
output text, never a marking or banner, never a principal or tenant name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind

__all__ = ["NO_TRACING", "Tracing"]

_OFF: AbstractContextManager[Span] = contextlib.nullcontext(INVALID_SPAN)


class Tracing:
    """Opens spans on ``tracer``, or none when it is ``None``."""

    def __init__(self, tracer: trace.Tracer | None) -> None:
        self._tracer = tracer

    @property
    def enabled(self) -> bool:
        """Whether spans are recorded."""
        return self._tracer is not None

    def span(self, name: str, parent: Context | None = None) -> AbstractContextManager[Span]:
        """A child of the current span, or of ``parent`` (no-op when tracing is off)."""
        if self._tracer is None:
            return _OFF
        return self._tracer.start_as_current_span(name, context=parent)

    def context(self) -> Context | None:
        """The current trace context, for work that runs after the request's handler
        returned (a streamed answer's output screening); ``None`` when tracing is off."""
        if self._tracer is None:
            return None
        from opentelemetry.context import get_current

        return get_current()

    def server_span(self, name: str, carrier: Mapping[str, str]) -> AbstractContextManager[Span]:
        """The root span of one HTTP request, continuing a W3C ``traceparent`` in
        ``carrier`` (the request headers) when the client sent one."""
        if self._tracer is None:
            return _OFF
        return _server_span(self._tracer, name, carrier)


@contextlib.contextmanager
def _server_span(tracer: trace.Tracer, name: str, carrier: Mapping[str, str]) -> Iterator[Span]:
    from opentelemetry.propagate import extract

    parent: Context = extract(carrier)
    with tracer.start_as_current_span(name, context=parent, kind=SpanKind.SERVER) as span:
        yield span


NO_TRACING = Tracing(None)
"""Tracing off: every span is the shared no-op one."""
