"""Routing: public model names to upstreams, with each route's accreditation ceiling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from redline.access import RouteCeiling
from redline.errors import ModelNotFound
from redline.upstream.base import Upstream

__all__ = ["ModelRoute", "Router"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRoute:
    """A resolved route: the back end, the model name it expects, its accreditation."""

    public_model: str
    upstream: Upstream
    upstream_model: str
    ceiling: RouteCeiling


class Router:
    """Maps public model names to upstreams."""

    def __init__(self, routes: Mapping[str, ModelRoute]) -> None:
        self._routes = dict(routes)

    def resolve(self, model: str) -> ModelRoute:
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
