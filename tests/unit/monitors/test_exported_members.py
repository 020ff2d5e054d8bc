"""``redline.monitors.__all__`` is exactly its public names (httpx's test_exported_members)."""

from __future__ import annotations
import __future__

import types

import redline.monitors


def test_all_imports_are_exported() -> None:
    public = [
        name
        for name, value in vars(redline.monitors).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    ]
    assert len(set(redline.monitors.__all__)) == len(redline.monitors.__all__)
    assert sorted(redline.monitors.__all__) == sorted(public)
