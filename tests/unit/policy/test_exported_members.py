"""``redline.policy.__all__`` is exactly its public names (httpx's test_exported_members)."""

from __future__ import annotations
import __future__

import types

import redline.policy


def test_all_imports_are_exported() -> None:
    public = [
        name
        for name, value in vars(redline.policy).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    ]
    assert len(set(redline.policy.__all__)) == len(redline.policy.__all__)
    assert sorted(redline.policy.__all__) == sorted(public)


def test_every_export_resolves() -> None:
    for name in redline.policy.__all__:
        assert getattr(redline.policy, name).__module__.startswith("redline.policy.")
