"""Export + offline verification, and every tampering the verifier must catch (CLI exit codes)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from redline.audit import (
    AuditLog,
    LogConfig,
    NoteSigner,
    SqliteLogStore,
    export_tiles,
    generate_signer,
    verify_export,
)
from redline.audit.tiles import decode_bundle, encode_bundle, tile_path
from redline.cli.main import main

FAST = LogConfig(batch_window=0.005, checkpoint_interval=3600)
SIZE = 600


async def _build(data_dir: Path, signer: NoteSigner, counts: tuple[int, ...]) -> list[bytes]:
    """Append ``counts`` batches, checkpointing after each; return the checkpoints and a receipt."""
    log = await AuditLog.open(SqliteLogStore.in_data_dir(data_dir), signer, config=FAST)
    notes = []
    n = 0
    for count in counts:
        await asyncio.gather(
            *(
                log.append("request_decision", {"n": n + i}, request_id=f"r{n + i}")
                for i in range(count)
            )
        )
        n += count
        notes.append(await log.checkpoint())
    notes.append((await log.receipt_for_request(f"r{min(300, n - 1)}")).encode())
    await log.close()
    return notes


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("world")
    signer = generate_signer("audit.test/redline")
    notes = asyncio.run(_build(base / "data", signer, (100, 300, SIZE - 400)))
    (base / "key.vkey").write_text(signer.verifier.encode() + "\n")
    (base / "key.skey").write_text(signer.encode() + "\n")
    for i, note in enumerate(notes[:-1]):
        (base / f"cp{i}").write_bytes(note)
    (base / "receipt.tlog-proof").write_bytes(notes[-1])
    store = SqliteLogStore.in_data_dir(base / "data")
    store.open()
    export_tiles(store, base / "export")
    store.close()
    # A fork: same key and origin, different history, signed at size 100.
    asyncio.run(_build(base / "forkdata", signer, (99, 1)))
    shutil.copy(base / "forkdata" / "audit.db", base / "fork.db")
    fork_store = SqliteLogStore(base / "fork.db")
    fork_store.open()
    fork_note = fork_store.latest_checkpoint()
    fork_store.close()
    assert fork_note is not None
    (base / "forkcp").write_bytes(fork_note)
    return {"base": base}


def _copy(world: dict[str, Path], tmp_path: Path) -> Path:
    dest = tmp_path / "export"
    shutil.copytree(world["base"] / "export", dest)
    return dest


def _verify(world: dict[str, Path], export: Path, *extra: str) -> int:
    key = str(world["base"] / "key.vkey")
    return main(["audit", "verify", str(export), "--key", key, *extra])


def test_clean_export_verifies_with_history_and_receipt(
    world: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = world["base"]
    code = _verify(
        world,
        base / "export",
        "--checkpoint",
        str(base / "cp0"),
        "--checkpoint",
        str(base / "cp1"),
        "--receipt",
        str(base / "receipt.tlog-proof"),
        "--json",
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["size"] == SIZE
    assert report["entries_checked"] == SIZE
    assert report["checkpoints_checked"] == 3
    assert report["receipts_checked"] == 1


def test_flipped_byte_in_an_entry(world: dict[str, Path], tmp_path: Path) -> None:
    export = _copy(world, tmp_path)
    bundle = export / tile_path("entries", 1)
    data = bytearray(bundle.read_bytes())
    data[40] ^= 0x01
    bundle.write_bytes(bytes(data))
    assert _verify(world, export) == 1


@pytest.mark.parametrize("tile", [(0, 0, 256), (0, 2, 88), (1, 0, 2)])
def test_flipped_byte_in_a_tile(
    world: dict[str, Path], tmp_path: Path, tile: tuple[int, int, int]
) -> None:
    export = _copy(world, tmp_path)
    path = export / tile_path(*tile)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x80
    path.write_bytes(bytes(data))
    assert _verify(world, export) == 1


@pytest.mark.parametrize("change", ["drop", "reorder"])
def test_dropped_or_reordered_entry(world: dict[str, Path], tmp_path: Path, change: str) -> None:
    export = _copy(world, tmp_path)
    bundle = export / tile_path("entries", 0)
    entries = decode_bundle(bundle.read_bytes(), 256)
    if change == "drop":
        del entries[7]
    else:
        entries[7], entries[8] = entries[8], entries[7]
    bundle.write_bytes(encode_bundle(entries))
    assert _verify(world, export) == 1


def test_missing_and_extra_tiles(world: dict[str, Path], tmp_path: Path) -> None:
    export = _copy(world, tmp_path)
    (export / tile_path(0, 1)).unlink()
    assert _verify(world, export) == 1
    export2 = _copy(world, tmp_path / "b")
    (export2 / tile_path(0, 9)).parent.mkdir(parents=True, exist_ok=True)
    (export2 / tile_path(0, 9)).write_bytes(b"\x00" * 8192)
    assert _verify(world, export2) == 1


def _receipt_variant(world: dict[str, Path], tmp_path: Path, change: str) -> Path:
    data = (world["base"] / "receipt.tlog-proof").read_bytes()
    head, _, rest = data.partition(b"\n\n")
    lines = head.split(b"\n")
    if change == "truncate":
        lines = lines[:-1]
    else:
        lines.append(lines[-1])
    out = tmp_path / f"{change}.tlog-proof"
    out.write_bytes(b"\n".join(lines) + b"\n\n" + rest)
    return out


@pytest.mark.parametrize("change", ["truncate", "extend"])
def test_truncated_or_extended_receipt(world: dict[str, Path], tmp_path: Path, change: str) -> None:
    bad = _receipt_variant(world, tmp_path, change)
    assert _verify(world, world["base"] / "export", "--receipt", str(bad)) == 1


def test_resigned_with_another_key(world: dict[str, Path], tmp_path: Path) -> None:
    export = _copy(world, tmp_path)
    note = (export / "checkpoint").read_bytes()
    text = note[: note.rfind(b"\n\n") + 1].decode()
    from redline.audit import sign_note

    impostor = generate_signer("audit.test/redline")
    (export / "checkpoint").write_bytes(sign_note(text, [impostor]))
    assert _verify(world, export) == 1


def test_duplicated_signature_line(world: dict[str, Path], tmp_path: Path) -> None:
    export = _copy(world, tmp_path)
    note = (export / "checkpoint").read_bytes()
    sig = note[note.rfind(b"\n\n") + 2 :]
    (export / "checkpoint").write_bytes(note + sig)
    assert _verify(world, export) == 1


def test_fork_evidence_exit_code(
    world: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = world["base"]
    code = _verify(world, base / "export", "--checkpoint", str(base / "forkcp"), "--json")
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert report["fork"] is True


def test_usage_errors(world: dict[str, Path], tmp_path: Path) -> None:
    assert (
        main(
            ["audit", "verify", str(tmp_path / "nothing"), "--key", str(world["base"] / "key.vkey")]
        )
        == 2
    )
    assert main(["audit", "verify", str(world["base"] / "export"), "--key", "garbage+1+2"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["audit", "verify"])
    assert exc.value.code == 2


def test_library_report_matches(world: dict[str, Path]) -> None:
    base = world["base"]
    signer = NoteSigner.parse((base / "key.skey").read_text())
    report = verify_export(
        base / "export", [signer.verifier], previous=[(base / "cp1").read_bytes()]
    )
    assert report.valid
    assert report.exit_code == 0
    assert report.checkpoints_checked == 1


def test_live_cli_commands(
    world: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = world["base"]
    data = str(base / "data")
    assert main(["audit", "prove", "--request-id", "r42", "--data-dir", data]) == 0
    receipt = capsys.readouterr().out
    assert receipt.startswith("c2sp.org/tlog-proof@v1\nindex 42\n")
    (tmp_path / "r.tlog-proof").write_text(receipt)
    assert _verify(world, base / "export", "--receipt", str(tmp_path / "r.tlog-proof")) == 0
    capsys.readouterr()
    assert (
        main(["audit", "consistency", str(base / "cp0"), "600", "--data-dir", data, "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["old"] == 100
    assert out["new"] == SIZE
    assert len(out["proof"]) > 0
    assert (
        main(["audit", "checkpoint", "--signing-key", str(base / "key.skey"), "--data-dir", data])
        == 0
    )
    assert capsys.readouterr().out.startswith("audit.test/redline\n600\n")
    assert main(["audit", "export", str(tmp_path / "exp2"), "--data-dir", data]) == 0
    assert _verify(world, tmp_path / "exp2") == 0
    assert main(["audit", "prove", "--index", "0", "--data-dir", str(tmp_path / "none")]) == 2
    assert main(["audit", "consistency", "9", "3", "--data-dir", data]) == 2


def test_keygen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    skey, vkey = tmp_path / "a.skey", tmp_path / "a.vkey"
    assert (
        main(["audit", "keygen", "audit.example/x", "--skey", str(skey), "--vkey", str(vkey)]) == 0
    )
    assert capsys.readouterr().out.strip() == vkey.read_text().strip()
    assert NoteSigner.parse(skey.read_text()).verifier.encode() == vkey.read_text().strip()
    assert skey.stat().st_mode & 0o077 == 0
    assert (
        main(["audit", "keygen", "audit.example/x", "--skey", str(skey), "--vkey", str(vkey)]) == 2
    )
