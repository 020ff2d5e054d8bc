"""Golden policy files: every valid overlay loads; every invalid file fails with its error."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import PolicyError
from redline.policy import lint, load_policy
from tests.unit.policy.conftest import ASSETS

INVALID = sorted((ASSETS / "invalid").glob("*.toml"))
VALID = sorted((ASSETS / "valid").glob("*.toml"))


def _header(path: Path) -> tuple[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    layer = lines[0].removeprefix("# layer: ")
    expect = lines[1].removeprefix("# expect: ") if lines[1].startswith("# expect: ") else ""
    return layer, expect


def _load(path: Path, floor_bytes: bytes) -> None:
    layer, _ = _header(path)
    if layer == "floor":
        load_policy(path.read_bytes(), floor_source=path.name)
    else:
        load_policy(floor_bytes, path.read_bytes(), overlay_source=path.name)


def test_there_are_golden_files() -> None:
    assert len(INVALID) >= 20
    assert len(VALID) >= 3


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_fails_with_its_error(path: Path, floor_bytes: bytes) -> None:
    _, expect = _header(path)
    with pytest.raises(PolicyError) as info:
        _load(path, floor_bytes)
    assert str(info.value).startswith(path.name + expect)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_file_has_exactly_one_problem(path: Path, floor_bytes: bytes) -> None:
    layer, expect = _header(path)
    if layer == "floor":
        problems = lint(path.read_bytes(), floor_source=path.name)
    else:
        problems = lint(floor_bytes, path.read_bytes(), overlay_source=path.name)
    assert [str(p).startswith(path.name + expect) for p in problems] == [True]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_overlay_loads(path: Path, floor_bytes: bytes) -> None:
    policy = load_policy(floor_bytes, path.read_bytes(), overlay_source=path.name)
    assert len(policy.sha256) == 64
    assert policy.overlay_sha256 != ""
