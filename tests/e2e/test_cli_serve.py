"""``redline`` as users run it: CLI subprocesses and a real ``redline serve`` process."""

from __future__ import annotations

import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

import redline
from tests.conftest import MockUpstream
from tests.support.servers import (
    redline_cli,
    redline_serve_process,
    redline_server,
    subprocess_env,
    wait_serving,
)

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
        _wait_until_refused(client)  # the gateway caches key lookups for up to 2 s
        client.close()
    again = redline_cli("keys", "revoke", key_id, env=env)
    assert again.returncode == 2
    assert "no active key" in again.stderr


def _wait_until_refused(client: openai.OpenAI) -> None:
    for _ in range(100):
        try:
            client.models.list()
        except openai.AuthenticationError:
            return
        time.sleep(0.1)
    pytest.fail("a revoked key was still accepted after 10 s")


def test_first_start_prints_a_bootstrap_key(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "fresh"))
    with redline_serve_process(env) as served:
        key = _bootstrap_key(served.startup_output)
        listed = redline_cli("keys", "list", env=env)
        assert "default" in listed.stdout
        assert "bootstrap" in listed.stdout
        models = openai.OpenAI(base_url=served.url + "/v1", api_key="rl_x_y", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            models.models.list()
        models.close()
        client = openai.OpenAI(base_url=served.url + "/v1", api_key=key, max_retries=0)
        assert "redline-echo" in [m.id for m in client.models.list()]
        client.close()
    with redline_serve_process(env) as served:  # a second start prints no key
        assert "rl_" not in served.startup_output


def _bootstrap_key(output: str) -> str:
    found = re.search(r"^    (rl_\S+)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def _fails_to_start(env: dict[str, str], config: Path) -> str:
    result = redline_cli("serve", "--config", str(config), "--port", "0", env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "rl_" not in result.stderr
    assert "serving on" not in result.stderr
    return result.stderr


def test_failed_first_start_creates_no_key_and_the_next_start_prints_it(tmp_path: Path) -> None:
    """A start that fails names what is wrong, without a traceback and without issuing the
    bootstrap key; the first start that succeeds prints the key."""
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"))
    bad_route = tmp_path / "route.toml"
    bad_route.write_text(
        '[upstreams.a]\nbase_url = "http://127.0.0.1:9/v1"\n\n'
        '[[routes]]\nmodel = "analyst"\nupstream = "a"\naccreditation = "IL9"\n'
    )
    err = _fails_to_start(env, bad_route)
    assert "'analyst'" in err
    assert "unknown route accreditation 'IL9'" in err
    loosening = tmp_path / "overlay.toml"
    loosening.write_text(
        'schema_version = 1\n[[categories]]\nid = "autonomous_weapons"\n'
        "review_threshold = 0.9\nblock_threshold = 0.99\n"
    )
    bad_policy = tmp_path / "policy.toml"
    bad_policy.write_text(f'[policy]\noverlay = "{loosening}"\n')
    err = _fails_to_start(env, bad_policy)  # fails inside the application's start-up
    assert "the gateway did not start" in err
    assert "overlay.toml: categories[0].review_threshold: cannot raise" in err
    assert "no API key was created" in err
    listed = redline_cli("keys", "list", env=env)
    assert "rl_" not in listed.stdout
    assert "bootstrap" not in listed.stdout
    with redline_serve_process(env) as served:
        key = _bootstrap_key(served.startup_output)
        client = openai.OpenAI(base_url=served.url + "/v1", api_key=key, max_retries=0)
        reply = client.chat.completions.create(
            model="redline-echo", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content == "[redline-echo] hi"
        client.close()


def test_port_zero_serves_on_the_printed_port(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"))
    with redline_serve_process(env) as served:
        port = int(served.url.rsplit(":", 1)[1])
        assert port != 0
        assert served.url == f"http://127.0.0.1:{port}"
        assert httpx.get(served.url + "/healthz").json() == {"status": "ok"}


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"))
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = redline_cli("serve", "--port", port, env=env)
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "rl_" not in result.stderr


def test_data_directory_is_private(tmp_path: Path) -> None:
    """The data directory is 0700 and every SQLite file (and -wal, -shm) 0600, even with a
    umask that would allow everyone everything."""
    data = tmp_path / "data"
    env = subprocess_env(REDLINE_DATA_DIR=str(data))
    args = [sys.executable, "-m", "redline", "serve", "--port", "0"]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, umask=0
        )
    try:
        url, output = wait_serving(proc, log, timeout=60)
        key = _bootstrap_key(output)
        reply = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "redline-echo", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    databases = {n: m for n, m in modes.items() if ".db" in n}
    for name in ("keys.db", "audit.db", "reviews.db", "halts.db"):
        assert name in databases
        assert f"{name}-wal" in databases  # WAL mode: present while the gateway runs
    assert databases == dict.fromkeys(databases, 0o600), databases


def test_version() -> None:
    result = redline_cli("--version", env=subprocess_env())
    assert result.returncode == 0
    assert result.stdout.strip() == f"redline {redline.__version__}"


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
        (
            "[upstreams.x]\nbase_url = 'http://x'\ntimeouts = 5\n",
            "upstreams.x: unknown key(s): timeouts (valid keys: api_key_env, api_version, "
            "base_url, connect_timeout_s, kind, max_connections, read_timeout_s)",
        ),
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


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "redline.toml"
    config.write_text("[upstreams.x]\nbase_url = 'http://x'\ntimeouts = 5\n")
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "d"), REDLINE_CONFIG=str(config))
    result = redline_cli("serve", "--port", "0", env=env)
    assert result.returncode == 2
    assert "upstreams.x: unknown key(s): timeouts" in result.stderr


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
