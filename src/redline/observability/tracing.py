"""Trace export with the OpenTelemetry SDK, built only when settings ask for it.

:attr:`redline.settings.Settings.traces_exporter` is ``otlp`` or ``console`` when the
standard variables configure an exporter (``OTEL_TRACES_EXPORTER``, or an
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), and ``None``
otherwise; then no SDK is loaded and the request path's spans are no-ops. The exporter
reads the rest of its standard variables itself (endpoint, headers, timeout, certificate),
as does the resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``).
"""

from __future__ import annotations

import sys

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from redline import __version__
from redline.errors import ConfigError

__all__ = ["TRACER_NAME", "tracer_provider"]

TRACER_NAME = "redline"
"""The instrumentation scope of every span Redline opens."""


def tracer_provider(exporter: str) -> TracerProvider:
    """A provider exporting in batches through ``exporter`` (``otlp`` or ``console``).

    Raises:
        ConfigError: an exporter this build does not ship.
    """
    resource = Resource.create({"service.version": __version__})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "redline"}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(exporter)))
    return provider


def _exporter(name: str) -> SpanExporter:
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter(out=sys.stderr)
    raise ConfigError(f"unsupported trace exporter {name!r}: use otlp or console")
