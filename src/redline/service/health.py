"""Readiness: may this process take traffic? (``GET /readyz``)

The composition root names one check per dependency (stores reachable, policy loaded,
audit log running with a known sequencer); :func:`check_ready` runs them concurrently, each
under a time limit, and reports every one. A check returns facts safe to show without
authentication (no URLs, paths or tenant names) or raises; a failure is reported by its
error class alone, since an error's text may carry a connection string or a path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from redline.domain import JSONValue

__all__ = ["Check", "Readiness", "check_ready"]

Check = Callable[[], Awaitable[dict[str, JSONValue]]]
"""One readiness check: facts when ready, or an exception."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Readiness:
    """Every check's outcome; ready only if all passed."""

    ready: bool
    checks: dict[str, dict[str, JSONValue]]

    def as_json(self) -> dict[str, JSONValue]:
        """The ``/readyz`` body."""
        checks: dict[str, JSONValue] = dict(self.checks)
        return {"status": "ready" if self.ready else "not ready", "checks": checks}


async def check_ready(checks: Mapping[str, Check], *, timeout_s: float = 2.0) -> Readiness:
    """Run ``checks`` concurrently, each within ``timeout_s``."""
    names = list(checks)
    results = await asyncio.gather(*(_run(checks[n], timeout_s) for n in names))
    report = dict(zip(names, results, strict=True))
    return Readiness(ready=all(r["ok"] is True for r in results), checks=report)


async def _run(check: Check, timeout_s: float) -> dict[str, JSONValue]:
    try:
        async with asyncio.timeout(timeout_s):
            facts = await check()
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {timeout_s:g} s"}
    except Exception as exc:  # noqa: BLE001 - a probe reports any failure, never a 500
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, **facts}
