"""Readiness checks: every check reported, failures by error class only, a hung check is a
failure within the time limit (the live probe: tests/integration/test_observability.py)."""

from __future__ import annotations

import asyncio

from redline.domain import JSONValue
from redline.errors import StoreError
from redline.service.health import check_ready


async def _fine() -> dict[str, JSONValue]:
    return {"size": 3}


async def _broken() -> dict[str, JSONValue]:
    raise StoreError("cannot reach postgresql://user:secret@db.internal/redline")


async def _hung() -> dict[str, JSONValue]:
    await asyncio.Event().wait()
    return {}


async def _says_no() -> dict[str, JSONValue]:
    return {"ok": False, "error": "the audit log is not running"}


async def test_all_passing_is_ready() -> None:
    readiness = await check_ready({"a": _fine, "b": _fine})
    assert readiness.ready
    assert readiness.as_json() == {
        "status": "ready",
        "checks": {"a": {"ok": True, "size": 3}, "b": {"ok": True, "size": 3}},
    }


async def test_a_failure_is_named_by_class_without_its_message() -> None:
    readiness = await check_ready({"a": _fine, "store": _broken})
    assert not readiness.ready
    assert readiness.checks["store"] == {"ok": False, "error": "StoreError"}
    assert "secret" not in str(readiness.as_json())
    assert readiness.as_json()["status"] == "not ready"


async def test_a_hung_check_fails_within_the_limit() -> None:
    readiness = await check_ready({"hung": _hung, "a": _fine}, timeout_s=0.05)
    assert not readiness.ready
    assert readiness.checks["hung"]["ok"] is False
    assert readiness.checks["a"]["ok"] is True


async def test_a_check_may_report_not_ready_itself() -> None:
    readiness = await check_ready({"audit": _says_no})
    assert not readiness.ready
    assert readiness.checks["audit"] == {"ok": False, "error": "the audit log is not running"}
