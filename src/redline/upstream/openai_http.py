"""An OpenAI-compatible HTTP back end (OpenAI, vLLM, Ollama, Azure OpenAI) over httpx.

Connections are pooled per upstream. A connection failure before any byte was sent is
retried once (the request cannot have reached the model); nothing else is retried, because
generation is not idempotent. All httpx exceptions become :class:`UpstreamError` in
:func:`map_httpx_errors`, the single mapping point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import orjson

from redline.domain import Endpoint, JSONObject
from redline.errors import UpstreamResponseError, UpstreamTimeout, UpstreamUnavailable
from redline.upstream.base import UpstreamReply

__all__ = ["OpenAIHttpUpstream", "map_httpx_errors"]

_PATHS = {
    Endpoint.CHAT: "/chat/completions",
    Endpoint.COMPLETIONS: "/completions",
    Endpoint.EMBEDDINGS: "/embeddings",
}
_MAX_ERROR_BODY = 64 * 1024


@contextmanager
def map_httpx_errors(upstream: str) -> Iterator[None]:
    """Translate httpx exceptions raised inside the block into UpstreamError subclasses."""
    try:
        yield
    except httpx.TimeoutException as exc:
        if isinstance(exc, httpx.ConnectTimeout):
            raise UpstreamUnavailable(f"upstream {upstream!r} did not accept a connection") from exc
        raise UpstreamTimeout(f"upstream {upstream!r} timed out") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"upstream {upstream!r} failed: {type(exc).__name__}") from exc


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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        headers = {"content-type": "application/json"}
        params: dict[str, str] = {}
        if azure_api_version:
            params["api-version"] = azure_api_version
            if api_key:
                headers["api-key"] = api_key
        elif api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            params=params,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
        )

    async def complete(self, endpoint: Endpoint, body: JSONObject) -> UpstreamReply:
        content = orjson.dumps(body)
        response = await self._send(endpoint, content)
        try:
            with map_httpx_errors(self.name):
                data = await response.aread()
        finally:
            await response.aclose()
        return UpstreamReply(body=data)

    async def stream(self, endpoint: Endpoint, body: JSONObject) -> AsyncIterator[bytes]:
        content = orjson.dumps(body)
        response = await self._send(endpoint, content)
        try:
            async for payload in _sse_payloads(response, self.name):
                yield payload
        finally:
            await response.aclose()

    async def _send(self, endpoint: Endpoint, content: bytes) -> httpx.Response:
        request = self._client.build_request("POST", _PATHS[endpoint].lstrip("/"), content=content)
        for attempt in (1, 2):
            try:
                with map_httpx_errors(self.name):
                    response = await self._client.send(request, stream=True)
                break
            except UpstreamUnavailable as exc:
                connect_failed = isinstance(
                    exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout
                )
                if attempt == 2 or not connect_failed:
                    raise
        if response.status_code >= 400:
            await _raise_for_status(response, self.name)
        return response

    async def aclose(self) -> None:
        await self._client.aclose()


async def _raise_for_status(response: httpx.Response, upstream: str) -> None:
    try:
        with map_httpx_errors(upstream):
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > _MAX_ERROR_BODY:
                    break
    finally:
        await response.aclose()
    raise UpstreamResponseError(
        f"upstream {upstream!r} answered HTTP {response.status_code}",
        status_code=response.status_code,
        body=b"".join(chunks)[:_MAX_ERROR_BODY],
    )


async def _sse_payloads(response: httpx.Response, upstream: str) -> AsyncIterator[bytes]:
    """Yield each event's ``data`` payload as soon as the event is complete."""
    buffer = b""
    with map_httpx_errors(upstream):
        async for chunk in response.aiter_bytes():
            buffer += chunk.replace(b"\r\n", b"\n")
            while (end := buffer.find(b"\n\n")) >= 0:
                event, buffer = buffer[:end], buffer[end + 2 :]
                payload = _event_data(event)
                if payload is None:
                    continue
                if payload == b"[DONE]":
                    return
                yield payload
    if buffer.strip():
        payload = _event_data(buffer)
        if payload is not None and payload != b"[DONE]":
            yield payload
    raise UpstreamUnavailable(f"upstream {upstream!r} ended the stream without [DONE]")


def _event_data(event: bytes) -> bytes | None:
    lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None
