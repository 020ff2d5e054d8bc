"""The fleet's command-line tools on a real fleet: ``redline doctor`` says what is wrong
(non-zero exit when something is); the emergency halt writes the fleet's halt state."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.support.fleet import running_fleet
from tests.support.servers import redline_cli, subprocess_env

pytestmark = pytest.mark.e2e


def test_doctor_reports_a_healthy_fleet_and_what_is_wrong(tmp_path: Path) -> None:
    with running_fleet(tmp_path) as fleet:
        replica = fleet.start("r1")
        healthy = redline_cli("doctor", env=fleet.env(fleet.data_dir("r1")))
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert "ok    database schema: version 1" in healthy.stdout
        assert "ok    audit sequencer: held by" in healthy.stdout
        assert f":{replica.pid}" in healthy.stdout

        bare = tmp_path / "bare"
        bare.mkdir(mode=0o700)
        missing = redline_cli("doctor", env=fleet.env(bare))
        assert missing.returncode == 1
        assert "FAIL  key files: the fleet's audit signing key (audit.skey) is missing" in (
            missing.stdout
        )

        overlay = tmp_path / "overlay.toml"
        overlay.write_text('schema_version = 1\n[[routes]]\nmodel = "redline-echo"\n')
        config = tmp_path / "redline.toml"
        config.write_text(f'[policy]\noverlay = "{overlay}"\n')
        differs = redline_cli(
            "doctor", "--config", str(config), env=fleet.env(fleet.data_dir("r1"))
        )
        assert differs.returncode == 1
        assert "differs from this configuration's policy" in differs.stdout

    half = redline_cli(
        "doctor",
        env=subprocess_env(
            REDLINE_DATA_DIR=str(tmp_path / "x"), REDLINE_DATABASE_URL="postgresql://h/db"
        ),
    )
    assert half.returncode == 1
    assert "REDLINE_REDIS_URL is not" in half.stdout


def test_emergency_halt_through_the_store_reaches_a_fleet_replica(tmp_path: Path) -> None:
    """``redline halt --data-dir`` with ``REDLINE_DATABASE_URL`` writes the fleet's halt state
    (not a ``halts.db`` no replica reads), and the replicas apply it."""
    with running_fleet(tmp_path) as fleet:
        user = fleet.key("acme")
        replica = fleet.start("r1")
        env = fleet.env(fleet.data_dir("r1"))
        halted = redline_cli(
            "halt", "--all", "--reason", "store drill", "--data-dir", str(tmp_path / "r1"), env=env
        )
        assert halted.returncode == 0, halted.stderr
        assert "written to the fleet database" in halted.stdout
        assert not (tmp_path / "r1" / "halts.db").exists()
        listed = redline_cli("halt", "--list", "--data-dir", str(tmp_path / "r1"), env=env)
        assert "store drill" in listed.stdout
        chat = {"model": "redline-echo", "messages": [{"role": "user", "content": "status"}]}
        deadline = time.monotonic() + 30
        while True:
            answer = httpx.post(
                replica.url + "/v1/chat/completions",
                json=chat,
                headers={"authorization": f"Bearer {user}"},
                timeout=30,
            )
            if answer.status_code == 503:
                break
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)
        assert answer.json()["error"]["code"] == "redline_halted"
        doctor = redline_cli("doctor", env=env)
        assert "halts: in force: all (store drill)" in doctor.stdout


def test_workers_are_replicas_of_the_fleet_and_a_killed_one_is_replaced(tmp_path: Path) -> None:
    from redline.fleet.identity import list_replicas

    embedded = redline_cli(
        "serve",
        "--workers",
        "2",
        "--port",
        "0",
        env=subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "e")),
    )
    assert embedded.returncode == 2
    assert "--workers N runs N replicas of a fleet" in embedded.stderr

    with running_fleet(tmp_path) as fleet:
        user = fleet.key("acme")
        supervisor = fleet.start("w", "--workers", "2")
        assert "2 worker processes" in supervisor.log.read_text()

        def live() -> set[int]:
            return {r.pid for r in list_replicas(fleet.database_url) if r.live}

        first = live()
        assert len(first) == 2
        assert supervisor.pid not in first
        chat = {"model": "redline-echo", "messages": [{"role": "user", "content": "status"}]}
        auth = {"authorization": f"Bearer {user}"}
        for _ in range(6):
            answer = httpx.post(supervisor.url + "/v1/chat/completions", json=chat, headers=auth)
            assert answer.status_code == 200, answer.text

        leader = fleet.sequencer_pid()
        assert leader in first
        os.kill(leader, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            now_live = {
                r.pid for r in list_replicas(fleet.database_url) if r.live and r.pid != leader
            }
            holder = fleet.sequencer_pid()
            if len(now_live) == 2 and holder in now_live:
                break
            assert time.monotonic() < deadline, (now_live, holder)
            time.sleep(0.2)
        assert "starting another" in supervisor.log.read_text()
        answer = httpx.post(supervisor.url + "/v1/chat/completions", json=chat, headers=auth)
        assert answer.status_code == 200, answer.text

        supervisor.process.terminate()
        assert supervisor.process.wait(timeout=60) == 0
        fleet.replicas.clear()
        assert {r.pid for r in list_replicas(fleet.database_url) if r.live} <= {leader}
