"""Redline: an OpenAI-compatible gateway that holds AI deployments to agreed red lines.

Entry points: ``redline serve`` (:mod:`redline.cli.serve`), the ASGI factory
:func:`redline.gateway.app.create_app`, and the orchestrator :class:`redline.service.Gateway`.
"""

__version__ = "0.1.0"
