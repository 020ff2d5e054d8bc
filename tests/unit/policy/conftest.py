"""Fixtures for the policy tests: golden assets and the shipped floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.policy import Policy, load_builtin_floor
from redline.policy.load import builtin_floor_bytes

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "policies"


def asset(name: str) -> bytes:
    """The bytes of ``tests/assets/policies/<name>``."""
    return (ASSETS / name).read_bytes()


@pytest.fixture(scope="session")
def floor_bytes() -> bytes:
    return builtin_floor_bytes()


@pytest.fixture(scope="session")
def floor() -> Policy:
    return load_builtin_floor()
