"""kill -9 of a writer under load, then restart: every acknowledged append is in the log."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from redline.audit import AuditLog, NoteSigner, SqliteLogStore, export_tiles, generate_signer
from redline.audit.merkle import leaf_hash

pytestmark = pytest.mark.e2e
SCRIPT = Path(__file__).with_name("writer_script.py")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline.cli.main", "audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _reopen(data: Path, signer: NoteSigner, acked: dict[int, str]) -> int:
    log = await AuditLog.open(SqliteLogStore.in_data_dir(data), signer)
    for index, leaf in acked.items():
        assert leaf_hash(await log.entry(index)).hex() == leaf
    size = log.size
    after = await log.append("resume", {"after": "crash"})
    assert after.index == size
    await log.checkpoint()
    await log.close()
    return size + 1


def test_kill9_under_load_then_restart(tmp_path: Path) -> None:
    signer = generate_signer("audit.test/crash")
    skey, vkey = tmp_path / "k.skey", tmp_path / "k.vkey"
    skey.write_text(signer.encode())
    vkey.write_text(signer.verifier.encode())
    data = tmp_path / "data"
    acked: dict[int, str] = {}
    with subprocess.Popen(
        [sys.executable, str(SCRIPT), str(data), signer.encode()], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            index, leaf = line.split()
            acked[int(index)] = leaf
            if len(acked) >= 5000:
                break
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()  # acknowledgements already written before the kill
        proc.wait(timeout=30)
    for line in rest.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[1]) == 64:
            acked[int(parts[0])] = parts[1]
    assert len(acked) >= 5000
    size = asyncio.run(_reopen(data, signer, acked))
    assert size > max(acked)
    export = tmp_path / "export"
    store = SqliteLogStore.in_data_dir(data)
    store.open()
    export_tiles(store, export)
    store.close()
    result = _cli("verify", str(export), "--key", str(vkey), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'"size": {size}' in result.stdout


def test_cli_round_trip_in_subprocesses(tmp_path: Path) -> None:
    skey, vkey = tmp_path / "k.skey", tmp_path / "k.vkey"
    assert (
        _cli("keygen", "audit.test/cli", "--skey", str(skey), "--vkey", str(vkey)).returncode == 0
    )
    signer = NoteSigner.parse(skey.read_text())

    async def fill() -> None:
        log = await AuditLog.open(SqliteLogStore.in_data_dir(tmp_path / "d"), signer)
        await asyncio.gather(
            *(log.append("policy_change", {"i": i}, request_id=f"p{i}") for i in range(50))
        )
        await log.checkpoint()
        await log.close()

    asyncio.run(fill())
    prove = _cli("prove", "--request-id", "p3", "--data-dir", str(tmp_path / "d"))
    assert prove.returncode == 0
    assert prove.stdout.startswith("c2sp.org/tlog-proof@v1\n")
    (tmp_path / "p3.tlog-proof").write_text(prove.stdout)
    assert _cli("export", str(tmp_path / "x"), "--data-dir", str(tmp_path / "d")).returncode == 0
    ok = _cli(
        "verify",
        str(tmp_path / "x"),
        "--key",
        str(vkey),
        "--receipt",
        str(tmp_path / "p3.tlog-proof"),
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    entry = next(p for p in (tmp_path / "x" / "tile" / "entries").rglob("*") if p.is_file())
    blob = bytearray(entry.read_bytes())
    blob[10] ^= 1
    entry.write_bytes(bytes(blob))
    assert _cli("verify", str(tmp_path / "x"), "--key", str(vkey)).returncode == 1
    code = (
        "import argparse, sys\n"
        "import redline.cli.audit as audit\n"
        "p = argparse.ArgumentParser()\n"
        "audit.register(p, 'audit')\n"
        f"args = p.parse_args(['verify', {str(tmp_path / 'x')!r}, '--key', {str(vkey)!r}])\n"
        "args.handler(args)\n"
        # cli.main pulls UsageError from cli.common, which reads Settings (stdlib only).
        "ok = ('redline', 'redline.errors', 'redline.clock', 'redline.cli', 'redline.cli.main',\n"
        "      'redline.cli.audit', 'redline.cli.common', 'redline.settings')\n"
        "bad = [n for n in sys.modules if n.startswith('redline') and n not in ok\n"
        "       and not n.startswith('redline.audit')]\n"
        "third = [n for n in ('psycopg', 'httpx', 'starlette', 'numpy') if n in sys.modules]\n"
        "print(bad, third)\n"
    )
    check = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert check.stdout.strip().endswith("[] []")
