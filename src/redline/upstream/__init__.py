"""Model back ends: any OpenAI-compatible HTTP server, and the built-in ``redline-echo``."""

from __future__ import annotations

from redline.upstream.base import StreamEvents, Upstream, UpstreamReply
from redline.upstream.echo import EchoUpstream
from redline.upstream.openai_http import OpenAIHttpUpstream, map_transport_errors

__all__ = [
    "EchoUpstream",
    "OpenAIHttpUpstream",
    "StreamEvents",
    "Upstream",
    "UpstreamReply",
    "map_transport_errors",
]
