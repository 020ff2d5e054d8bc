"""``redline audit`` as the README documents it, on a machine where ``redline serve`` ran once.

The audit commands default to the data directory like ``serve`` and ``keys``: ``audit.db``
for the live-log commands, ``audit.vkey`` for ``verify`` and ``audit.skey`` for
``checkpoint``. A relative ``--key audit.vkey`` that is not in the working directory is
found in the data directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.servers import redline_cli, redline_serve_process, subprocess_env

pytestmark = pytest.mark.e2e


def _served_once(data: Path) -> str:
    """Run ``redline serve`` on a fresh data directory, make one request; its request id."""
    env = subprocess_env(REDLINE_DATA_DIR=str(data))
    with redline_serve_process(env) as served:
        found = re.search(r"^    (rl_\S+)$", served.startup_output, re.MULTILINE)
        assert found, served.startup_output
        reply = httpx.post(
            served.url + "/v1/chat/completions",
            json={"model": "redline-echo", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {found.group(1)}"},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        return reply.headers["x-request-id"]


def test_documented_audit_commands_default_to_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    request_id = _served_once(data)
    env = subprocess_env(REDLINE_DATA_DIR=str(data))
    work = tmp_path / "work"  # an auditor's working directory: no audit.vkey in it
    work.mkdir()

    exported = redline_cli("audit", "export", "export", env=env, cwd=work)
    assert exported.returncode == 0, exported.stderr
    assert re.fullmatch(r"exported \d+ entries to export\n", exported.stdout)

    verified = redline_cli("audit", "verify", "export", "--key", "audit.vkey", env=env, cwd=work)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("VALID: ")

    default_key = redline_cli("audit", "verify", "export", env=env, cwd=work)
    assert default_key.returncode == 0, default_key.stderr
    assert default_key.stdout.startswith("VALID: ")

    proved = redline_cli("audit", "prove", "--request-id", request_id, env=env, cwd=work)
    assert proved.returncode == 0, proved.stderr
    assert proved.stdout.startswith("c2sp.org/tlog-proof@v1\n")

    checkpoint = redline_cli("audit", "checkpoint", env=env, cwd=work)  # signs with audit.skey
    assert checkpoint.returncode == 0, checkpoint.stderr
    assert checkpoint.stdout.startswith("redline.local/audit\n")


def test_audit_commands_name_the_missing_data_directory_files(tmp_path: Path) -> None:
    env = subprocess_env(REDLINE_DATA_DIR=str(tmp_path / "never-served"))
    export = redline_cli("audit", "export", str(tmp_path / "out"), env=env)
    assert export.returncode == 2
    assert f"no audit log at {tmp_path / 'never-served' / 'audit.db'}" in export.stderr
    assert "redline serve" in export.stderr
    (tmp_path / "out").mkdir()
    verify = redline_cli("audit", "verify", str(tmp_path / "out"), env=env)
    assert verify.returncode == 2
    assert f"no key given and no {tmp_path / 'never-served' / 'audit.vkey'}" in verify.stderr
    missing = redline_cli("audit", "verify", str(tmp_path / "out"), "--key", "x.vkey", env=env)
    assert missing.returncode == 2
    assert "key file x.vkey does not exist" in missing.stderr
    for result in (export, verify, missing):
        assert "Traceback" not in result.stderr
