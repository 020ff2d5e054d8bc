"""Settings of observability: each one is read, validated and enforced (enforcement of the
metrics and trace settings through a live gateway: tests/integration/test_observability.py,
tests/integration/test_tracing.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.observability.tracing import tracer_provider
from redline.settings import Settings


def load(tmp_path: Path, text: str = "", environ: dict[str, str] | None = None) -> Settings:
    config = tmp_path / "redline.toml"
    config.write_text(text)
    return Settings.load(environ or {}, config_path=config, data_dir=tmp_path)


def test_defaults_are_admin_metrics_json_logs_and_no_traces(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.metrics == "admin"
    assert settings.log_format == "json"
    assert settings.traces_exporter is None


def test_file_then_environment(tmp_path: Path) -> None:
    text = '[observability]\nmetrics = "public"\nlog_format = "text"\n'
    assert load(tmp_path, text).metrics == "public"
    assert load(tmp_path, text).log_format == "text"
    env = {"REDLINE_METRICS": "off", "REDLINE_LOG_FORMAT": "JSON"}
    assert load(tmp_path, text, env).metrics == "off"
    assert load(tmp_path, text, env).log_format == "json"


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ('[observability]\nmetrics = "everyone"\n', {}, "admin|public|off"),
        ("", {"REDLINE_LOG_FORMAT": "xml"}, "json|text"),
        ("[observability]\ntraces = true\n", {}, "unknown key"),
        ("", {"OTEL_TRACES_EXPORTER": "zipkin"}, "otlp, console, none"),
        ("", {"OTEL_TRACES_EXPORTER": "otlp,console"}, "otlp, console, none"),
        (
            "",
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            },
            "http/protobuf",
        ),
    ],
)
def test_bad_values_are_refused(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text, environ)


@pytest.mark.parametrize(
    ("environ", "exporter"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, None),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "otlp"),
    ],
)
def test_traces_only_when_the_standard_variables_ask(
    tmp_path: Path, environ: dict[str, str], exporter: str | None
) -> None:
    assert load(tmp_path, "", environ).traces_exporter == exporter


def test_every_exporter_the_settings_accept_can_be_built() -> None:
    for name in ("otlp", "console"):
        provider = tracer_provider(name)
        span = provider.get_tracer("t").start_span("s")  # never ended: nothing is sent
        assert span.get_span_context().is_valid
        provider.shutdown()
    with pytest.raises(ConfigError):
        tracer_provider("jaeger")
