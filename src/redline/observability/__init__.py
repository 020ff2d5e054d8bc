"""Observability adapters: Prometheus metrics, OpenTelemetry trace export, log formats.

The core reports through ports (:class:`redline.service.ports.Metrics`,
:class:`redline.service.tracing.Tracing`) and imports neither ``prometheus_client`` nor the
OpenTelemetry SDK (import-linter contract "Core reports through ports"); the composition
root builds these adapters from :class:`redline.settings.Settings`. What each metric means,
and sample alert rules: docs/OBSERVABILITY.md.
"""
