"""The kill switch as operators use it: ``redline serve`` under traffic, ``redline halt/resume``.

Needs the request path to consult the kill switch (``Gateway.handle`` calling
``HaltService.check``, streams wrapped in ``HaltService.guard``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import MockUpstream
from tests.support.servers import redline_cli, redline_server, subprocess_env

pytestmark = pytest.mark.e2e

CLIENTS = 4
CHAT = {"model": "redline-echo", "messages": [{"role": "user", "content": "status report"}]}


@dataclass
class Traffic:
    """Client threads sending chat requests; every answer is logged with its arrival time."""

    base: str
    key: str
    log: list[tuple[float, int, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        headers = {"authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=10) as client:
            while not self.stop.is_set():
                response = client.post("/v1/chat/completions", json=CHAT)
                code = ""
                if response.status_code != 200:
                    code = str(response.json()["error"].get("code"))
                with self.lock:
                    self.log.append((time.monotonic(), response.status_code, code))

    def since(self, moment: float) -> list[tuple[float, int, str]]:
        with self.lock:
            return [entry for entry in self.log if entry[0] >= moment]

    def first_halted_after(self, moment: float, timeout: float = 5.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            halted = [t for t, status, _ in self.since(moment) if status == 503]
            if halted:
                return halted[0]
            time.sleep(0.005)
        raise AssertionError(f"no 503 within {timeout} s; statuses: {self.statuses(moment)}")

    def statuses(self, moment: float) -> set[tuple[int, str]]:
        return {(status, code) for _, status, code in self.since(moment)}

    def answers_after(self, moment: float, count: int = 8) -> set[tuple[int, str]]:
        """The statuses of answers arriving after ``moment``, once ``count`` have arrived."""
        deadline = time.monotonic() + 10  # a loaded CI machine can be slow to answer
        while len(self.since(moment)) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.statuses(moment)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # warning: the server helper pipes its output unread; request logs would fill the pipe.
    return subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"), REDLINE_LOG_LEVEL="warning")


def key(env: dict[str, str], tenant: str, *roles: str) -> str:
    args = ["keys", "create", "--tenant", tenant]
    for role in roles:
        args += ["--role", role]
    created = redline_cli(*args, env=env)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


@pytest.fixture
def keys(env: dict[str, str]) -> dict[str, str]:
    return {
        "admin1": key(env, "ops", "admin"),
        "admin2": key(env, "ops", "admin"),
        "user": key(env, "acme"),
    }


@pytest.fixture
def traffic(env: dict[str, str], keys: dict[str, str]) -> Iterator[Traffic]:
    with redline_server(env) as base:
        load = Traffic(base=base, key=keys["user"])
        threads = [threading.Thread(target=load.run, daemon=True) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        try:
            yield load
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=15)


def admin(env: dict[str, str], base: str, admin_key: str, *args: str) -> tuple[int, str, float]:
    result = redline_cli(*args, "--url", base, "--admin-key", admin_key, env=env)
    return result.returncode, result.stdout + result.stderr, time.monotonic()


def test_halt_stops_traffic_within_1s_and_resume_needs_two_admins(
    env: dict[str, str], keys: dict[str, str], traffic: Traffic
) -> None:
    start = time.monotonic()
    assert traffic.answers_after(start) == {(200, "")}
    code, out, returned = admin(
        env, traffic.base, keys["admin1"], "halt", "--all", "--reason", "drill IR-7"
    )
    assert code == 0, out
    assert "halted all: drill IR-7" in out
    first_503 = traffic.first_halted_after(start)
    # Negative: the first 503 was served while the CLI process was still exiting.
    delay = first_503 - returned
    print(f"kill switch (API): first 503 at {delay * 1000:+.1f} ms from `redline halt` returning")
    assert delay < 1.0
    time.sleep(max(0.0, returned + 1.0 - time.monotonic()))
    assert traffic.answers_after(returned + 1.0) == {(503, "redline_halted")}

    code, out, _ = admin(env, traffic.base, keys["admin1"], "resume", "--all")
    assert code == 0, out
    assert "pending" in out
    code, out, _ = admin(env, traffic.base, keys["admin1"], "resume", "--all")
    assert code == 1
    assert "two-person" in out
    assert traffic.answers_after(time.monotonic()) == {(503, "redline_halted")}
    code, out, resumed = admin(env, traffic.base, keys["admin2"], "resume", "--all")
    assert code == 0, out
    assert "resumed all" in out
    assert traffic.answers_after(resumed) == {(200, "")}


def test_direct_store_halt_reaches_the_running_gateway(
    env: dict[str, str], keys: dict[str, str], traffic: Traffic, tmp_path: Path
) -> None:
    start = time.monotonic()
    result = redline_cli(
        "halt",
        "--tenant",
        "acme",
        "--reason",
        "api down",
        "--data-dir",
        str(tmp_path / "data"),
        env=env,
    )
    returned = time.monotonic()
    assert result.returncode == 0, result.stderr
    first_503 = traffic.first_halted_after(start)
    delay = first_503 - returned
    print(f"kill switch (store, poll): first 503 at {delay * 1000:+.1f} ms from the CLI returning")
    assert delay < 1.0
    halts = httpx.get(
        traffic.base + "/redline/v1/admin/halts",
        headers={"authorization": f"Bearer {keys['admin1']}"},
    ).json()
    assert [h["scope"] for h in halts["halts"]] == ["tenant:acme"]


def test_halt_survives_restart(env: dict[str, str], keys: dict[str, str]) -> None:
    headers = {"authorization": f"Bearer {keys['user']}"}
    with redline_server(env) as base:
        code, out, _ = admin(env, base, keys["admin1"], "halt", "--model", "redline-echo")
        assert code == 0, out
    with redline_server(env) as base:
        response = httpx.post(base + "/v1/chat/completions", json=CHAT, headers=headers)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "redline_halted"
        assert "redline-echo" in response.json()["error"]["message"]


def test_stream_in_flight_ends_with_error_event(
    env: dict[str, str], keys: dict[str, str], mock_upstream: MockUpstream, tmp_path: Path
) -> None:
    config = tmp_path / "redline.toml"
    config.write_text(
        f'[upstreams.mock]\nbase_url = "{mock_upstream.url}/v1"\n\n'
        '[[routes]]\nmodel = "endless"\nupstream = "mock"\nupstream_model = "mock-endless"\n'
    )
    headers = {"authorization": f"Bearer {keys['user']}"}
    body = {**CHAT, "model": "endless", "stream": True}
    with (
        redline_server(env, config=config) as base,
        httpx.stream(
            "POST", base + "/v1/chat/completions", json=body, headers=headers, timeout=10
        ) as response,
    ):
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("data: "))
        code, out, returned = admin(env, base, keys["admin1"], "halt", "--tenant", "acme")
        assert code == 0, out
        last = ""
        for line in lines:
            if line.startswith("data: "):
                last = line
                if "redline_halted" in line:
                    break
        ended = time.monotonic()
    assert "redline_halted" in last
    assert ended - returned < 1.0
