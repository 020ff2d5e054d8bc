"""The web edge: the ASGI app (OpenAI routes, Redline routes). The only package that imports
starlette."""

from __future__ import annotations

__all__: list[str] = []
