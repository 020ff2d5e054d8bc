"""The admin API on a real server (uvicorn in a thread) with real SQLite stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from redline.bootstrap import build_app
from redline.policy import load_builtin_floor
from redline.settings import Settings
from tests.integration.admin.conftest import audit_events, create_key
from tests.support.servers import serve_in_thread

ADMIN = "/redline/v1/admin"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def keys(data_dir: Path) -> dict[str, str]:
    return {
        "admin1": create_key(data_dir, "ops", "admin"),
        "admin2": create_key(data_dir, "ops", "admin"),
        "user": create_key(data_dir, "acme", "reviewer"),
    }


@pytest.fixture
def base(data_dir: Path, keys: dict[str, str]) -> Iterator[str]:
    with serve_in_thread(build_app(Settings(data_dir=data_dir))) as url:
        yield url


def call(base: str, key: str | None, method: str, path: str, body: object = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.request(method, base + ADMIN + path, json=body, headers=headers, timeout=10)


ROUTES = [
    ("POST", "/halt", {"scope": "all"}),
    ("POST", "/resume", {"scope": "all"}),
    ("GET", "/halts", None),
    ("POST", "/policy/reload", None),
    ("GET", "/policy", None),
]


def test_only_admin_keys_get_in(base: str, keys: dict[str, str], data_dir: Path) -> None:
    for method, path, body in ROUTES:
        user = call(base, keys["user"], method, path, body)
        assert user.status_code == 403, path
        assert user.json()["error"]["type"] == "permission_error"
        anonymous = call(base, None, method, path, body)
        assert anonymous.status_code == 401, path
        assert anonymous.json()["error"]["code"] == "invalid_api_key"
    assert call(base, keys["admin1"], "GET", "/halts").json()["halts"] == []
    denied = [p for t, p in audit_events(data_dir) if t == "access_decision"]
    assert len(denied) == len(ROUTES)
    assert {p["operation"] for p in denied} >= {"admin.halt", "admin.policy.reload"}


def test_halt_and_two_person_resume(base: str, keys: dict[str, str], data_dir: Path) -> None:
    halted = call(base, keys["admin1"], "POST", "/halt", {"scope": "tenant:acme", "reason": "IR-7"})
    assert halted.status_code == 200
    assert halted.json()["scope"] == "tenant:acme"
    assert halted.json()["audited"] is True
    listing = call(base, keys["admin2"], "GET", "/halts").json()
    assert [(h["scope"], h["reason"]) for h in listing["halts"]] == [("tenant:acme", "IR-7")]
    first = call(base, keys["admin1"], "POST", "/resume", {"scope": "tenant:acme"})
    assert first.status_code == 202
    assert first.json()["outcome"] == "pending"
    again = call(base, keys["admin1"], "POST", "/resume", {"scope": "tenant:acme"})
    assert again.status_code == 409
    assert "two-person" in again.json()["error"]["message"]
    second = call(base, keys["admin2"], "POST", "/resume", {"scope": "tenant:acme"})
    assert second.status_code == 200
    assert second.json()["outcome"] == "resumed"
    assert call(base, keys["admin1"], "GET", "/halts").json()["halts"] == []
    not_halted = call(base, keys["admin1"], "POST", "/resume", {"scope": "tenant:acme"})
    assert not_halted.status_code == 409
    events = [(t, p.get("outcome")) for t, p in audit_events(data_dir) if t in ("halt", "resume")]
    assert events == [("halt", None), ("resume", "pending"), ("resume", "resumed")]


def test_bad_admin_requests(base: str, keys: dict[str, str]) -> None:
    bad_scope = call(base, keys["admin1"], "POST", "/halt", {"scope": "everything"})
    assert bad_scope.status_code == 400
    assert bad_scope.json()["error"]["param"] == "scope"
    missing = call(base, keys["admin1"], "POST", "/halt", {"reason": "x"})
    assert missing.status_code == 400
    not_json = httpx.post(
        base + ADMIN + "/halt",
        content=b"{nope",
        headers={"authorization": f"Bearer {keys['admin1']}"},
    )
    assert not_json.status_code == 400
    huge = call(base, keys["admin1"], "POST", "/halt", {"scope": "all", "reason": "x" * 20000})
    assert huge.status_code == 413
    assert call(base, keys["admin1"], "GET", "/halts").json()["halts"] == []


def test_policy_summary_and_reload(base: str, keys: dict[str, str], data_dir: Path) -> None:
    summary = call(base, keys["admin1"], "GET", "/policy").json()
    floor = load_builtin_floor()
    assert summary["sha256"] == floor.sha256
    assert {c["id"] for c in summary["categories"]} >= {
        "mass_domestic_surveillance",
        "autonomous_weapons",
        "high_stakes_automated_decisions",
    }
    reloaded = call(base, keys["admin1"], "POST", "/policy/reload")
    assert reloaded.status_code == 200
    assert reloaded.json()["new_sha256"] == floor.sha256
    assert reloaded.json()["changed"] is False
    changes = [p for t, p in audit_events(data_dir) if t == "policy_change"]
    assert changes[-1]["old_sha256"] == floor.sha256


def test_halt_state_survives_restart(data_dir: Path, keys: dict[str, str]) -> None:
    settings = Settings(data_dir=data_dir)
    with serve_in_thread(build_app(settings)) as url:
        assert call(url, keys["admin1"], "POST", "/halt", {"scope": "model:m"}).status_code == 200
    with serve_in_thread(build_app(settings)) as url:
        halts = call(url, keys["admin1"], "GET", "/halts").json()["halts"]
        assert [h["scope"] for h in halts] == ["model:m"]
