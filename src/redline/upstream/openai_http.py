"""An OpenAI-compatible HTTP back end (OpenAI, vLLM, Ollama, Azure OpenAI).

Requests go through :class:`redline.upstream.http1.Http1Pool` (keep-alive pool). A failed
connection attempt, or a pooled connection the upstream had already closed, is retried
once; nothing else is retried, because generation is not idempotent. Transport failures
become :class:`UpstreamError` in :func:`map_transport_errors`, the single mapping point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import orjson

from redline.domain import Endpoint, JSONObject
from redline.errors import UpstreamResponseError, UpstreamTimeout, UpstreamUnavailable
from redline.upstream.base import UpstreamReply
from redline.upstream.http1 import (
    ConnectFailed,
    Http1Pool,
    Http1Response,
    ReadTimedOut,
    TransportFailure,
)

__all__ = ["OpenAIHttpUpstream", "map_transport_errors"]

_PATHS = {
    Endpoint.CHAT: "/chat/completions",
    Endpoint.COMPLETIONS: "/completions",
    Endpoint.EMBEDDINGS: "/embeddings",
}
_MAX_ERROR_BODY = 64 * 1024


@contextmanager
def map_transport_errors(upstream: str) -> Iterator[None]:
    """Translate transport failures raised inside the block into UpstreamError subclasses."""
    try:
        yield
    except ReadTimedOut as exc:
        raise UpstreamTimeout(f"upstream {upstream!r} timed out") from exc
    except ConnectFailed as exc:
        raise UpstreamUnavailable(f"upstream {upstream!r} is unreachable") from exc
    except TransportFailure as exc:
        raise UpstreamUnavailable(f"upstream {upstream!r} failed: {exc}") from exc


class OpenAIHttpUpstream:
    """One OpenAI-compatible base URL with its own connection pool."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str | None = None,
        azure_api_version: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 120.0,
        max_connections: int = 256,
    ) -> None:
        self.name = name
        self._headers = {"content-type": "application/json", "accept": "application/json"}
        self._query = ""
        if azure_api_version:
            self._query = f"?api-version={azure_api_version}"
            if api_key:
                self._headers["api-key"] = api_key
        elif api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._pool = Http1Pool(
            base_url,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            max_connections=max_connections,
        )

    async def complete(self, endpoint: Endpoint, body: JSONObject) -> UpstreamReply:
        response = await self._send(endpoint, body)
        with map_transport_errors(self.name):
            return UpstreamReply(body=await response.read())

    async def stream(self, endpoint: Endpoint, body: JSONObject) -> AsyncIterator[bytes]:
        response = await self._send(endpoint, body)
        try:
            async for payload in _sse_payloads(response, self.name):
                yield payload
        finally:
            response.close()

    async def _send(self, endpoint: Endpoint, body: JSONObject) -> Http1Response:
        path = _PATHS[endpoint] + self._query
        with map_transport_errors(self.name):
            response = await self._pool.request("POST", path, self._headers, orjson.dumps(body))
            if response.status >= 400:
                data = await response.read(limit=_MAX_ERROR_BODY)
                raise UpstreamResponseError(
                    f"upstream {self.name!r} answered HTTP {response.status}",
                    status_code=response.status,
                    body=data[:_MAX_ERROR_BODY],
                )
        return response

    async def aclose(self) -> None:
        await self._pool.aclose()


async def _sse_payloads(response: Http1Response, upstream: str) -> AsyncIterator[bytes]:
    """Yield each event's ``data`` payload as soon as the event is complete.

    A stream that ends without ``[DONE]`` was cut off: that is an error, not an ending.
    """
    buffer = b""
    with map_transport_errors(upstream):
        async for chunk in response.iter_bytes():
            buffer += chunk
            if b"\r" in buffer:
                buffer = buffer.replace(b"\r\n", b"\n")
            while (end := buffer.find(b"\n\n")) >= 0:
                event, buffer = buffer[:end], buffer[end + 2 :]
                payload = _event_data(event)
                if payload is None:
                    continue
                if payload == b"[DONE]":
                    return
                yield payload
    raise UpstreamUnavailable(f"upstream {upstream!r} ended the stream without [DONE]")


def _event_data(event: bytes) -> bytes | None:
    lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None
