"""Cross-request monitors: mass surveillance and machine-speed weapon loops across requests.

Spec: DOMAIN.md §5.2, §5.3, §5.5, §5.6; ARCHITECTURE.md "monitors".

Public API:

* :class:`Monitors` - ``observe_request`` / ``observe_response`` return
  :class:`~redline.domain.Verdict` s for ``decide()``; ``snapshot`` for the admin API;
* :class:`MonitorConfig` (``from_policy(policy.monitors)``), :class:`VolumeWindow`;
* :class:`MonitorState` (the Protocol), :class:`InProcessMonitorState`,
  :class:`RedisMonitorState`;
* :class:`PersonExtractor` - hashed person identifiers with nationality classes;
* :func:`issue_token` / :func:`verify_token` - human-confirmation tokens for effector calls.
"""

from __future__ import annotations

from redline.monitors.config import MonitorConfig, VolumeWindow
from redline.monitors.confirmation import (
    CONFIRMATION_ARGUMENT,
    CONFIRMATION_HEADER,
    IssuedToken,
    TokenCheck,
    issue_token,
    verify_token,
)
from redline.monitors.memory import InProcessMonitorState
from redline.monitors.observe import Monitors
from redline.monitors.persons import (
    Extraction,
    IdentifierKind,
    Nationality,
    PersonExtractor,
    PersonRef,
)
from redline.monitors.redis_state import RedisMonitorState
from redline.monitors.state import CadenceStats, CallKind, MonitorState, Scope, WindowCount

__all__ = [
    "CONFIRMATION_ARGUMENT",
    "CONFIRMATION_HEADER",
    "CadenceStats",
    "CallKind",
    "Extraction",
    "IdentifierKind",
    "InProcessMonitorState",
    "IssuedToken",
    "MonitorConfig",
    "MonitorState",
    "Monitors",
    "Nationality",
    "PersonExtractor",
    "PersonRef",
    "RedisMonitorState",
    "Scope",
    "TokenCheck",
    "VolumeWindow",
    "WindowCount",
    "issue_token",
    "verify_token",
]
