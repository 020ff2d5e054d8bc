"""The reviewer console: server-rendered pages under ``/console``.

Pages and their security properties: :mod:`redline.gateway.console.routes`; sessions:
:mod:`redline.gateway.console.sessions`. Import those modules directly (this package
initialiser stays empty so that ``review_api`` can use the session store without a cycle).
"""

from __future__ import annotations

__all__: list[str] = []
