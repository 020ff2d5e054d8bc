"""``redline`` as users run it: CLI subprocesses and a real ``redline serve`` process."""

from __future__ import annotations

import time
from pathlib import Path

import openai
import pytest

from tests.conftest import MockUpstream
from tests.support.servers import redline_cli, redline_server, subprocess_env

pytestmark = pytest.mark.e2e


def write_config(path: Path, upstream_url: str) -> Path:
    path.write_text(
        f"""
[server]
max_body_bytes = 1048576

[upstreams.mock]
base_url = "{upstream_url}/v1"
api_key_env = "MOCK_UPSTREAM_KEY"
read_timeout_s = 5

[[routes]]
model = "team-model"
upstream = "mock"
upstream_model = "mock-ok"
"""
    )
    return path


def test_keys_serve_and_openai_client(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"), MOCK_UPSTREAM_KEY="sk-upstream")
    created = redline_cli("keys", "create", "--tenant", "ops", "--label", "ci", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("rl_")
    assert "not shown again" in created.stderr
    listed = redline_cli("keys", "list", env=env)
    assert "ops" in listed.stdout
    assert key.split("_")[2] not in listed.stdout  # the secret is never shown again
    config = write_config(tmp_path / "redline.toml", mock_upstream.url)
    with redline_server(env, config=config) as base:
        client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
        reply = client.chat.completions.create(
            model="team-model", messages=[{"role": "user", "content": "over the wire"}]
        )
        assert reply.choices[0].message.content == "mock: over the wire"
        # The upstream's secret came from the environment, as a bearer token.
        assert mock_upstream.recorder.headers[-1]["authorization"] == "Bearer sk-upstream"
        stream = client.chat.completions.create(
            model="redline-echo", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == (
            "[redline-echo] hi"
        )
        key_id = key.split("_")[1]
        revoked = redline_cli("keys", "revoke", key_id, env=env)
        assert revoked.returncode == 0, revoked.stderr
        time.sleep(2.2)  # the gateway caches key lookups for 2 s
        with pytest.raises(openai.AuthenticationError):
            client.models.list()
        client.close()
    again = redline_cli("keys", "revoke", key_id, env=env)
    assert again.returncode == 2
    assert "no active key" in again.stderr


def test_first_start_prints_a_bootstrap_key(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "fresh"))
    with redline_server(env) as base:
        listed = redline_cli("keys", "list", env=env)
        assert "default" in listed.stdout
        assert "bootstrap" in listed.stdout
        models = openai.OpenAI(base_url=base + "/v1", api_key="rl_x_y", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            models.models.list()
        models.close()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[server]\nmax_body_bytes = 'big'\n", "server.max_body_bytes: must be an integer"),
        ("[servr]\n", "unknown top-level key(s): servr"),
        (
            "[[routes]]\nmodel = 'a'\nupstream = 'nowhere'\n",
            "routes[0].upstream: no upstream named",
        ),
        ("[upstreams.x]\nbase_url = 'ftp://x'\n", "upstreams.x.base_url: must be an http(s) URL"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "d"))
    result = redline_cli("serve", "--config", str(config), "--port", "1", env=env)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_and_bad_arguments(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "d"))
    missing = redline_cli("serve", "--config", str(tmp_path / "nope.toml"), env=env)
    assert missing.returncode == 2
    assert "cannot read config file" in missing.stderr
    bad_clearance = redline_cli("keys", "create", "--tenant", "t", "--clearance", "Q", env=env)
    assert bad_clearance.returncode == 2
    assert "--clearance" in bad_clearance.stderr
    no_command = redline_cli(env=env)
    assert no_command.returncode == 2
