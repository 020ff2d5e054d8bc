"""Screening: the safety stack (normalisers, detectors, classifiers).

See docs/ARCHITECTURE.md, component ``screening``.
"""

from __future__ import annotations

__all__: list[str] = []
