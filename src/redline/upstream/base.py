"""The upstream port: what the gateway needs from a model back end.

Bodies cross this seam as JSON objects (already re-targeted at the upstream's model name);
streamed replies cross it as an async iterator of SSE ``data:`` payloads, one per event,
without the ``[DONE]`` sentinel. Errors are always :class:`redline.errors.UpstreamError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from redline.domain import Endpoint, JSONObject

__all__ = ["StreamEvents", "Upstream", "UpstreamReply"]

StreamEvents = AsyncIterator[bytes]
"""SSE ``data:`` payloads (JSON bytes), in order, ``[DONE]`` excluded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamReply:
    """A complete (non-streamed) successful answer: the JSON body bytes as received."""

    body: bytes


class Upstream(Protocol):
    """A model back end."""

    async def complete(self, endpoint: Endpoint, body: JSONObject) -> UpstreamReply:
        """Send a non-streaming request and return the whole successful reply.

        Raises:
            UpstreamError: timeout, unavailable back end, or an HTTP error status.
        """
        ...

    def stream(self, endpoint: Endpoint, body: JSONObject) -> StreamEvents:
        """Send a streaming request; iterate the reply's events as they arrive.

        The request is sent when iteration starts; closing the iterator early cancels it.

        Raises:
            UpstreamError: before the first event or mid-stream.
        """
        ...

    async def aclose(self) -> None:
        """Release pooled connections."""
        ...
