"""The policy a running gateway enforces: hot reload under load, and every route by which
someone might try to loosen the provider floor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from redline.audit import SqliteLogStore, decode_record
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


class Epochs:
    """Counts policy epochs: even = one policy stable in force, odd = a reload in flight.

    Clients note the epoch when a request starts and when its answer arrives; the
    reloading thread waits until every client finished a request inside the current stable
    epoch before the next reload, so reloads and traffic interleave without relying on time.
    """

    def __init__(self, clients: int) -> None:
        self.value = 0
        self.cond = threading.Condition()
        self.clients = clients
        self.inside: set[int] = set()  # clients that completed a request in this epoch

    def now(self) -> int:
        with self.cond:
            return self.value

    def served(self, client: int, start: int, end: int) -> None:
        with self.cond:
            if start == end == self.value and start % 2 == 0:
                self.inside.add(client)
                self.cond.notify_all()

    def advance(self) -> None:
        with self.cond:
            self.value += 1
            self.inside.clear()

    def wait_for_all_clients(self) -> None:
        with self.cond:
            # The timeout only turns a hang into a failure; it measures nothing.
            progressed = self.cond.wait_for(lambda: len(self.inside) == self.clients, timeout=120)
        assert progressed, "the clients stopped getting answers"


def audit_policies(data_dir: Path) -> dict[str, set[str]]:
    """request id -> the policy sha256 of every request/response decision recorded for it."""
    store = SqliteLogStore.in_data_dir(data_dir)
    try:
        size = store.open()
        records = [decode_record(e) for e in store.entries(0, size)]
    finally:
        store.close()
    policies: dict[str, set[str]] = {}
    for record in records:
        if record.event_type.value in {"request_decision", "response_decision"}:
            assert record.request_id is not None
            policies.setdefault(record.request_id, set()).add(str(record.payload["policy_sha256"]))
    return policies


def test_reloads_are_atomic_under_load(served: tuple[str, Settings], overlay: Path) -> None:
    """Every answer under load was produced under exactly one complete policy version.

    Correctness only: no errors, and per request one policy hash in the audit log, which is
    a version that was actually in force while the request ran (the version of its epoch when
    no reload overlapped it). Nothing here depends on how fast the machine is.
    """
    url, settings = served
    user, admin = keys(settings.data_dir)
    clients, reloads = 4, 6
    epochs = Epochs(clients)
    in_force = [policy_sha(url, admin)]  # in_force[k]: the policy of stable epoch 2k
    answers: list[tuple[int, int, str]] = []  # (start epoch, end epoch, request id)
    failures: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def client(number: int) -> None:
        with httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {user}"}, timeout=60
        ) as http:
            while not done.is_set():
                start = epochs.now()
                try:
                    response = http.post(
                        "/v1/chat/completions",
                        json={
                            "model": "mock-ok",
                            "messages": [{"role": "user", "content": LAWFUL}],
                        },
                    )
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"transport: {exc!r}")
                    continue
                end = epochs.now()
                with lock:
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                    answers.append((start, end, response.headers["x-request-id"]))
                epochs.served(number, start, end)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        epochs.wait_for_all_clients()
        for i in range(reloads):
            overlay.write_bytes(TIGHTER if i % 2 else TIGHTER.replace(b"0.6", b"0.65"))
            epochs.advance()  # odd: a reload is in flight
            result = reload(url, admin)
            assert result.status_code == 200, result.text
            in_force.append(result.json()["new_sha256"])
            epochs.advance()  # even: the new policy is in force
            epochs.wait_for_all_clients()
    finally:
        done.set()
        for thread in threads:
            thread.join()

    assert failures == []
    assert len(set(in_force)) == 2  # the two overlays alternated, each one taking effect
    policies = audit_policies(settings.data_dir)
    assert len({rid for _, _, rid in answers}) == len(answers)
    for start, end, rid in answers:
        assert rid in policies, rid  # every answered request was audited
        assert len(policies[rid]) == 1, (rid, policies[rid])  # one version per request
        (used,) = policies[rid]
        # Versions in force at some moment between the request's start and its answer.
        possible = set(in_force[start // 2 : (end + 1) // 2 + 1])
        assert used in possible, (start, end, used, possible)
        if start == end and start % 2 == 0:
            assert used == in_force[start // 2]  # no reload overlapped: that epoch's policy
    stable = {s for s, e, _ in answers if s == e and s % 2 == 0}
    assert stable == set(range(0, 2 * reloads + 1, 2))  # traffic inside every stable epoch


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
