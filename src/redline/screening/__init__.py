"""Screening: the safety stack (normalisers, detectors, classifiers).

See docs/ARCHITECTURE.md, component ``screening``.
"""

from __future__ import annotations

from redline.screening.batch import Screen, screen_messages_factory
from redline.screening.stack import Judgement, SafetyStack

__all__ = ["Judgement", "SafetyStack", "Screen", "screen_messages_factory"]
