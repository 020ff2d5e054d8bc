"""The policy a running gateway enforces: hot reload under load, and every route by which
someone might try to loosen the provider floor (issue 4 "Done when")."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from redline.bootstrap import build_app
from redline.errors import PolicyError
from redline.policy import generate_keypair, sign
from redline.policy.load import builtin_floor_bytes
from redline.settings import Settings
from redline.store.keys import SqliteKeyStore
from tests.conftest import MockUpstream, gateway_settings
from tests.support.servers import serve_in_thread

LAWFUL = "Summarise the logistics status report for the brigade's fuel convoy."
TIGHTER = b"""schema_version = 1
[[categories]]
id = "autonomous_weapons"
review_threshold = 0.3
block_threshold = 0.6
"""
LOOSER = b"""schema_version = 1
[[categories]]
id = "autonomous_weapons"
review_threshold = 0.9
block_threshold = 0.99
"""


def keys(data_dir: Path) -> tuple[str, str]:
    store = SqliteKeyStore(data_dir / "keys.db")
    try:
        user = store.create(tenant="acme").plaintext
        admin = store.create(tenant="ops", roles=frozenset({"admin"})).plaintext
    finally:
        store.close()
    return user, admin


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    path = tmp_path / "overlay.toml"
    path.write_bytes(TIGHTER)
    return path


@pytest.fixture
def served(
    data_dir: Path, mock_upstream: MockUpstream, overlay: Path
) -> Iterator[tuple[str, Settings]]:
    settings = replace(gateway_settings(data_dir, mock_upstream.url), policy_overlay=overlay)
    with serve_in_thread(build_app(settings)) as url:
        yield url, settings


def reload(url: str, admin: str) -> httpx.Response:
    return httpx.post(
        url + "/redline/v1/admin/policy/reload",
        headers={"authorization": f"Bearer {admin}"},
        timeout=30,
    )


def policy_sha(url: str, admin: str) -> str:
    doc = httpx.get(url + "/redline/v1/admin/policy", headers={"authorization": f"Bearer {admin}"})
    return str(doc.json()["sha256"])


def test_reloads_are_atomic_under_load(served: tuple[str, Settings], overlay: Path) -> None:
    url, settings = served
    user, admin = keys(settings.data_dir)
    failures: list[str] = []
    done = threading.Event()
    counts = [0]

    def client() -> None:
        with httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {user}"}, timeout=30
        ) as http:
            while not done.is_set():
                response = http.post(
                    "/v1/chat/completions",
                    json={"model": "mock-ok", "messages": [{"role": "user", "content": LAWFUL}]},
                )
                counts[0] += 1
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    shas = set()
    try:
        started, i = time.monotonic(), 0
        while i < 6 or time.monotonic() - started < 2.0:
            overlay.write_bytes(TIGHTER if i % 2 else TIGHTER.replace(b"0.6", b"0.65"))
            result = reload(url, admin)
            assert result.status_code == 200, result.text
            shas.add(result.json()["new_sha256"])
            i += 1
            time.sleep(0.05)
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert counts[0] > 20
    assert len(shas) == 2  # the two overlays alternated and each was in force


def test_overlay_that_loosens_the_floor_is_rejected_and_the_old_policy_stays(
    served: tuple[str, Settings], overlay: Path
) -> None:
    url, settings = served
    _, admin = keys(settings.data_dir)
    before = policy_sha(url, admin)
    overlay.write_bytes(LOOSER)
    result = reload(url, admin)
    assert result.status_code == 422
    assert "autonomous_weapons" in result.text
    assert policy_sha(url, admin) == before


def test_environment_cannot_change_the_policy(tmp_path: Path) -> None:
    env = {"REDLINE_DATA_DIR": str(tmp_path), "REDLINE_POLICY": "off", "REDLINE_SAFETY": "0"}
    settings = Settings.load(env)
    assert settings.policy_floor is None  # the shipped floor
    assert settings.policy_overlay is None


def test_edited_floor_is_refused_on_reload(
    data_dir: Path, mock_upstream: MockUpstream, tmp_path: Path
) -> None:
    private, public = generate_keypair()
    floor = tmp_path / "floor.toml"
    floor.write_bytes(builtin_floor_bytes())
    (tmp_path / "floor.toml.sig").write_bytes(sign(floor.read_bytes(), private))
    settings = replace(gateway_settings(data_dir, mock_upstream.url), policy_floor=floor)
    with serve_in_thread(build_app(settings, trusted_floor_keys=(public,))) as url:
        _, admin = keys(data_dir)
        before = policy_sha(url, admin)
        # Someone edits the floor on disk to raise a threshold: the signature no longer matches.
        floor.write_bytes(
            builtin_floor_bytes().replace(b"block_threshold = 0.8", b"block_threshold = 0.99")
        )
        result = reload(url, admin)
        assert result.status_code == 422
        assert policy_sha(url, admin) == before


async def test_gateway_does_not_start_on_an_edited_floor(
    data_dir: Path, mock_upstream: MockUpstream, tmp_path: Path
) -> None:
    private, public = generate_keypair()
    floor = tmp_path / "floor.toml"
    signed = builtin_floor_bytes()
    (tmp_path / "floor.toml.sig").write_bytes(sign(signed, private))
    floor.write_bytes(signed.replace(b"block_threshold = 0.8", b"block_threshold = 0.99"))
    settings = replace(gateway_settings(data_dir, mock_upstream.url), policy_floor=floor)
    app = build_app(settings, trusted_floor_keys=(public,))
    with pytest.raises(PolicyError, match="signature"):
        async with app.router.lifespan_context(app):
            pass
