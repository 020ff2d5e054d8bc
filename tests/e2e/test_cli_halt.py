"""``redline halt`` against a real ``redline serve``: refused scopes, unknown models, --list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from redline.cli.main import main
from tests.support.servers import redline_serve_process, subprocess_env

pytestmark = pytest.mark.e2e


@dataclass
class Gateway:
    url: str
    data: Path
    admins: tuple[str, str]


def _key(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["keys", "create", "--data-dir", str(data), *args]) == 0
    return capsys.readouterr().out.strip()


@pytest.fixture
def gateway(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Gateway]:
    data = tmp_path / "data"
    admins = (
        _key(data, capsys, "--tenant", "ops", "--role", "admin"),
        _key(data, capsys, "--tenant", "ops", "--role", "admin"),
    )
    config = tmp_path / "redline.toml"
    config.write_text(
        '[upstreams.local]\nbase_url = "http://127.0.0.1:9/v1"\n\n'
        '[[routes]]\nmodel = "analyst"\nupstream = "local"\n'
    )
    env = subprocess_env(REDLINE_DATA_DIR=str(data))
    with redline_serve_process(env, config=config) as served:
        yield Gateway(url=served.url, data=data, admins=admins)


def halt(
    gateway: Gateway, capsys: pytest.CaptureFixture[str], *argv: str, admin: int = 0
) -> tuple[int, str, str]:
    code = main(["halt", *argv, "--url", gateway.url, "--admin-key", gateway.admins[admin]])
    out, err = capsys.readouterr()
    return code, out, err


def test_unknown_model_and_malformed_scopes_are_refused(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = halt(gateway, capsys, "--model", "gpt-9", "--reason", "drill")
    assert code == 2
    assert out == ""
    assert "unknown model 'gpt-9': the gateway routes analyst, redline-echo" in err
    assert "--force" in err
    for argv, expected in (
        (("--tenant", "*"), "bad tenant '*'"),
        (("--tenant", "acme corp"), "bad tenant 'acme corp'"),
        (("--tenant", ""), "bad tenant ''"),
        (("--model", "gpt-*"), "bad model 'gpt-*'"),
        (("--model", " analyst"), "bad model ' analyst'"),
    ):
        code, _, err = halt(gateway, capsys, *argv)
        assert code == 2, argv
        assert expected in err
        assert "valid scopes: --all, --tenant T, --model M" in err
    code, out, _ = halt(gateway, capsys, "--list")
    assert (code, out) == (0, "no halts in force\n")  # nothing above reached the gateway


def test_halts_in_force_are_listed(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    assert halt(gateway, capsys, "--model", "analyst", "--reason", "drill IR-7")[0] == 0
    code, out, err = halt(gateway, capsys, "--model", "gpt-9", "--force")
    assert code == 0, err
    assert "halted model:gpt-9" in out
    assert halt(gateway, capsys, "--tenant", "acme.eu")[0] == 0
    code = main(
        ["resume", "--tenant", "acme.eu", "--url", gateway.url, "--admin-key", gateway.admins[1]]
    )
    assert code == 0
    capsys.readouterr()

    code, out, _ = halt(gateway, capsys, "--list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SCOPE", "REASON", "BY", "AT"]
    scopes = [line.split()[0] for line in lines[1:4]]
    assert scopes == ["model:analyst", "model:gpt-9", "tenant:acme.eu"]
    assert "drill IR-7" in lines[1]
    assert "pending resumes" in out
    assert out.splitlines()[-1].startswith("tenant:acme.eu")

    # The same list read from the store directly (gateway unreachable).
    assert main(["halt", "--list", "--data-dir", str(gateway.data)]) == 0
    offline = capsys.readouterr().out
    assert offline.splitlines()[1:4] == lines[1:4]


def test_offline_halt_checks_models_against_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    assert main(["halt", "--model", "analyst", "--data-dir", data]) == 2
    assert "unknown model 'analyst': the gateway routes redline-echo" in capsys.readouterr().err
    config = tmp_path / "redline.toml"
    config.write_text(
        '[upstreams.local]\nbase_url = "http://127.0.0.1:9/v1"\n\n'
        '[[routes]]\nmodel = "analyst"\nupstream = "local"\n'
    )
    assert main(["halt", "--model", "analyst", "--data-dir", data, "--config", str(config)]) == 0
    assert "halted model:analyst" in capsys.readouterr().out
