"""The public API of redline.audit is exactly what __all__ says (httpx's test)."""

from __future__ import annotations

import redline.audit


def test_all_members_exist() -> None:
    for name in redline.audit.__all__:
        assert getattr(redline.audit, name) is not None


def test_public_names_are_exported() -> None:
    public = {n for n in dir(redline.audit) if not n.startswith("_")}
    modules = {
        "bodies",
        "checkpoint",
        "export",
        "jcs",
        "log",
        "merkle",
        "note",
        "proofs",
        "record",
        "sequencer",
        "sqlite_store",
        "store",
        "tiles",
        "verify",
        "postgres_store",
        "TYPE_CHECKING",
        "annotations",
    }
    assert public - modules <= set(redline.audit.__all__)
