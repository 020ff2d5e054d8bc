"""OpenTelemetry spans of the request path, from a real gateway (uvicorn, OS-picked port) whose
tracer provider exports to the SDK's in-memory exporter.

Spans must exist for each step, nest under the request's root span (or under a client's
``traceparent``), and carry no prompt or output text and no marking.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from redline.bootstrap import build_app
from redline.store.keys import SqliteKeyStore
from tests.conftest import MockUpstream, gateway_settings
from tests.integration.test_safeguards import WEAPON
from tests.support.servers import serve_in_thread

STEPS = {"auth", "killswitch", "route", "access", "screening", "policy", "audit"}


class Traced:
    def __init__(self, url: str, key: str, exporter: InMemorySpanExporter) -> None:
        self.url = url
        self.key = key
        self.exporter = exporter

    def post(
        self, body: dict[str, Any], **headers: str
    ) -> tuple[httpx.Response, list[ReadableSpan]]:
        self.exporter.clear()
        response = httpx.post(
            self.url + "/v1/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {self.key}", **headers},
            timeout=30,
        )
        response.read()
        return response, list(self.exporter.get_finished_spans())


@pytest.fixture(scope="module")
def traced(
    tmp_path_factory: pytest.TempPathFactory, mock_upstream_server: MockUpstream
) -> Iterator[Traced]:
    data_dir: Path = tmp_path_factory.mktemp("traced") / "data"
    store = SqliteKeyStore(data_dir / "keys.db")
    key = store.create(tenant="acme-tenant", label="traced").plaintext
    store.close()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = build_app(gateway_settings(data_dir, mock_upstream_server.url), traces=provider)
    with serve_in_thread(app) as url:
        yield Traced(url, key, exporter)
    provider.shutdown()


def _chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "mock-ok", "messages": [{"role": "user", "content": text}], **extra}


def _by_name(spans: list[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        out.setdefault(span.name, []).append(span)
    return out


def _root(spans: list[ReadableSpan]) -> ReadableSpan:
    roots = [s for s in spans if s.name == "POST chat.completions"]
    assert len(roots) == 1, [s.name for s in spans]
    return roots[0]


def _everything_said(spans: list[ReadableSpan]) -> str:
    """Every attribute key and value, event and status text of ``spans``, as one string."""
    parts: list[str] = []
    for span in spans:
        parts.append(span.name)
        parts.append(json.dumps(dict(span.attributes or {}), default=str))
        parts.extend(
            json.dumps([e.name, dict(e.attributes or {})], default=str) for e in span.events
        )
        parts.append(span.status.description or "")
    return "\n".join(parts)


def test_an_answered_request_has_a_span_per_step_under_its_root(traced: Traced) -> None:
    response, spans = traced.post(_chat("hello there"), **{"x-request-id": "req-trace-1"})
    assert response.status_code == 200, response.text
    names = _by_name(spans)
    assert STEPS | {"upstream", "output_screening"} <= set(names)
    root = _root(spans)
    assert root.parent is None
    assert root.attributes is not None
    assert root.attributes["redline.request_id"] == "req-trace-1"
    assert root.attributes["http.response.status_code"] == 200
    assert root.context is not None
    for span in spans:
        assert span.context is not None
        assert span.context.trace_id == root.context.trace_id
        if span is not root:
            assert span.parent is not None
            assert span.parent.span_id == root.context.span_id, span.name
    policy = names["policy"][0]
    assert policy.attributes is not None
    assert policy.attributes["redline.action"] == "allow"
    upstream = names["upstream"][0]
    assert upstream.attributes is not None
    assert upstream.attributes["redline.model"] == "mock-ok"
    # Steps run in order (the exporter receives spans as they end): screening, then the
    # policy decision, then the upstream call.
    ended = [span.name for span in spans]
    assert ended.index("screening") < ended.index("policy") < ended.index("upstream")


def test_a_blocked_request_never_reaches_the_upstream_span(traced: Traced) -> None:
    response, spans = traced.post(_chat(WEAPON))
    assert response.status_code == 403
    names = _by_name(spans)
    assert set(names) >= STEPS
    assert "upstream" not in names
    policy = names["policy"][0]
    assert policy.attributes is not None
    assert policy.attributes["redline.action"] == "block"
    assert policy.attributes["redline.categories"]


def test_a_held_request_has_a_review_span(traced: Traced) -> None:
    response, spans = traced.post(_chat(WEAPON), **{"x-redline-contest-block": "1"})
    assert response.status_code == 403
    assert "review" in _by_name(spans)


def test_a_client_traceparent_is_continued(traced: Traced) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = "00f067aa0ba902b7"
    _, spans = traced.post(_chat("hi"), traceparent=f"00-{trace_id}-{parent}-01")
    root = _root(spans)
    assert root.context is not None
    assert f"{root.context.trace_id:032x}" == trace_id
    assert root.parent is not None
    assert f"{root.parent.span_id:016x}" == parent


def test_a_streamed_answer_is_screened_in_the_same_trace(traced: Traced) -> None:
    # An ordinary request (the three words "stream me please" sit at the review threshold
    # of the screening model, 0.49-0.52: a trace test needs a request that is clearly let
    # through).
    response, spans = traced.post(_chat("What time does the depot open tomorrow?", stream=True))
    assert response.status_code == 200, response.text
    assert "[DONE]" in response.text
    root = _root(spans)
    assert root.context is not None
    screened = _by_name(spans)["output_screening"]
    assert screened
    for span in screened:
        assert span.context is not None
        assert span.context.trace_id == root.context.trace_id
        assert span.parent is not None
        assert span.parent.span_id == root.context.span_id


def test_a_refused_label_leaves_no_marking_in_spans(traced: Traced) -> None:
    response, spans = traced.post(
        _chat("TOP SECRET//NOFORN the plan"), **{"x-redline-classification": "TOP SECRET//NOFORN"}
    )
    assert response.status_code == 403, response.text
    said = _everything_said(spans)
    assert "TOP SECRET" not in said
    assert "NOFORN" not in said
    assert "acme-tenant" not in said


def _answer_text(response: httpx.Response, *, stream: bool) -> str:
    if not stream:
        return str(response.json()["choices"][0]["message"]["content"])
    text = ""
    for line in response.text.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:])["choices"]:
                text += choice["delta"].get("content") or ""
    return text


@settings(max_examples=12, deadline=None)
@given(token=st.uuids().map(lambda u: f"tok{u.hex}"), stream=st.booleans())
def test_no_prompt_or_output_text_in_any_span(traced: Traced, token: str, stream: bool) -> None:
    """Property: a unique random token in the prompt (and so, echoed, in the answer) appears
    in no span name, attribute, event or status."""
    response, spans = traced.post(_chat(f"please summarise {token} for me", stream=stream))
    assert response.status_code == 200, response.text
    assert token in _answer_text(response, stream=stream)  # the answer carries it too
    assert {"upstream", "output_screening"} <= {s.name for s in spans}
    said = _everything_said(spans)
    pieces = {token[i : i + 8] for i in range(len(token) - 7)}
    assert not [p for p in pieces if p in said], "a piece of the prompt is in a span"


@settings(max_examples=25, deadline=None)
@given(traceparent=st.text(alphabet=string.printable.strip(), max_size=60))
def test_any_traceparent_starts_or_continues_a_trace(traced: Traced, traceparent: str) -> None:
    response, spans = traced.post(_chat("hello"), traceparent=traceparent)
    assert response.status_code == 200, response.text
    root = _root(spans)
    assert root.context is not None
    assert root.context.is_valid
