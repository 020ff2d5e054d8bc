"""The core services: the orchestrator (one request through access, screening, policy,
audit and upstream), authentication, the kill switch, the policy in force, screening.

Touches no web types; :mod:`redline.bootstrap` builds these once and hands them to the web
edge (:mod:`redline.gateway`).
"""

from __future__ import annotations

from redline.service.auth import Authenticator
from redline.service.orchestrator import (
    Completed,
    Orchestrator,
    Outcome,
    Refused,
    RequestContext,
    Streaming,
)
from redline.service.routing import Router

__all__ = [
    "Authenticator",
    "Completed",
    "Orchestrator",
    "Outcome",
    "Refused",
    "RequestContext",
    "Router",
    "Streaming",
]
