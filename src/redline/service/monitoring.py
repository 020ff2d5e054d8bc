"""The cross-request monitors of the policy in force.

The monitors' thresholds, windows and closed-loop limits come from the policy. A hot reload
that changes the policy's ``[monitors]`` section takes effect on the next request: the
monitors are rebuilt from the new settings (in-process windows then start empty; Redis
windows live in Redis and are kept). A reload that leaves the section unchanged keeps the
same monitors and their windows.
"""

from __future__ import annotations

from collections.abc import Callable

from redline.monitors import Monitors
from redline.policy import MonitorSettings, Policy

__all__ = ["MonitorsInForce"]


class MonitorsInForce:
    """Callable returning the :class:`Monitors` for the policy currently in force."""

    def __init__(
        self, policy: Callable[[], Policy], build: Callable[[MonitorSettings], Monitors]
    ) -> None:
        self._policy = policy
        self._build = build
        self._settings = policy().monitors
        self._monitors = build(self._settings)

    def __call__(self) -> Monitors:
        settings = self._policy().monitors
        if settings is not self._settings and settings != self._settings:
            self._monitors = self._build(settings)
        self._settings = settings
        return self._monitors
