"""The Gateway: the single orchestrator of a request (ARCHITECTURE.md "One request").

``handle()`` returns an :class:`Outcome` value: a completed body, a stream of events, or a
refusal. Errors (bad model, upstream failure, audit failure) are raised as
:class:`redline.errors.GatewayError` subclasses and mapped to HTTP at the edge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from redline.domain import ChatRequest, Decision, JSONObject, Principal
from redline.errors import ModelNotFound
from redline.upstream.base import Upstream

__all__ = ["Completed", "Gateway", "Outcome", "Refused", "Router", "Streaming"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """A non-streamed answer: the JSON body to return."""

    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Streaming:
    """A streamed answer: SSE data payloads; the edge writes ``[DONE]`` after the last one."""

    events: AsyncIterator[bytes]


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """The policy refused (block) or held (review) the request."""

    decision: Decision
    review_id: str | None = None


Outcome = Completed | Streaming | Refused


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A resolved route: the back end and the model name it expects."""

    public_model: str
    upstream: Upstream
    upstream_model: str


class Router:
    """Maps public model names to upstreams."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self._routes = dict(routes)

    def resolve(self, model: str) -> Route:
        """The route for a public model name.

        Raises:
            ModelNotFound: no route serves this model.
        """
        route = self._routes.get(model)
        if route is None:
            raise ModelNotFound(f"The model '{model}' does not exist", param="model")
        return route

    def models(self) -> list[str]:
        """Public model names, sorted."""
        return sorted(self._routes)

    async def aclose(self) -> None:
        """Close every distinct upstream once."""
        seen: set[int] = set()
        for route in self._routes.values():
            if id(route.upstream) not in seen:
                seen.add(id(route.upstream))
                await route.upstream.aclose()


class Gateway:
    """Runs one request end to end; built once at start-up, shared by all requests."""

    def __init__(self, *, router: Router) -> None:
        self.router = router

    async def handle(self, principal: Principal, request: ChatRequest) -> Outcome:
        """Serve one request for an authenticated principal."""
        route = self.router.resolve(request.model)
        body: JSONObject = dict(request.body)
        body["model"] = route.upstream_model
        _ = principal
        if request.stream:
            return Streaming(events=await _started(route.upstream.stream(request.endpoint, body)))
        reply = await route.upstream.complete(request.endpoint, body)
        return Completed(body=reply.body)


async def _started(events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Wait for the first event so that failures before it become HTTP errors, not SSE events.

    Returns an iterator that yields the first event again, then the rest.
    """
    try:
        first = await anext(events)
    except StopAsyncIteration:
        return _empty()
    except BaseException:
        await _close(events)
        raise
    return _chain(first, events)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        yield first
        async for event in rest:
            yield event
    finally:
        await _close(rest)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _close(events: AsyncIterator[bytes]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
