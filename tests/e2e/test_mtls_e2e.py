"""``redline serve`` with ``[tls]`` as users run it: a subprocess requiring client certificates."""

from __future__ import annotations

import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.pki import Authority, name
from tests.support.servers import subprocess_env, wait_serving

pytestmark = pytest.mark.e2e


def test_redline_serve_requires_and_maps_client_certificates(tmp_path: Path) -> None:
    ca = Authority(tmp_path, "client")
    server = ca.issue("server", name("localhost"), server=True)
    alice = ca.issue("alice", name("alice"))
    config = tmp_path / "redline.toml"
    config.write_text(
        f'[tls]\ncertfile = "{server.cert}"\nkeyfile = "{server.key}"\n'
        f'client_ca = "{ca.cert_path}"\ncrl = "{ca.crl([])}"\n\n'
        '[[tls.identities]]\nsubject = "CN=alice,O=Agency,C=US"\ntenant = "intel"\n'
    )
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "data"))
    args = [sys.executable, "-m", "redline", "serve", "--port", "0", "--config", str(config)]
    trusted = ssl.create_default_context(cafile=ca.cert_path)
    trusted.load_cert_chain(alice.cert, alice.key)
    anonymous = ssl.create_default_context(cafile=ca.cert_path)
    anonymous.maximum_version = ssl.TLSVersion.TLSv1_2
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        base, _ = wait_serving(proc, log, timeout=60)
        with httpx.Client(verify=trusted, timeout=5) as client:
            _wait_healthy(client, base, proc)
            models = client.get(base + "/v1/models")
            assert models.status_code == 200, models.text
            chat = client.post(
                base + "/v1/chat/completions",
                json={"model": "redline-echo", "messages": [{"role": "user", "content": "hi"}]},
            )
            assert chat.status_code == 200, chat.text
            assert chat.json()["choices"][0]["message"]["content"] == "[redline-echo] hi"
        with (
            httpx.Client(verify=anonymous, timeout=5) as client,
            pytest.raises(httpx.ConnectError),
        ):
            client.get(base + "/healthz")
    finally:
        proc.send_signal(signal.SIGINT)
        returncode = proc.wait(timeout=15)
    output = log.read_text()
    assert re.search(r"serving on https://127\.0\.0\.1:\d+ with client certificates", output)
    assert returncode == 0, output


def _wait_healthy(client: httpx.Client, base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "redline serve exited early"
        try:
            if client.get(base + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "redline serve did not become healthy"
        time.sleep(0.1)
