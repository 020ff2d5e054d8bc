"""``redline serve`` as operators run it: traces exported over OTLP/HTTP by the SDK when the
standard variables say so (to a collector stand-in that decodes the protobuf), and JSON log
lines carrying the request id."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.store.keys import SqliteKeyStore
from tests.support.servers import redline_serve_process, serve_in_thread, subprocess_env

pytestmark = pytest.mark.e2e


class Collector:
    """Receives OTLP/HTTP trace exports, as a collector would."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def app(self) -> Starlette:
        async def traces(request: Request) -> Response:
            self.bodies.append(await request.body())
            return Response(b"", media_type="application/x-protobuf")

        return Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])

    def span_names(self) -> set[str]:
        names: set[str] = set()
        for body in self.bodies:
            export = ExportTraceServiceRequest.FromString(body)
            for resource in export.resource_spans:
                for scope in resource.scope_spans:
                    names.update(span.name for span in scope.spans)
        return names


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    received = Collector()
    with serve_in_thread(received.app()) as url:
        yield received, url


def test_serve_exports_traces_and_logs_json(
    tmp_path: Path, collector: tuple[Collector, str]
) -> None:
    received, collector_url = collector
    data_dir = tmp_path / "data"
    store = SqliteKeyStore(data_dir / "keys.db")
    key = store.create(tenant="acme", label="e2e").plaintext
    store.close()
    env = subprocess_env(
        REDLINE_DATA_DIR=str(data_dir),
        OTEL_EXPORTER_OTLP_ENDPOINT=collector_url,
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_SERVICE_NAME="redline-e2e",
    )
    token = f"tok{uuid.uuid4().hex}"
    with redline_serve_process(env) as served:
        response = httpx.post(
            served.url + "/v1/chat/completions",
            json={"model": "redline-echo", "messages": [{"role": "user", "content": token}]},
            headers={"authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert token in response.text
        wanted = {"POST chat.completions", "auth", "screening", "policy", "audit", "upstream"}
        for _ in range(200):  # bounded: 200 x 0.05 s
            if wanted <= received.span_names():
                break
            time.sleep(0.05)
        log = served.log.read_text()
    assert wanted <= received.span_names(), received.span_names()
    assert "output_screening" in received.span_names()
    export = ExportTraceServiceRequest.FromString(received.bodies[0])
    resource = {a.key: a.value.string_value for a in export.resource_spans[0].resource.attributes}
    assert resource["service.name"] == "redline-e2e"
    assert not [b for b in received.bodies if token.encode() in b], "prompt text was exported"
    rid = response.headers["x-request-id"]
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == rid]
    assert len(mine) == 1, log
    assert mine[0]["status"] == 200
    assert mine[0]["op"] == "chat.completions"
    assert token not in log
