"""``redline halt`` / ``redline resume`` in-process against a real server and a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.bootstrap import build_app
from redline.cli.main import main
from redline.killswitch import HaltState
from redline.killswitch.stores import SqliteHaltStore
from redline.settings import Settings
from tests.integration.admin.conftest import create_key
from tests.support.servers import closed_port, serve_in_thread


def test_halt_and_resume_through_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    admin1 = create_key(data_dir, "ops", "admin")
    admin2 = create_key(data_dir, "ops", "admin")
    user = create_key(data_dir, "acme")
    with serve_in_thread(build_app(Settings(data_dir=data_dir))) as url:
        assert (
            main(
                [
                    "halt",
                    "--tenant",
                    "acme",
                    "--reason",
                    "IR-9",
                    "--url",
                    url,
                    "--admin-key",
                    admin1,
                ]
            )
            == 0
        )
        assert "halted tenant:acme: IR-9" in capsys.readouterr().out
        assert main(["resume", "--tenant", "acme", "--url", url, "--admin-key", user]) == 1
        assert "HTTP 403" in capsys.readouterr().err
        assert main(["resume", "--tenant", "acme", "--url", url, "--admin-key", admin1]) == 0
        assert "pending" in capsys.readouterr().out
        assert main(["resume", "--tenant", "acme", "--url", url, "--admin-key", admin1]) == 1
        assert "two-person" in capsys.readouterr().err
        assert main(["resume", "--tenant", "acme", "--url", url, "--admin-key", admin2]) == 0
        assert "resumed tenant:acme" in capsys.readouterr().out


def test_halt_offline_writes_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["halt", "--model", "gpt", "--force", "--reason", "down", "--data-dir", str(tmp_path)])
        == 0
    )
    assert "halted model:gpt: down" in capsys.readouterr().out
    store = SqliteHaltStore.in_data_dir(tmp_path)
    row = store.read_sync()
    store.close()
    assert [h.scope for h in HaltState.from_json(row.state_json).halts] == ["model:gpt"]
    assert len(row.backlog) == 1


def test_unreachable_gateway_and_missing_key(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert main(["halt", "--all", "--url", url, "--admin-key", "rl_a_b"]) == 3
    err = capsys.readouterr().err
    assert "cannot reach the gateway" in err
    assert "--data-dir" in err
    assert main(["resume", "--all", "--url", url]) == 2
    assert "admin key is required" in capsys.readouterr().err
