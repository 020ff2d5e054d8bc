"""The orchestrator: one request through auth, access, screening, policy, audit and upstream.

Touches no web types; :mod:`redline.gateway` and :mod:`redline.cli` compose it.
"""

from __future__ import annotations

from redline.service.auth import Authenticator
from redline.service.gateway import Completed, Gateway, Outcome, Refused, Streaming
from redline.service.routing import Router

__all__ = ["Authenticator", "Completed", "Gateway", "Outcome", "Refused", "Router", "Streaming"]
