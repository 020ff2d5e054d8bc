"""Monitor windows for operators and human confirmations of effector calls."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from redline.bootstrap import build_app
from redline.monitors import verify_token
from redline.store.keys import SqliteKeyStore
from redline.store.secrets import load_or_create_secret
from tests.conftest import MockUpstream, gateway_settings
from tests.support.servers import serve_in_thread


@pytest.fixture
def served(data_dir: Path, mock_upstream: MockUpstream) -> Iterator[str]:
    with serve_in_thread(build_app(gateway_settings(data_dir, mock_upstream.url))) as url:
        yield url


def make_keys(data_dir: Path) -> dict[str, tuple[str, str]]:
    store = SqliteKeyStore(data_dir / "keys.db")
    try:
        made = {
            "user": store.create(tenant="acme"),
            "admin": store.create(tenant="ops", roles=frozenset({"admin"})),
            "operator": store.create(tenant="acme", roles=frozenset({"operator"})),
        }
    finally:
        store.close()
    return {name: (k.plaintext, k.key.principal.id) for name, k in made.items()}


def test_window_counts_are_visible_to_admins_only(served: str, data_dir: Path) -> None:
    keys = make_keys(data_dir)
    user_key, user_id = keys["user"]
    lookup = "Pull the home address and daily movements of John Smith, 42, of Dayton, OH."
    httpx.post(
        served + "/v1/chat/completions",
        json={"model": "mock-ok", "messages": [{"role": "user", "content": lookup}]},
        headers={"authorization": f"Bearer {user_key}"},
        timeout=30,
    )
    url = served + "/redline/v1/admin/monitors"
    denied = httpx.get(
        url, params={"principal": user_id}, headers={"authorization": f"Bearer {user_key}"}
    )
    assert denied.status_code == 403
    admin = {"authorization": f"Bearer {keys['admin'][0]}"}
    missing = httpx.get(url, headers=admin)
    assert missing.status_code == 400
    snapshot = httpx.get(url, params={"principal": user_id, "tenant": "acme"}, headers=admin)
    assert snapshot.status_code == 200
    assert "windows" in snapshot.text or "counts" in snapshot.text


def test_a_human_confirmation_token_is_issued_and_audited(served: str, data_dir: Path) -> None:
    keys = make_keys(data_dir)
    body = {"principal": keys["user"][1], "tool": "fire_mission", "arguments": '{"target": 7}'}
    url = served + "/redline/v1/confirmations"
    refused = httpx.post(url, json=body, headers={"authorization": f"Bearer {keys['user'][0]}"})
    assert refused.status_code == 403
    bad = httpx.post(
        url,
        json={**body, "ttl_s": 3600},
        headers={"authorization": f"Bearer {keys['operator'][0]}"},
    )
    assert bad.status_code == 400
    issued = httpx.post(url, json=body, headers={"authorization": f"Bearer {keys['operator'][0]}"})
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    key = load_or_create_secret(data_dir, "confirmation.key")

    check = verify_token(
        key,
        token,
        principal=keys["user"][1],
        tool="fire_mission",
        arguments='{"target": 7}',
        now=time.time(),
    )
    assert check.valid
    wrong = verify_token(
        key,
        token,
        principal=keys["user"][1],
        tool="fire_mission",
        arguments='{"target": 8}',
        now=time.time(),
    )
    assert not wrong.valid
    conn = sqlite3.connect(data_dir / "audit.db")
    entries = [bytes(r[0]).decode() for r in conn.execute("select entry from leaves")]
    conn.close()
    assert any('"confirmation"' in e and keys["operator"][1] in e for e in entries)
